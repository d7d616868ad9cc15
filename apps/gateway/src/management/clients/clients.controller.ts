import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { CheckpointQuery } from '../paging/checkpoint-page';
import { CreateClientDto, UpdateClientDto } from './client.dto';
import { ClientsService } from './clients.service';

@ApiTags('clients')
@ManagementApi()
@Controller('api/v2/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Post()
  create(@Body() dto: CreateClientDto) {
    return this.clients.create(dto);
  }

  @Get()
  list(@Query() query: CheckpointQuery) {
    return this.clients.list(query);
  }

  @Get(':client_id')
  get(@Param('client_id') clientId: string) {
    return this.clients.get(clientId);
  }

  @Patch(':client_id')
  update(@Param('client_id') clientId: string, @Body() dto: UpdateClientDto) {
    return this.clients.update(clientId, dto);
  }

  @Delete(':client_id')
  @HttpCode(204)
  async remove(@Param('client_id') clientId: string): Promise<void> {
    await this.clients.remove(clientId);
  }
}
