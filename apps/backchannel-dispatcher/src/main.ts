import 'reflect-metadata';
import { loadConfigOrExit } from '@ulo/config';
import { startConsumerApp } from '@ulo/messaging';
import { BackchannelDispatcherModule } from './backchannel-dispatcher.module';

const config = loadConfigOrExit();
void startConsumerApp('backchannel-dispatcher', BackchannelDispatcherModule.forRoot(config), config);
