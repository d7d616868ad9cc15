import 'reflect-metadata';
import { loadLogStreamerConfig, loadOrExit } from '@ulo/config';
import { startConsumerApp } from '@ulo/messaging';
import { LogStreamerModule } from './log-streamer.module';
import { LogStreamerMetrics } from './metrics/log-streamer.metrics';

const config = loadOrExit(loadLogStreamerConfig);
void startConsumerApp('log-streamer', LogStreamerModule.forRoot(config), config, {
  metricsOf: (app) => [app.get(LogStreamerMetrics).registry],
});
