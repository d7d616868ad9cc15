import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequestRevocation } from '../../logouts/request-revocation.usecase';
import { ManagementApi } from '../auth/management-api.decorator';
import { CreateSessionDto } from './session.dto';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@ManagementApi()
@Controller('api/v2/sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly requestRevocation: RequestRevocation,
  ) {}

  @Post()
  create(@Body() dto: CreateSessionDto) {
    return this.sessions.create(dto);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.sessions.get(id);
  }

  /**
   * 202: the revocation is accepted; its fan-out (back-channel logout) follows. It takes the
   * logout pipeline, initiator `session-revoked`.
   */
  @Delete(':id')
  @HttpCode(202)
  async revoke(@Param('id') id: string): Promise<void> {
    const session = await this.sessions.get(id);
    await this.requestRevocation.execute({
      userId: session.user_id,
      sessions: { mode: 'one', id: session.id },
      refreshTokens: { mode: 'none' },
    });
  }
}
