import 'reflect-metadata';
import { loadConfigOrExit } from '@ulo/config';
import { createGateway } from './gateway.app';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createGateway(config);
  await app.listen(config.http.port, '0.0.0.0');
}

void bootstrap();
