import 'reflect-metadata';
import { loadGatewayConfig, loadOrExit } from '@ulo/config';
import { createGateway } from './gateway.app';

async function bootstrap(): Promise<void> {
  const config = loadOrExit(loadGatewayConfig);
  const app = await createGateway(config);
  await app.listen(config.http.port, '0.0.0.0');
}

void bootstrap();
