import 'reflect-metadata';
import { loadBackchannelDispatcherConfig, loadOrExit } from '@ulo/config';
import { startConsumerApp } from '@ulo/messaging';
import { BackchannelDispatcherModule } from './backchannel-dispatcher.module';

const config = loadOrExit(loadBackchannelDispatcherConfig);
void startConsumerApp('backchannel-dispatcher', BackchannelDispatcherModule.forRoot(config), config);
