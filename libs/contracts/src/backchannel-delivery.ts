/**
 * SPEC §4 "Delivery": where one back-channel logout token stands. `pending` is due or retried,
 * `succeeded` and `failed` are final, `parked` gave up after the retry window and waits for replay.
 */
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'parked'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** SPEC §6 `POST /backchannel-deliveries/{id}/retry`: the deliveries an operator may replay. */
export const REPLAYABLE_DELIVERY_STATUSES = ['parked', 'failed'] as const satisfies readonly DeliveryStatus[];

/**
 * SPEC §4: what a delivery's logout token names. `sid`: one session (with `sub`), the default;
 * `sub`: every session of the user at that client (no `sid`), for a client that does not require
 * `sid` when a logout covers all of the user's sessions.
 */
export const DELIVERY_KINDS = ['sid', 'sub'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];
