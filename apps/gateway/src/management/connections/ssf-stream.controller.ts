import { Controller, Delete, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ManagementApi } from '../auth/management-api.decorator';
import { SsfStreamsService, type SsfStreamView } from './ssf-streams.service';

/** SPEC §9, SSF 1.0 §8: a connection's stream at its SSF transmitter, managed by this service as the receiver. */
@ApiTags('connections')
@ManagementApi()
@Controller('api/v2/connections/:id/ssf-stream')
export class SsfStreamController {
  constructor(private readonly streams: SsfStreamsService) {}

  @Post()
  @ApiOperation({ summary: 'Create (201) or update (200) the stream at the transmitter: push to this connection, CAEP session-revoked and credential-change' })
  async createOrUpdate(@Param('id') id: string, @Res({ passthrough: true }) res: Response): Promise<SsfStreamView> {
    const { created, view } = await this.streams.createOrUpdate(id);
    res.status(created ? 201 : 200);
    return view;
  }

  @Get()
  @ApiOperation({ summary: 'The stream and its status as the transmitter reports them, and what it pushed about the stream' })
  get(@Param('id') id: string): Promise<SsfStreamView> {
    return this.streams.get(id);
  }

  @Post('verify')
  @HttpCode(202)
  @ApiOperation({ summary: 'Ask the transmitter for a verification event carrying a new state; GET shows it once received' })
  verify(@Param('id') id: string): Promise<{ stream_id: string; state: string }> {
    return this.streams.verify(id);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the stream at the transmitter and forget it' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.streams.remove(id);
  }
}
