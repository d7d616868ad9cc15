import { DEFAULT_SELECTED_INITIATORS, type BackchannelLogoutInitiator, type Initiator } from '@ulo/contracts';
import type { OidcLogoutSettings } from '@ulo/persistence';

/**
 * The selected initiators that ask to be told of sessions a logout of each initiator terminated
 * besides its own name. Universal Logout (idp-logout) terminates sessions, so `session-revoked`
 * selects it too; a CAEP event is the identity provider logging the user out (SPEC §9), so
 * `idp-logout` selects it as well, and a credential change is what `password-changed` names.
 */
const ALSO_SELECTED_BY: Readonly<Partial<Record<Initiator, readonly BackchannelLogoutInitiator[]>>> = {
  'idp-logout': ['session-revoked'],
  'caep-session-revoked': ['idp-logout', 'session-revoked'],
  'caep-credential-change': ['idp-logout', 'password-changed', 'session-revoked'],
};

/**
 * SPEC §3: a client is told of a terminated session when it has a back-channel logout URL and its
 * initiators select the event: mode `all`, or a selected initiator matching it.
 */
export function selectsEvent(settings: OidcLogoutSettings | null, initiator: Initiator): string | null {
  const url = settings?.backchannel_logout_urls?.[0];
  if (!url) return null;
  const initiators = settings.backchannel_logout_initiators ?? { mode: 'custom', selected_initiators: DEFAULT_SELECTED_INITIATORS };
  if (initiators.mode === 'all') return url;
  const wanted: readonly BackchannelLogoutInitiator[] = [initiator, ...(ALSO_SELECTED_BY[initiator] ?? [])];
  return initiators.selected_initiators.some((i) => wanted.includes(i)) ? url : null;
}
