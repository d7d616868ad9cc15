import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConnectionEntity, normalizeEmail, sqlRows } from '@ulo/persistence';
import { Subject } from './subject';

type Identifier = Exclude<Subject, { format: 'aliases' }>;

/** A subject to resolve within a connection. */
export interface SubjectLookup {
  connection: Pick<ConnectionEntity, 'id'>;
  subject: Subject;
}

/**
 * Finds the users GTR subjects name, each within its connection, by the connection's id (SPEC §2
 * subject formats): identities belong to a connection by id, so a later connection that reuses a
 * name finds none of the earlier one's users.
 */
@Injectable()
export class SubjectResolverRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * One statement for any number of subjects of any formats (an `aliases` subject's identifiers
   * included): each format is one arm, on its own index, with the subject's position carried
   * along. An `email` matches every identity of the connection whose normalised email equals the
   * subject's (normalizeEmail): when several users share it, all of them are logged out. An email
   * that cannot be normalised matches nothing. Returns each subject's users, sorted, in order.
   */
  async resolve(lookups: SubjectLookup[]): Promise<string[][]> {
    // One row per identifier: [subject position, connection id, ...its members].
    const issSubs: [number, string, string, string][] = [];
    const emails: [number, string, string][] = [];
    const opaques: [number, string, string][] = [];
    lookups.forEach(({ connection, subject }, at) => {
      const identifiers: Identifier[] = subject.format === 'aliases' ? subject.identifiers : [subject];
      for (const s of identifiers) {
        switch (s.format) {
          case 'iss_sub':
            issSubs.push([at, connection.id, s.iss, s.sub]);
            break;
          case 'email': {
            const normalized = normalizeEmail(s.email);
            if (normalized !== null) emails.push([at, connection.id, normalized]);
            break;
          }
          case 'opaque':
            opaques.push([at, connection.id, s.id]);
            break;
        }
      }
    });
    const users = lookups.map(() => new Set<string>());
    if (issSubs.length + emails.length + opaques.length > 0) {
      const rows = await sqlRows<{ at: number; user_id: string }>(
        this.dataSource.manager,
        `SELECT s.at, i.user_id FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS s (at, connection_id, iss, sub)
           JOIN user_identities i ON i.connection_id = s.connection_id AND i.issuer = s.iss AND i.provider_user_id = s.sub
         UNION
         SELECT s.at, i.user_id FROM unnest($5::int[], $6::text[], $7::text[]) AS s (at, connection_id, email)
           JOIN user_identities i ON i.connection_id = s.connection_id AND i.email_normalized = s.email
         UNION
         -- Only a user who has an identity at this connection: one IdP cannot log out another's users.
         SELECT s.at, i.user_id FROM unnest($8::int[], $9::text[], $10::text[]) AS s (at, connection_id, id)
           JOIN user_identities i ON i.connection_id = s.connection_id AND i.user_id = s.id`,
        [...columns(issSubs, 4), ...columns(emails, 3), ...columns(opaques, 3)],
      );
      for (const r of rows) users[r.at].add(r.user_id);
    }
    return users.map((set) => [...set].sort());
  }
}

/** The columns of `rows` (each of `width` values), for unnest. */
function columns(rows: unknown[][], width: number): unknown[][] {
  return Array.from({ length: width }, (_, i) => rows.map((r) => r[i]));
}
