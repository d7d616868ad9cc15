import { CREDENTIAL_CHANGE_ACTIONS, DEFAULT_SSF_ACTIONS, type SsfActions, type SsfDelivery } from '@ulo/contracts';
import type { StoredSsfOptions } from '@ulo/persistence';

/** A connection's Shared Signals push endpoint, relative to the public base URL (SPEC §9). */
export const ssfPushPath = (name: string) => `/ssf/push/connection/${encodeURIComponent(name)}`;

/** SPEC §9: where an SSF transmitter publishes its configuration (jwks_uri, stream endpoints). */
export const ssfConfigurationUrl = (issuer: string) => `${issuer.replace(/\/$/, '')}/.well-known/ssf-configuration`;

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * A connection's `options.ssf` as stored, or null when Shared Signals are not on for it (no
 * `ssf`, or one without its sealed push Authorization: nothing could authenticate a push). The
 * one reader of the stored shape: the push endpoint, stream management and the views use it.
 */
export function storedSsfOptionsOf(options: Record<string, unknown>): StoredSsfOptions | null {
  const ssf = options.ssf as Partial<StoredSsfOptions> | undefined;
  if (typeof ssf !== 'object' || ssf === null || Array.isArray(ssf)) return null;
  if (!isText(ssf.issuer) || !isText(ssf.audience) || !isText(ssf.push_authorization_sealed)) return null;
  const credentialChange = ssf.actions?.['credential-change'];
  const actions: SsfActions = {
    'session-revoked': DEFAULT_SSF_ACTIONS['session-revoked'],
    'credential-change': CREDENTIAL_CHANGE_ACTIONS.find((a) => a === credentialChange) ?? DEFAULT_SSF_ACTIONS['credential-change'],
  };
  return {
    issuer: ssf.issuer,
    audience: ssf.audience,
    push_authorization_sealed: ssf.push_authorization_sealed,
    ...(isText(ssf.client_id) ? { client_id: ssf.client_id } : {}),
    ...(isText(ssf.client_id) && isText(ssf.client_secret_sealed) ? { client_secret_sealed: ssf.client_secret_sealed } : {}),
    actions,
    ...(isText(ssf.stream_id) ? { stream_id: ssf.stream_id } : {}),
    ...(ssf.delivery === 'poll' ? { delivery: 'poll' as const } : {}),
    ...(ssf.delivery === 'poll' && isText(ssf.poll_endpoint) ? { poll_endpoint: ssf.poll_endpoint } : {}),
  };
}

/** SPEC §6, §9: `options.ssf` as the Management API shows it: whether each secret is set, never a secret. */
export interface PublicSsfOptions {
  issuer: string;
  audience: string;
  push_authorization_set: true;
  client_id?: string;
  client_secret_set: boolean;
  actions: SsfActions;
  /** The stream created at the transmitter (`POST …/ssf-stream`), while it exists. */
  stream_id?: string;
  /** Shown when "poll" (RFC 8936); a pushing connection's is the default. */
  delivery?: SsfDelivery;
}

export function publicSsfOptions(stored: StoredSsfOptions): PublicSsfOptions {
  return {
    issuer: stored.issuer,
    audience: stored.audience,
    push_authorization_set: true,
    ...(stored.client_id !== undefined ? { client_id: stored.client_id } : {}),
    client_secret_set: stored.client_secret_sealed !== undefined,
    actions: stored.actions,
    ...(stored.stream_id !== undefined ? { stream_id: stored.stream_id } : {}),
    ...(stored.delivery === 'poll' ? { delivery: stored.delivery } : {}),
  };
}
