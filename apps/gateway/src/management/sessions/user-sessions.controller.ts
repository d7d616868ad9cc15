import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { CheckpointQuery } from '../paging/checkpoint-page';
import { SessionRevocations } from './session-revocations';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@ManagementApi()
@Controller('api/v2/users/:id/sessions')
export class UserSessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly revocations: SessionRevocations,
  ) {}

  /** The user's active sessions. */
  @Get()
  list(@Param('id') userId: string, @Query() query: CheckpointQuery) {
    return this.sessions.listOf(userId, query);
  }

  @Delete()
  @HttpCode(202)
  async revokeAll(@Param('id') userId: string): Promise<void> {
    await this.sessions.assertUserExists(userId);
    await this.revocations.revokeAllOf(userId);
  }
}
