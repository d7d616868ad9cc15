import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClientEntity, ConnectionEntity } from '@ulo/persistence';
import { ManagementTokenGuard } from './auth/management-token.guard';
import { ClientsController } from './clients/clients.controller';
import { ClientsService } from './clients/clients.service';
import { ConnectionsController } from './connections/connections.controller';
import { ConnectionsService } from './connections/connections.service';

/** SPEC §6: the Management API under /api/v2, every route behind the management token guard. */
@Module({
  imports: [TypeOrmModule.forFeature([ConnectionEntity, ClientEntity])],
  controllers: [ConnectionsController, ClientsController],
  providers: [ManagementTokenGuard, ConnectionsService, ClientsService],
})
export class ManagementModule {}
