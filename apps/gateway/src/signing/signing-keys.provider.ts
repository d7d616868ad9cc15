import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { DatabaseConnection, SigningKeyRepository } from '@ulo/persistence';
import { SigningKeyStore } from '@ulo/security';

/** The gateway's view of the signing keys: it creates the first one at start-up and serves the JWKS. */
@Injectable()
export class SigningKeys extends SigningKeyStore implements OnApplicationBootstrap {
  constructor(
    keys: SigningKeyRepository,
    @Inject(APP_CONFIG) config: GatewayConfig,
    private readonly database: DatabaseConnection,
  ) {
    super(keys, config.security.signingKeyEncryptionSecret);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.database.startupTask('creating the first signing key', () => this.ensureCurrent());
  }
}
