import type { GatewayConfig } from '@ulo/config';
import type { ConnectionEntity, ConnectionRepository } from '@ulo/persistence';
import type { SsfSecrets } from '../connections/ssf-secrets';
import type { SsfTransmitterClient } from '../connections/ssf-transmitter.client';
import type { AcceptSecurityEvent } from './accept-security-event.usecase';
import { SsfException } from './ssf.exception';
import { SsfPollScheduler } from './ssf-poll.scheduler';

const connection = {
  id: 'con_poll',
  name: 'okta-poll',
  options: {
    ssf: {
      issuer: 'https://acme.okta.example',
      audience: 'https://ulo.example/ssf',
      push_authorization_sealed: 'sealed',
      client_id: 'receiver',
      client_secret_sealed: 'sealed',
      delivery: 'poll',
      poll_endpoint: 'https://acme.okta.example/api/v1/ssf/poll',
    },
  },
} as unknown as ConnectionEntity;

/**
 * The poll scheduler with its ports stubbed (RFC 8936): what it acknowledges to the transmitter
 * after each SET's outcome. The transmitter answers each poll from a script; the use case accepts,
 * refuses (400) or cannot record (503) each SET by its jti.
 */
type PollAnswer = { sets: Record<string, string>; moreAvailable?: boolean } | { status: number };

function scheduler(answers: PollAnswer[], outcome: (jti: string) => 'accepted' | 400 | 503) {
  const polls: { ack: string[] }[] = [];
  const transmitter = {
    session: jest.fn(async () => ({ token: 't' })),
    call: jest.fn(async (_session: unknown, _method: string, _url: string, body: { ack: string[] }) => {
      polls.push({ ack: [...body.ack] });
      const answer = answers.shift() ?? { sets: {} };
      return 'status' in answer ? { status: answer.status, body: { error: 'unavailable' } } : { status: 200, body: answer };
    }),
  } as unknown as SsfTransmitterClient;
  const rejections: number[] = [];
  const accept = {
    accept: jest.fn(async (_c: unknown, setJwt: string) => {
      const result = outcome(setJwt.replace(/^set-/, ''));
      if (result === 503) throw new SsfException(503, 'temporarily_unavailable', 'the event could not be recorded; retry later', 5);
      if (result === 400) throw new SsfException(400, 'invalid_key', 'no key of the transmitter matches the SET');
    }),
    recordRejection: jest.fn(async (_name: string, _delivery: unknown, err: SsfException) => {
      rejections.push(err.status);
    }),
  } as unknown as AcceptSecurityEvent;
  const poller = new SsfPollScheduler(
    { ssf: { pollIntervalMs: 60_000 } } as unknown as GatewayConfig,
    { polling: async () => [connection] } as unknown as ConnectionRepository,
    { clientCredentials: async () => ({ clientId: 'receiver', clientSecret: 's' }) } as unknown as SsfSecrets,
    transmitter,
    accept,
  );
  const round = () => (poller as unknown as { pollAll: () => Promise<void> }).pollAll();
  return { round, polls, rejections };
}

describe('SsfPollScheduler', () => {
  it('acknowledges accepted and refused SETs in the next poll, never one that could not be recorded (503)', async () => {
    const outcomes: Record<string, 'accepted' | 400 | 503> = { ok: 'accepted', junk: 400, outage: 503 };
    const { round, polls, rejections } = scheduler(
      [{ sets: { ok: 'set-ok', junk: 'set-junk', outage: 'set-outage' } }, { sets: { outage: 'set-outage' } }],
      (jti) => outcomes[jti],
    );
    await round();
    expect(polls).toEqual([{ ack: [] }]);
    expect(rejections).toEqual([400, 503]);

    // The next round acknowledges what was taken; the transmitter delivers the 503 one again.
    outcomes.outage = 'accepted';
    await round();
    expect(polls[1].ack.sort()).toEqual(['junk', 'ok']);
    await round();
    expect(polls[2].ack).toEqual(['outage']);
  });

  it('keeps the acknowledgements when a poll fails, and sends them with the next one', async () => {
    const { round, polls } = scheduler([{ sets: { a: 'set-a' } }, { status: 500 }, { sets: {} }], () => 'accepted');
    await round();
    // The poll that should carry the acknowledgement of `a` is answered 500 ...
    await round();
    expect(polls[1].ack).toEqual(['a']);
    // ... so the next one carries it again: the transmitter may not have taken it.
    await round();
    expect(polls[2].ack).toEqual(['a']);
    await round();
    expect(polls[3].ack).toEqual([]);
  });
});
