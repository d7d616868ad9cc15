import 'reflect-metadata';
import { loadConsumerConfig, loadOrExit } from '@ulo/config';
import { startConsumerApp } from '@ulo/messaging';
import { RefreshTokenRevokerModule } from './refresh-token-revoker.module';

const config = loadOrExit(loadConsumerConfig);
void startConsumerApp('refresh-token-revoker', RefreshTokenRevokerModule.forRoot(config), config);
