import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { BackchannelLogoutInitiator, InitiatorMode, SigningAlgorithm } from '@ulo/contracts';

/**
 * SPEC §6 `clients.oidc_logout`, as stored. The last two settings are absent from clients stored
 * before they existed; absent means the default (`true`, `RS256`).
 */
export interface OidcLogoutSettings {
  backchannel_logout_urls: string[];
  backchannel_logout_initiators: { mode: InitiatorMode; selected_initiators: BackchannelLogoutInitiator[] };
  backchannel_logout_session_required?: boolean;
  backchannel_logout_signing_alg?: SigningAlgorithm;
}

/** SPEC §6 `clients`: an application, and where it wants back-channel logout tokens. */
@Entity({ name: 'clients' })
export class ClientEntity {
  @PrimaryColumn({ name: 'client_id', type: 'text', primaryKeyConstraintName: 'clients_pkey' })
  clientId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'oidc_logout', type: 'jsonb', nullable: true })
  oidcLogout: OidcLogoutSettings | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
