import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Who called, as the guard established it: the token is never kept, only a fingerprint of it. */
export interface ManagementCaller {
  /** The first 16 hex digits of the token's SHA-256. */
  tokenFingerprint: string;
}

export type ManagementRequest = Request & { managementCaller?: ManagementCaller };

/**
 * SPEC §6: `Authorization: Bearer <token>` with a token from MANAGEMENT_API_TOKENS. Tokens are
 * compared as SHA-256 digests in constant time; with none configured every call is refused.
 */
@Injectable()
export class ManagementTokenGuard implements CanActivate {
  private readonly accepted: Buffer[];

  constructor(@Inject(APP_CONFIG) config: GatewayConfig) {
    this.accepted = config.management.tokens.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ManagementRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new UnauthorizedException('Missing bearer token');
    const presented = digest(match[1]);
    let ok = false;
    for (const token of this.accepted) ok = timingSafeEqual(token, presented) || ok;
    if (!ok) throw new UnauthorizedException('Invalid token');
    request.managementCaller = { tokenFingerprint: presented.toString('hex').slice(0, 16) };
    return true;
  }
}
