import 'reflect-metadata';
import { loadConfigOrExit } from '@ulo/config';
import { startConsumerApp } from '@ulo/messaging';
import { LogStreamerModule } from './log-streamer.module';

const config = loadConfigOrExit();
void startConsumerApp('log-streamer', LogStreamerModule.forRoot(config), config);
