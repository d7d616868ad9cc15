import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { BackchannelDispatcherConfig, ConfigModule } from '@ulo/config';
import { MessagingModule } from '@ulo/messaging';
import { PersistenceModule } from '@ulo/persistence';
import { SessionsTerminatedHandler } from './handlers/sessions-terminated.handler';
import { PlanDeliveries } from './plan-deliveries/plan-deliveries.usecase';
import { DeliverLogoutToken } from './deliver-logout-tokens/deliver-logout-token.usecase';
import { DeliveryScheduler } from './deliver-logout-tokens/delivery-scheduler';
import { ClientRepository } from './clients/client.repository';

@Module({})
export class BackchannelDispatcherModule {
  static forRoot(config: BackchannelDispatcherConfig): DynamicModule {
    return {
      module: BackchannelDispatcherModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({ pinoHttp: { level: config.logLevel } }),
        PersistenceModule.forRoot(),
        MessagingModule.forRoot('backchannel-dispatcher'),
      ],
      controllers: [SessionsTerminatedHandler],
      providers: [ClientRepository, PlanDeliveries, DeliverLogoutToken, DeliveryScheduler],
    };
  }
}
