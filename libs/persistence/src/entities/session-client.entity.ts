import { Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { SessionEntity } from './session.entity';

/** An application that took part in a session: the target of its back-channel logout (SPEC §3). */
@Entity({ name: 'session_clients' })
export class SessionClientEntity {
  @PrimaryColumn({ name: 'session_id', type: 'text', primaryKeyConstraintName: 'session_clients_pkey' })
  sessionId: string;

  @PrimaryColumn({ name: 'client_id', type: 'text', primaryKeyConstraintName: 'session_clients_pkey' })
  clientId: string;

  @ManyToOne(() => SessionEntity, (s) => s.clients, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'session_clients_session_id_fkey' })
  session: SessionEntity;
}
