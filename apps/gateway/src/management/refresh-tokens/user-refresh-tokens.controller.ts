import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequestRevocation } from '../../logouts/request-revocation.usecase';
import { ManagementApi } from '../auth/management-api.decorator';
import { CheckpointQuery } from '../paging/checkpoint-page';
import { UsersService } from '../users/users.service';
import { RefreshTokensService } from './refresh-tokens.service';

@ApiTags('refresh-tokens')
@ManagementApi()
@Controller('api/v2/users/:id/refresh-tokens')
export class UserRefreshTokensController {
  constructor(
    private readonly tokens: RefreshTokensService,
    private readonly users: UsersService,
    private readonly requestRevocation: RequestRevocation,
  ) {}

  /** The user's refresh tokens that are not revoked. */
  @Get()
  list(@Param('id') userId: string, @Query() query: CheckpointQuery) {
    return this.tokens.listOf(userId, query);
  }

  /** Through the logout pipeline, initiator `session-revoked`. */
  @Delete()
  @HttpCode(202)
  async revokeAll(@Param('id') userId: string): Promise<void> {
    await this.users.assertExists(userId);
    await this.requestRevocation.execute({ userId, sessions: { mode: 'none' }, refreshTokens: { mode: 'all' } });
  }
}
