import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequestRevocation } from '../../logouts/request-revocation.usecase';
import { ManagementApi } from '../auth/management-api.decorator';
import { CheckpointQuery } from '../paging/checkpoint-page';
import { UsersService } from '../users/users.service';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@ManagementApi()
@Controller('api/v2/users/:id/sessions')
export class UserSessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly requestRevocation: RequestRevocation,
  ) {}

  /** The user's active sessions. */
  @Get()
  list(@Param('id') userId: string, @Query() query: CheckpointQuery) {
    return this.sessions.listOf(userId, query);
  }

  /** Through the logout pipeline, initiator `session-revoked`. */
  @Delete()
  @HttpCode(202)
  async revokeAll(@Param('id') userId: string): Promise<void> {
    await this.users.assertExists(userId);
    await this.requestRevocation.execute({ userId, sessions: { mode: 'all' }, refreshTokens: { mode: 'none' } });
  }
}
