import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequestRevocation } from '../../logouts/request-revocation.usecase';
import { ManagementApi } from '../auth/management-api.decorator';
import { CreateRefreshTokenDto } from './refresh-token.dto';
import { RefreshTokensService } from './refresh-tokens.service';

@ApiTags('refresh-tokens')
@ManagementApi()
@Controller('api/v2/refresh-tokens')
export class RefreshTokensController {
  constructor(
    private readonly tokens: RefreshTokensService,
    private readonly requestRevocation: RequestRevocation,
  ) {}

  @Post()
  create(@Body() dto: CreateRefreshTokenDto) {
    return this.tokens.create(dto);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.tokens.get(id);
  }

  /** 202: revoked through the logout pipeline, initiator `session-revoked`. */
  @Delete(':id')
  @HttpCode(202)
  async revoke(@Param('id') id: string): Promise<void> {
    const token = await this.tokens.get(id);
    await this.requestRevocation.execute({
      userId: token.user_id,
      sessions: { mode: 'none' },
      refreshTokens: { mode: 'one', id: token.id },
    });
  }
}
