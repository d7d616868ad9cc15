import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sqlRows, type OidcLogoutSettings } from '@ulo/persistence';

/** What the dispatcher reads of an application: its name and its back-channel logout settings. */
export interface ClientLogoutSettings {
  clientId: string;
  name: string;
  oidcLogout: OidcLogoutSettings | null;
}

/** The dispatcher's reads of `clients` (the gateway's Management API writes them). */
@Injectable()
export class ClientRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The clients among `clientIds` that exist. */
  async settingsOf(clientIds: string[]): Promise<ClientLogoutSettings[]> {
    if (clientIds.length === 0) return [];
    const rows = await sqlRows<{ client_id: string; name: string; oidc_logout: OidcLogoutSettings | null }>(
      this.dataSource.manager,
      `SELECT client_id, name, oidc_logout FROM clients WHERE client_id = ANY($1::text[])`,
      [clientIds],
    );
    return rows.map((r) => ({ clientId: r.client_id, name: r.name, oidcLogout: r.oidc_logout }));
  }
}
