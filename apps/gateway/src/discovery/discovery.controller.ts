import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { SIGNING_ALGORITHMS } from '@ulo/contracts';
import { SigningKeys } from '../signing/signing-keys.provider';

/**
 * SPEC §4: OpenID Provider metadata as far as back-channel logout needs it. The login endpoints
 * belong to the identity platform's login side; they are listed because relying-party libraries
 * refuse a discovery document without them.
 */
@ApiTags('discovery')
@Controller('.well-known')
export class DiscoveryController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly keys: SigningKeys,
  ) {}

  @Get('openid-configuration')
  @Header('Cache-Control', 'public, max-age=300')
  openidConfiguration() {
    const base = this.config.publicBaseUrl;
    return {
      issuer: `${base}/`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/oauth/token`,
      end_session_endpoint: `${base}/oidc/logout`,
      response_types_supported: ['code', 'id_token', 'code id_token'],
      subject_types_supported: ['public'],
      // The algorithms of our logout tokens (RP libraries check theirs against this list).
      id_token_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'sid'],
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      global_token_revocation_endpoint: `${base}/oauth/global-token-revocation/connection/{connectionName}`,
      global_token_revocation_endpoint_auth_methods_supported: ['global-token-revocation+jwt'],
    };
  }

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=60')
  jwks() {
    return this.keys.jwks();
  }
}
