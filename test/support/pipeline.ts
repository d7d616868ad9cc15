import { INestMicroservice } from '@nestjs/common';
import { ConsumerConfig } from '@ulo/config';
import { startConsumerApp } from '@ulo/messaging';
import { dispatcherTestConfig, testConfig } from '@ulo/testing';
import { RunningGateway, startGateway } from '../../apps/gateway/test/gateway.harness';
import { SessionTerminatorModule } from '../../apps/session-terminator/src/session-terminator.module';
import { RefreshTokenRevokerModule } from '../../apps/refresh-token-revoker/src/refresh-token-revoker.module';
import { BackchannelDispatcherModule } from '../../apps/backchannel-dispatcher/src/backchannel-dispatcher.module';

export interface RunningPipeline {
  gw: RunningGateway;
  config: ConsumerConfig;
  consumers: Map<string, INestMicroservice>;
  close(): Promise<void>;
}

/**
 * The gateway and the logout consumers, each a real Nest application on real sockets (HTTP,
 * PostgreSQL, Kafka), in this process. Every pipeline gets its own topic prefix and so its own
 * topics and consumer groups.
 */
export async function startPipeline(overrides: Record<string, string> = {}): Promise<RunningPipeline> {
  const prefix = `${testConfig().kafka.topicPrefix}${Math.random().toString(36).slice(2, 8)}.`;
  const env = { KAFKA_TOPIC_PREFIX: prefix, ...overrides };
  const gw = await startGateway(env);
  const config = testConfig(env);
  const dispatcherConfig = dispatcherTestConfig(env);
  const consumers = new Map<string, INestMicroservice>();
  consumers.set('session-terminator', (await startConsumerApp('session-terminator', SessionTerminatorModule.forRoot(config), config)).app);
  consumers.set(
    'refresh-token-revoker',
    (await startConsumerApp('refresh-token-revoker', RefreshTokenRevokerModule.forRoot(config), config)).app,
  );
  consumers.set(
    'backchannel-dispatcher',
    (await startConsumerApp('backchannel-dispatcher', BackchannelDispatcherModule.forRoot(dispatcherConfig), dispatcherConfig)).app,
  );
  return {
    gw,
    config,
    consumers,
    async close() {
      for (const app of consumers.values()) await app.close();
      await gw.close();
    },
  };
}
