import 'reflect-metadata';
import { loadConsumerConfig, loadOrExit } from '@ulo/config';
import { startConsumerApp } from '@ulo/messaging';
import { SessionTerminatorModule } from './session-terminator.module';

const config = loadOrExit(loadConsumerConfig);
void startConsumerApp('session-terminator', SessionTerminatorModule.forRoot(config), config);
