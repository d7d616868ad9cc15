import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { CheckpointQuery } from '../paging/checkpoint-page';
import { CreateLogStreamDto, UpdateLogStreamDto } from './log-stream.dto';
import { LogStreamsService } from './log-streams.service';

@ApiTags('log-streams')
@ManagementApi()
@Controller('api/v2/log-streams')
export class LogStreamsController {
  constructor(private readonly streams: LogStreamsService) {}

  @Post()
  create(@Body() dto: CreateLogStreamDto) {
    return this.streams.create(dto);
  }

  @Get()
  list(@Query() query: CheckpointQuery) {
    return this.streams.list(query);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.streams.get(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdateLogStreamDto) {
    return this.streams.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.streams.remove(id);
  }
}
