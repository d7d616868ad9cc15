import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { CreateRefreshTokenDto } from './refresh-token.dto';
import { RefreshTokenRevocations } from './refresh-token-revocations';
import { RefreshTokensService } from './refresh-tokens.service';

@ApiTags('refresh-tokens')
@ManagementApi()
@Controller('api/v2/refresh-tokens')
export class RefreshTokensController {
  constructor(
    private readonly tokens: RefreshTokensService,
    private readonly revocations: RefreshTokenRevocations,
  ) {}

  @Post()
  create(@Body() dto: CreateRefreshTokenDto) {
    return this.tokens.create(dto);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.tokens.get(id);
  }

  @Delete(':id')
  @HttpCode(202)
  async revoke(@Param('id') id: string): Promise<void> {
    const token = await this.tokens.get(id);
    await this.revocations.revokeOne(token.id);
  }
}
