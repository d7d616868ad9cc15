import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Subject } from './subject';

/** Finds the users a GTR subject names, within one connection (SPEC §2 subject formats). */
@Injectable()
export class SubjectResolverRepository {
  constructor(private readonly dataSource: DataSource) {}

  async resolve(connection: string, subject: Subject): Promise<string[]> {
    const ids = new Set<string>();
    const subjects = subject.format === 'aliases' ? subject.identifiers : [subject];
    for (const s of subjects) for (const id of await this.resolveOne(connection, s)) ids.add(id);
    return [...ids].sort();
  }

  private async resolveOne(connection: string, s: Exclude<Subject, { format: 'aliases' }>): Promise<string[]> {
    let rows: { user_id: string }[];
    switch (s.format) {
      case 'iss_sub':
        rows = await this.dataSource.query(
          `SELECT user_id FROM user_identities WHERE connection = $1 AND issuer = $2 AND provider_user_id = $3`,
          [connection, s.iss, s.sub],
        );
        break;
      case 'email':
        rows = await this.dataSource.query(
          `SELECT DISTINCT user_id FROM user_identities WHERE connection = $1 AND lower(email) = lower($2)`,
          [connection, s.email],
        );
        break;
      case 'opaque':
        // Only a user who has an identity at this connection: one IdP cannot log out another's users.
        rows = await this.dataSource.query(
          `SELECT DISTINCT user_id FROM user_identities WHERE connection = $1 AND user_id = $2`,
          [connection, s.id],
        );
        break;
    }
    return rows.map((r) => r.user_id);
  }
}
