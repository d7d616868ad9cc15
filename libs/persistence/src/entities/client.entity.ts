import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export interface OidcLogoutSettings {
  backchannel_logout_urls: string[];
  backchannel_logout_initiators: { mode: 'custom' | 'all'; selected_initiators: string[] };
}

@Entity({ name: 'clients' })
export class ClientEntity {
  @PrimaryColumn({ name: 'client_id', type: 'text' })
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
