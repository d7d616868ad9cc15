import type { BackchannelLogoutInitiator } from '@ulo/contracts';
import { selectsEvent } from './initiator-selection';

const url = 'https://app.example.com/backchannel';
const custom = (selected: BackchannelLogoutInitiator[]) => ({
  backchannel_logout_urls: [url],
  backchannel_logout_initiators: { mode: 'custom' as const, selected_initiators: selected },
});

describe('initiator selection (SPEC §3)', () => {
  it.each([
    ['mode all', { backchannel_logout_urls: [url], backchannel_logout_initiators: { mode: 'all' as const, selected_initiators: [] } }, 'idp-logout', url],
    ['idp-logout selected', custom(['idp-logout']), 'idp-logout', url],
    ['session-revoked selected, Universal Logout', custom(['session-revoked']), 'idp-logout', url],
    ['only rp-logout, Universal Logout', custom(['rp-logout']), 'idp-logout', null],
    ['session-revoked selected, Management API delete', custom(['session-revoked']), 'session-revoked', url],
    ['default initiators, Management API delete', custom(['rp-logout', 'idp-logout']), 'session-revoked', null],
    ['no URL', { backchannel_logout_urls: [], backchannel_logout_initiators: { mode: 'all' as const, selected_initiators: [] } }, 'idp-logout', null],
    ['no settings', null, 'idp-logout', null],
  ])('%s', (_name, settings, initiator, expected) => {
    expect(selectsEvent(settings, initiator as 'idp-logout' | 'session-revoked')).toBe(expected);
  });
});
