import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { ListLogsQuery } from './log-query.dto';
import { LogsService } from './logs.service';

@ApiTags('logs')
@ManagementApi()
@Controller('api/v2/logs')
export class LogsController {
  constructor(private readonly logs: LogsService) {}

  @Get()
  list(@Query() query: ListLogsQuery) {
    return this.logs.list(query);
  }

  @Get(':log_id')
  get(@Param('log_id') logId: string) {
    return this.logs.get(logId);
  }
}
