import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import type { StoredSsfOptions } from '@ulo/persistence';
import { SealedFor, SealedSecrets } from '@ulo/security';

/**
 * Opens a connection's sealed SSF secrets (SPEC §9), each bound to its connection, each key
 * derivation once per process (SealedSecrets). A value that does not open (sealed under another
 * SIGNING_KEY_ENCRYPTION_SECRET, or altered) throws SecretEnvelopeException.
 */
@Injectable()
export class SsfSecrets {
  private readonly sealed: SealedSecrets;

  constructor(@Inject(APP_CONFIG) config: GatewayConfig) {
    this.sealed = new SealedSecrets(config.security.signingKeyEncryptionSecret);
  }

  /** The Authorization header value the transmitter pushes with. */
  pushAuthorization(connectionId: string, ssf: StoredSsfOptions): Promise<string> {
    return this.sealed.open(ssf.push_authorization_sealed, SealedFor.connectionSsfPushAuthorization(connectionId));
  }

  /** The OAuth client credentials of stream management, or null when the connection has none. */
  async clientCredentials(connectionId: string, ssf: StoredSsfOptions): Promise<{ clientId: string; clientSecret: string } | null> {
    if (ssf.client_id === undefined || ssf.client_secret_sealed === undefined) return null;
    const clientSecret = await this.sealed.open(ssf.client_secret_sealed, SealedFor.connectionSsfClientSecret(connectionId));
    return { clientId: ssf.client_id, clientSecret };
  }
}
