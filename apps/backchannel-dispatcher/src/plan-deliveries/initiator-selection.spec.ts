import type { BackchannelLogoutInitiator, Initiator } from '@ulo/contracts';
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
    // SPEC §9: a CAEP event's logout, by its own name or by what it is.
    ['caep-session-revoked selected, CAEP session revoked', custom(['caep-session-revoked']), 'caep-session-revoked', url],
    ['default initiators, CAEP session revoked', custom(['rp-logout', 'idp-logout']), 'caep-session-revoked', url],
    ['session-revoked selected, CAEP session revoked', custom(['session-revoked']), 'caep-session-revoked', url],
    ['caep-credential-change selected, CAEP session revoked', custom(['caep-credential-change']), 'caep-session-revoked', null],
    ['caep-credential-change selected, CAEP credential change', custom(['caep-credential-change']), 'caep-credential-change', url],
    ['password-changed selected, CAEP credential change', custom(['password-changed']), 'caep-credential-change', url],
    ['default initiators, CAEP credential change', custom(['rp-logout', 'idp-logout']), 'caep-credential-change', url],
    ['only rp-logout, CAEP credential change', custom(['rp-logout']), 'caep-credential-change', null],
    ['caep-session-revoked selected, Universal Logout', custom(['caep-session-revoked']), 'idp-logout', null],
    ['password-changed selected, CAEP session revoked', custom(['password-changed']), 'caep-session-revoked', null],
  ])('%s', (_name, settings, initiator, expected) => {
    expect(selectsEvent(settings, initiator as Initiator)).toBe(expected);
  });
});
