import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig, signingSecretOf } from '@ulo/config';
import { DatabaseConnection } from '@ulo/persistence';
import { SigningKeyStore } from '@ulo/security';

/** The gateway's view of the signing keys: it creates the first one at start-up and serves the JWKS. */
@Injectable()
export class SigningKeys extends SigningKeyStore implements OnApplicationBootstrap {
  constructor(
    dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly database: DatabaseConnection,
  ) {
    super(dataSource, signingSecretOf(config));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.database.startupTask('creating the first signing key', () => this.ensureCurrent());
  }
}
