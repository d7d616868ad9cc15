import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { CreateConnectionDto, ListConnectionsQuery, UpdateConnectionDto } from './connection.dto';
import { ConnectionsService } from './connections.service';


@ApiTags('connections')
@ManagementApi()
@Controller('api/v2/connections')
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Post()
  create(@Body() dto: CreateConnectionDto) {
    return this.connections.create(dto);
  }

  @Get()
  list(@Query() query: ListConnectionsQuery) {
    return this.connections.list(query);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.connections.get(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdateConnectionDto) {
    return this.connections.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.connections.remove(id);
  }
}
