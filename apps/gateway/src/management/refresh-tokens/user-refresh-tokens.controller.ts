import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { CheckpointQuery } from '../paging/checkpoint-page';
import { RefreshTokenRevocations } from './refresh-token-revocations';
import { RefreshTokensService } from './refresh-tokens.service';

@ApiTags('refresh-tokens')
@ManagementApi()
@Controller('api/v2/users/:id/refresh-tokens')
export class UserRefreshTokensController {
  constructor(
    private readonly tokens: RefreshTokensService,
    private readonly revocations: RefreshTokenRevocations,
  ) {}

  /** The user's refresh tokens that are not revoked. */
  @Get()
  list(@Param('id') userId: string, @Query() query: CheckpointQuery) {
    return this.tokens.listOf(userId, query);
  }

  @Delete()
  @HttpCode(202)
  async revokeAll(@Param('id') userId: string): Promise<void> {
    await this.tokens.assertUserExists(userId);
    await this.revocations.revokeAllOf(userId);
  }
}
