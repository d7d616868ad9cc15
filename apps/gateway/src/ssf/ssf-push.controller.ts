import { Controller, HttpCode, Logger, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { sourceOf } from '../revocation/source-address';
import { AcceptSecurityEvent } from './accept-security-event.usecase';
import { SetDelivery } from './set-delivery';
import { SsfException, setInvalid } from './ssf.exception';

/** A SET is a few KiB (Okta's are under 2); nothing a transmitter sends comes near this. */
const SET_LIMIT_BYTES = 32 * 1024;

/**
 * SPEC §9, RFC 8935: where a connection's SSF transmitter pushes Security Event Tokens. Transport
 * concerns here (the media type, the body); every decision in AcceptSecurityEvent.
 */
@ApiTags('shared-signals')
@Controller('ssf/push/connection')
export class SsfPushController {
  private readonly log = new Logger(SsfPushController.name);

  constructor(private readonly acceptSecurityEvent: AcceptSecurityEvent) {}

  @Post(':connectionName')
  @HttpCode(202)
  @ApiOperation({ summary: 'Push delivery of a Security Event Token (RFC 8935): CAEP session-revoked and credential-change' })
  async push(@Param('connectionName') connectionName: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const delivery: SetDelivery = {
      source: sourceOf(req.ip),
      origin: { ip: req.ip, user_agent: req.get('user-agent'), hostname: req.hostname },
      authenticated: false,
    };
    try {
      const set = await readSet(req);
      const outcome = await this.acceptSecurityEvent.execute(connectionName, set, req.get('authorization') ?? null, delivery);
      // Per SET at debug: a storm of events would be a log flood at info.
      this.log.debug({ connection: connectionName, outcome: outcome.kind, jti: outcome.jti }, 'Security Event Token accepted');
      // RFC 8935 §2.2: 202 Accepted, no body.
      res.status(202).end();
    } catch (err) {
      if (!(err instanceof SsfException)) {
        this.log.error(err, 'Security Event Token failed unexpectedly');
        res.status(500).json({ err: 'server_error', description: 'unexpected error' });
        return;
      }
      // Logged (or counted) before answering, so that whoever saw the answer can also find it in the log.
      await this.acceptSecurityEvent.recordRejection(connectionName, delivery, err);
      if (err.retryAfterSeconds) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      res.setHeader('Cache-Control', 'no-store');
      // RFC 8935 §2.3: {"err": …, "description": …}.
      res.status(err.status).json({ err: err.err, description: err.description });
    }
  }
}

/** RFC 8935 §2.1: the body is one SET, `Content-Type: application/secevent+jwt`; at most 32 KiB. */
async function readSet(req: Request): Promise<string> {
  const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/secevent+jwt') throw setInvalid('Content-Type must be application/secevent+jwt');
  const tooLarge = () => setInvalid('the SET exceeds 32 KiB');
  if (Number(req.get('content-length') ?? 0) > SET_LIMIT_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > SET_LIMIT_BYTES) throw tooLarge();
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof SsfException) throw err;
    throw setInvalid('the request body could not be read');
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}
