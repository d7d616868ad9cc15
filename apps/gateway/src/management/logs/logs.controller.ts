import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ManagementTokenGuard } from '../auth/management-token.guard';
import { ListLogsQuery } from './log-query.dto';
import { LogsService } from './logs.service';

@ApiTags('logs')
@ApiBearerAuth()
@UseGuards(ManagementTokenGuard)
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
