import { Controller, HttpCode, Logger, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AcceptLogout } from './accept-logout.usecase';
import { bearerChallenge, GtrException, invalidRequest } from './gtr.exception';
import { RevocationAttempt } from './revocation-attempt';
import { recordRevocationAnswer } from './revocation.metrics';
import { sourceOf } from './source-address';

const BODY_LIMIT_BYTES = 16 * 1024;

/** SPEC §2: the endpoint Okta calls. Transport concerns here; every decision in AcceptLogout. */
@ApiTags('global-token-revocation')
@Controller('oauth/global-token-revocation/connection')
export class GlobalTokenRevocationController {
  private readonly log = new Logger(GlobalTokenRevocationController.name);

  constructor(private readonly acceptLogout: AcceptLogout) {}

  @Post(':connectionName')
  @HttpCode(204)
  @ApiOperation({ summary: 'Global Token Revocation (draft-parecki-oauth-global-token-revocation)' })
  async revoke(@Param('connectionName') connectionName: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const startedAt = process.hrtime.bigint();
    // Counted by the status that left, whoever wrote it (an exception filter included).
    res.once('finish', () => recordRevocationAnswer(res.statusCode, startedAt));
    const attempt: RevocationAttempt = {
      connectionName,
      source: sourceOf(req.ip),
      origin: { ip: req.ip, user_agent: req.get('user-agent'), hostname: req.hostname },
      bearer: bearerOf(req),
      readBody: () => readJsonBody(req),
      verified: false,
    };
    try {
      const { requestId, userIds } = await this.acceptLogout.execute(attempt);
      // Per request at debug: the hot path writes no log line at info (a storm would be a log flood).
      this.log.debug({ requestId, connection: connectionName, users: userIds.length }, 'logout accepted');
      res.status(204).end();
    } catch (err) {
      if (!(err instanceof GtrException)) {
        this.log.error(err, 'revocation request failed unexpectedly');
        res.status(500).json({ error: 'server_error', error_description: 'unexpected error' });
        return;
      }
      // Logged (or counted) before answering, so that whoever saw the answer can also find it in the log.
      await this.acceptLogout.recordRejection(attempt, err);
      if (err.status === 401) res.setHeader('WWW-Authenticate', bearerChallenge(err.description));
      if (err.retryAfterSeconds) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      res.setHeader('Cache-Control', 'no-store');
      res.status(err.status).json({ error: err.error, error_description: err.description });
    }
  }
}

function bearerOf(req: Request): string | null {
  const match = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(req.get('authorization') ?? '');
  return match ? match[1] : null;
}

/** Reads the body ourselves: JSON only (415), at most 16 KiB (413), well-formed (400). */
async function readJsonBody(req: Request): Promise<unknown> {
  const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new GtrException(415, 'invalid_request', 'Content-Type must be application/json');
  }
  const declared = Number(req.get('content-length') ?? 0);
  if (declared > BODY_LIMIT_BYTES) throw new GtrException(413, 'invalid_request', 'request body exceeds 16 KiB');
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > BODY_LIMIT_BYTES) throw new GtrException(413, 'invalid_request', 'request body exceeds 16 KiB');
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof GtrException) throw err;
    throw invalidRequest('the request body could not be read');
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw invalidRequest('the request body is not valid JSON');
  }
}
