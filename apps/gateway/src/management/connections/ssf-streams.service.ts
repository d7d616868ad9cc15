import { BadGatewayException, BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { APP_CONFIG, GatewayConfig } from '@ulo/config';
import { SSF_EVENT_TYPES } from '@ulo/contracts';
import { ConnectionEntity, ConnectionRepository, LogEventRepository, type StoredSsfOptions } from '@ulo/persistence';
import { SecretEnvelopeException } from '@ulo/security';
import { ssfPushPath, storedSsfOptionsOf } from '../../connections/ssf-options';
import { SsfSecrets } from '../../connections/ssf-secrets';
import { SsfTransmitterClient, TransmitterCallException, type TransmitterAnswer, type TransmitterSession } from '../../connections/ssf-transmitter.client';

/** RFC 8935 push delivery (the default), RFC 8936 poll delivery (`options.ssf.delivery` "poll"). */
export const PUSH_DELIVERY = 'urn:ietf:rfc:8935';
export const POLL_DELIVERY = 'urn:ietf:rfc:8936';
/** SPEC §9: the events the stream asks for (the ones this receiver acts on). */
export const EVENTS_REQUESTED = [SSF_EVENT_TYPES.sessionRevoked, SSF_EVENT_TYPES.credentialChange];

/** The stream as the Management API shows it: the transmitter's view of it, never the push Authorization. */
export interface SsfStreamView {
  stream_id: string;
  stream: Record<string, unknown>;
  status?: { status: unknown; reason?: unknown } | null;
  /** SSF 1.0 §8.1.5: the last status the transmitter pushed (stream-updated), when it sent one. */
  last_status_update?: { status: unknown; reason: unknown; received_at: string } | null;
  /** SSF 1.0 §8.1.4: the last verification event received, with the state it carried. */
  last_verification?: { state: unknown; received_at: string } | null;
}

/** A stream management call that has a connection, its ssf and an authorized session with its transmitter. */
interface Managed {
  connection: ConnectionEntity;
  ssf: StoredSsfOptions;
  session: TransmitterSession;
}

/**
 * SSF 1.0 §8 as a receiver (SPEC §9): our stream at a connection's transmitter — created (or
 * updated) to push to our endpoint with the events we act on, read with its status, verified,
 * deleted. The stream id is kept in the connection's `options.ssf`; what the transmitter pushes
 * about the stream (verification, stream-updated) is read from the log (`ssf_event_accepted`).
 * Whatever the transmitter answers or fails to answer is a 502, never a 500.
 */
@Injectable()
export class SsfStreamsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    @InjectRepository(ConnectionEntity) private readonly repo: Repository<ConnectionEntity>,
    private readonly connections: ConnectionRepository,
    private readonly logEvents: LogEventRepository,
    private readonly secrets: SsfSecrets,
    private readonly transmitter: SsfTransmitterClient,
  ) {}

  /** SSF 1.0 §8.1.1.1 create, or §8.1.1.3 update when the connection has a stream; `created` says which. */
  async createOrUpdate(id: string): Promise<{ created: boolean; view: SsfStreamView }> {
    const m = await this.managed(id);
    const endpoint = this.endpointOf(m, 'configuration_endpoint');
    const poll = m.ssf.delivery === 'poll';
    // RFC 8936 §2: the transmitter names the poll endpoint; it must offer the method (SSF 1.0 §7.1 delivery_methods_supported).
    if (poll && !m.session.configuration.delivery_methods_supported.includes(POLL_DELIVERY)) {
      throw new BadRequestException(`options.ssf.delivery is "poll", but the transmitter does not offer poll delivery (${POLL_DELIVERY})`);
    }
    const body = {
      delivery: poll
        ? { method: POLL_DELIVERY }
        : {
            method: PUSH_DELIVERY,
            endpoint_url: `${this.config.publicBaseUrl}${ssfPushPath(m.connection.name)}`,
            authorization_header: await this.open(() => this.secrets.pushAuthorization(m.connection.id, m.ssf)),
          },
      events_requested: EVENTS_REQUESTED,
    };
    let created = false;
    let stream: Record<string, unknown> | null = null;
    if (m.ssf.stream_id !== undefined) {
      const updated = await this.call(m, 'PATCH', endpoint, { stream_id: m.ssf.stream_id, ...body });
      // A stream the transmitter no longer knows is made again.
      if (updated.status !== 404) stream = streamOf(expectOk(updated, 'update the stream'));
    }
    if (stream === null) {
      stream = streamOf(expectOk(await this.call(m, 'POST', endpoint, body), 'create the stream'));
      created = true;
    }
    const pollEndpoint = poll ? pollEndpointOf(stream) : undefined;
    if (created || pollEndpoint !== m.ssf.poll_endpoint) {
      await this.connections.setSsfStream(m.connection.id, { stream_id: stream.stream_id as string, ...(pollEndpoint ? { poll_endpoint: pollEndpoint } : {}) });
    }
    return { created, view: await this.viewOf(m, stream) };
  }

  /** SSF 1.0 §8.1.1.2 read, and §8.1.2.1 status, as the transmitter reports them. */
  async get(id: string): Promise<SsfStreamView> {
    const m = await this.managed(id);
    const streamId = streamIdOf(m);
    const read = await this.call(m, 'GET', withStreamId(this.endpointOf(m, 'configuration_endpoint'), streamId));
    if (read.status === 404) throw new NotFoundException('the transmitter knows no such stream');
    const stream = streamOf(expectOk(read, 'read the stream'));
    let status: SsfStreamView['status'] = null;
    const statusEndpoint = m.session.configuration.status_endpoint;
    if (statusEndpoint !== undefined) {
      const answer = expectOk(await this.call(m, 'GET', withStreamId(statusEndpoint, streamId)), 'read the stream status');
      const reported = (answer ?? {}) as Record<string, unknown>;
      status = { status: reported.status, ...(reported.reason !== undefined ? { reason: reported.reason } : {}) };
    }
    return { ...(await this.viewOf(m, stream)), status };
  }

  /** SSF 1.0 §8.1.4.2: asks the transmitter for a verification event carrying a state of ours. */
  async verify(id: string): Promise<{ stream_id: string; state: string }> {
    const m = await this.managed(id);
    const streamId = streamIdOf(m);
    const state = randomBytes(16).toString('base64url');
    expectOk(await this.call(m, 'POST', this.endpointOf(m, 'verification_endpoint'), { stream_id: streamId, state }), 'request a verification event');
    return { stream_id: streamId, state };
  }

  /** SSF 1.0 §8.1.1.5: deletes the stream at the transmitter (one it no longer knows is gone too), then forgets it. */
  async remove(id: string): Promise<void> {
    const m = await this.managed(id);
    const streamId = streamIdOf(m);
    const answer = await this.call(m, 'DELETE', withStreamId(this.endpointOf(m, 'configuration_endpoint'), streamId));
    if (answer.status !== 404) expectOk(answer, 'delete the stream');
    await this.connections.setSsfStream(m.connection.id, null);
  }

  private async managed(id: string): Promise<Managed> {
    const connection = await this.repo.findOneBy({ id });
    if (!connection) throw new NotFoundException('Connection not found');
    const ssf = storedSsfOptionsOf(connection.options);
    if (!ssf) throw new BadRequestException('the connection has no options.ssf: Shared Signals are not enabled on it');
    const credentials = await this.open(() => this.secrets.clientCredentials(connection.id, ssf));
    if (!credentials) {
      throw new BadRequestException('the connection has no options.ssf.client_id and client_secret: stream management needs the OAuth client credentials');
    }
    const session = await this.transmitterCall(() => this.transmitter.session(ssf.issuer, credentials));
    return { connection, ssf, session };
  }

  private endpointOf(m: Managed, member: 'configuration_endpoint' | 'verification_endpoint'): string {
    const url = m.session.configuration[member];
    if (url === undefined) throw new BadGatewayException(`the transmitter's SSF configuration names no ${member}`);
    return url;
  }

  private call(m: Managed, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<TransmitterAnswer> {
    return this.transmitterCall(() => this.transmitter.call(m.session, method, url, body));
  }

  private async transmitterCall<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof TransmitterCallException) throw new BadGatewayException(`the SSF transmitter: ${err.message}`);
      throw err;
    }
  }

  /** A sealed secret that does not open is ours to fix (`npm run secrets:reseal`), named without its value. */
  private async open<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof SecretEnvelopeException) throw new BadRequestException(`the connection's SSF secrets cannot be opened: set them again (${err.message})`);
      throw err;
    }
  }

  private async viewOf(m: Managed, stream: Record<string, unknown>): Promise<SsfStreamView> {
    const [verification, update] = await Promise.all([
      this.logEvents.latestSsfEvent(m.connection.name, SSF_EVENT_TYPES.verification),
      this.logEvents.latestSsfEvent(m.connection.name, SSF_EVENT_TYPES.streamUpdated),
    ]);
    return {
      stream_id: stream.stream_id as string,
      stream: withoutSecrets(stream),
      last_status_update: update ? { status: update.details.status, reason: update.details.reason ?? null, received_at: update.date } : null,
      last_verification: verification ? { state: verification.details.state, received_at: verification.date } : null,
    };
  }
}

function streamIdOf(m: Managed): string {
  if (m.ssf.stream_id === undefined) throw new NotFoundException('the connection has no SSF stream: create it with POST …/ssf-stream');
  return m.ssf.stream_id;
}

const withStreamId = (url: string, streamId: string) => {
  const u = new URL(url);
  u.searchParams.set('stream_id', streamId);
  return u.toString();
};

/** A 2xx answer's body; anything else is the transmitter refusing, a 502 naming its status. */
function expectOk(answer: TransmitterAnswer, what: string): unknown {
  if (answer.status >= 200 && answer.status < 300) return answer.body;
  const summary = describeRefusal(answer.body);
  throw new BadGatewayException(`the SSF transmitter refused to ${what}: ${answer.status}${summary}`);
}

/** The transmitter's own words, bounded (SSF's `description`, Okta's `errorSummary`). */
function describeRefusal(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const b = body as Record<string, unknown>;
  const text = [b.errorSummary, b.description, b.error_description, b.error].find((v): v is string => typeof v === 'string');
  return text ? ` (${text.slice(0, 200)})` : '';
}

/** SSF 1.0 §8.1.1: a stream configuration names its stream_id. */
function streamOf(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as { stream_id?: unknown }).stream_id !== 'string') {
    throw new BadGatewayException('the SSF transmitter answered no stream configuration (an object with a stream_id)');
  }
  return body as Record<string, unknown>;
}

/** RFC 8936 §2, SSF 1.0 §8.1.1: under poll delivery the transmitter's answer names the poll endpoint. */
function pollEndpointOf(stream: Record<string, unknown>): string {
  const url = (stream.delivery as { endpoint_url?: unknown } | undefined)?.endpoint_url;
  if (typeof url !== 'string') throw new BadGatewayException('the SSF transmitter named no poll endpoint (delivery.endpoint_url) for the stream');
  return url;
}

/** The stream as shown: the push Authorization header we gave the transmitter is a secret, never echoed. */
function withoutSecrets(stream: Record<string, unknown>): Record<string, unknown> {
  const delivery = stream.delivery;
  if (typeof delivery !== 'object' || delivery === null || Array.isArray(delivery)) return stream;
  const { authorization_header: _secret, ...rest } = delivery as Record<string, unknown>;
  return { ...stream, delivery: rest };
}
