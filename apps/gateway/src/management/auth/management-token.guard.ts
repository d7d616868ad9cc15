import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { APP_CONFIG, AppConfig } from '@ulo/config';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * SPEC §6: `Authorization: Bearer <token>` with a token from MANAGEMENT_API_TOKENS. Tokens are
 * compared as SHA-256 digests in constant time; with none configured every call is refused.
 */
@Injectable()
export class ManagementTokenGuard implements CanActivate {
  private readonly accepted: Buffer[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.accepted = config.management.tokens.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedException('Missing bearer token');
    const presented = digest(match[1]);
    let ok = false;
    for (const token of this.accepted) ok = timingSafeEqual(token, presented) || ok;
    if (!ok) throw new UnauthorizedException('Invalid token');
    return true;
  }
}
