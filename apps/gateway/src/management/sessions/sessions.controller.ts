import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { CreateSessionDto } from './session.dto';
import { SessionRevocations } from './session-revocations';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@ManagementApi()
@Controller('api/v2/sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly revocations: SessionRevocations,
  ) {}

  @Post()
  create(@Body() dto: CreateSessionDto) {
    return this.sessions.create(dto);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.sessions.get(id);
  }

  /** 202: the revocation is accepted; its fan-out (back-channel logout) follows. */
  @Delete(':id')
  @HttpCode(202)
  async revoke(@Param('id') id: string): Promise<void> {
    const session = await this.sessions.get(id);
    await this.revocations.revokeOne(session.id);
  }
}
