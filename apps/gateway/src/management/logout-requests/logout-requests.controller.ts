import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { ListLogoutRequestsQuery } from './logout-request.dto';
import { LogoutRequestsService } from './logout-requests.service';

/** SPEC §6: what happened to a logout, from its acceptance through each step to each application. */
@ApiTags('logout-requests')
@ManagementApi()
@Controller('api/v2/logout-requests')
export class LogoutRequestsController {
  constructor(private readonly requests: LogoutRequestsService) {}

  @Get()
  list(@Query() query: ListLogoutRequestsQuery) {
    return this.requests.list(query);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.requests.get(id);
  }
}
