import { DEFAULT_SELECTED_INITIATORS, type BackchannelLogoutInitiator, type Initiator } from '@ulo/contracts';
import type { OidcLogoutSettings } from '@ulo/persistence';

/**
 * SPEC §3: a client is told of a terminated session when it has a back-channel logout URL and its
 * initiators select the event: mode `all`, or a selected initiator matching it. Universal Logout
 * (idp-logout) also terminates sessions, so `session-revoked` selects it too.
 */
export function selectsEvent(settings: OidcLogoutSettings | null, initiator: Initiator): string | null {
  const url = settings?.backchannel_logout_urls?.[0];
  if (!url) return null;
  const initiators = settings.backchannel_logout_initiators ?? { mode: 'custom', selected_initiators: DEFAULT_SELECTED_INITIATORS };
  if (initiators.mode === 'all') return url;
  const wanted: BackchannelLogoutInitiator[] = initiator === 'idp-logout' ? ['idp-logout', 'session-revoked'] : [initiator];
  return initiators.selected_initiators.some((i) => wanted.includes(i)) ? url : null;
}
