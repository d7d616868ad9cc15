import 'reflect-metadata';
import { loadConfigOrExit } from '@ulo/config';
import { startConsumerApp } from '@ulo/messaging';
import { RefreshTokenRevokerModule } from './refresh-token-revoker.module';

const config = loadConfigOrExit();
void startConsumerApp('refresh-token-revoker', RefreshTokenRevokerModule.forRoot(config), config);
