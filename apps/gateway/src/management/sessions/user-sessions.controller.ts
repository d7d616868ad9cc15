import { Controller, Delete, Get, HttpCode, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ManagementTokenGuard } from '../auth/management-token.guard';
import { CheckpointQuery } from '../paging/checkpoint-page';
import { SessionRevocations } from './session-revocations';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@ApiBearerAuth()
@UseGuards(ManagementTokenGuard)
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
