/** The Management API resources the console shows (SPEC §6), as the gateway returns them. */

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'parked';
export type ByStatus = Record<DeliveryStatus, number>;

export interface Step {
  state: 'not_requested' | 'pending' | 'done';
  count: number | null;
  at: string | null;
}

export interface RequestDelivery {
  id: string;
  kind: 'sid' | 'sub';
  session_id: string | null;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface ApplicationDeliveries {
  client_id: string;
  client_name: string | null;
  count: number;
  by_status: ByStatus;
  attempts: number;
  updated_at: string;
  last_status_code?: number | null;
  last_error?: string | null;
  deliveries?: RequestDelivery[];
  deliveries_truncated?: boolean;
}

export interface LogoutRequest {
  id: string;
  initiator: string;
  status: 'in_progress' | 'completed';
  connection: { id: string | null; name: string | null } | null;
  subject: Record<string, unknown> | null;
  user_ids: string[];
  origin: { ip?: string | null; hostname?: string | null; user_agent?: string | null } | null;
  accepted_at: string;
  steps: { sessions: Step; refresh_tokens: Step };
  reannouncements: number;
  completed_at: string | null;
  backchannel: { count: number; by_status: ByStatus; applications: ApplicationDeliveries[] };
}

export interface Delivery extends RequestDelivery {
  request_id: string;
  user_id: string;
  client_id: string;
  backchannel_logout_uri: string;
  initiator: string;
}

export interface LogStream {
  id: string;
  name: string;
  type: 'http' | 'kafka';
  status: 'active' | 'paused' | 'suspended';
  sink: Record<string, unknown>;
  filters: { type: string; name: string }[];
  health: {
    lag: number;
    last_delivered_log_id: string | null;
    last_success_at: string | null;
    delivered: number;
    consecutive_failures: number;
    next_attempt_at: string | null;
    suspended_at: string | null;
    last_errors: { at: string; error: string }[];
  };
}

export interface Connection {
  id: string;
  name: string;
  strategy: 'okta' | 'oidc' | 'samlp';
  options: Record<string, unknown>;
  revocation_endpoint_url: string;
}

export interface Client {
  client_id: string;
  name: string;
  oidc_logout?: {
    backchannel_logout_urls: string[];
    backchannel_logout_initiators: { mode: 'custom' | 'all'; selected_initiators: string[] };
    backchannel_logout_signing_alg: string;
    backchannel_logout_session_required: boolean;
  };
}

export interface SigningKey {
  kid: string;
  alg: string;
  status: string;
  created_at: string;
  rotated_at: string | null;
}

export interface Throughput {
  from: string;
  to: string;
  bucket_seconds: number;
  buckets: { at: string; accepted: number; completed: number; rejected: number; deliveries_failed: number }[];
}

/** A checkpoint page: the list under the resource's name, and `next` when there is more. */
export type Page<K extends string, T> = { [key in K]: T[] } & { next?: string };
