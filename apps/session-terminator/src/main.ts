import 'reflect-metadata';
import { loadConfigOrExit } from '@ulo/config';
import { startConsumerApp } from '@ulo/messaging';
import { SessionTerminatorModule } from './session-terminator.module';

const config = loadConfigOrExit();
void startConsumerApp('session-terminator', SessionTerminatorModule.forRoot(config), config);
