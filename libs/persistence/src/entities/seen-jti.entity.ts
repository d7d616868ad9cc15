import { Column, Entity, PrimaryColumn } from 'typeorm';

/** GTR replay protection shared by every gateway instance: (connection, jti) is unique while the token could be valid. */
@Entity({ name: 'seen_jtis' })
export class SeenJtiEntity {
  @PrimaryColumn({ name: 'connection_id', type: 'text' })
  connectionId: string;

  @PrimaryColumn({ type: 'text' })
  jti: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
