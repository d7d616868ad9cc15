import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConnectionEntity, normalizeEmail, sqlRows } from '@ulo/persistence';
import { Subject } from './subject';

type Identifier = Exclude<Subject, { format: 'aliases' }>;

/**
 * Finds the users a GTR subject names, within one connection, by the connection's id (SPEC §2
 * subject formats): identities belong to a connection by id, so a later connection that reuses a
 * name finds none of the earlier one's users.
 */
@Injectable()
export class SubjectResolverRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * One statement whatever the subject: an `aliases` subject of many identifiers is not a round
   * trip per identifier. Each format is one arm, on its own index. An `email` matches every
   * identity of the connection whose normalised email equals the subject's (normalizeEmail): when
   * several users share it, all of them are logged out. An email that cannot be normalised
   * matches nothing.
   */
  async resolve(connection: Pick<ConnectionEntity, 'id'>, subject: Subject): Promise<string[]> {
    const identifiers = subject.format === 'aliases' ? subject.identifiers : [subject];
    const of = <F extends Identifier['format']>(format: F) =>
      identifiers.filter((s): s is Extract<Identifier, { format: F }> => s.format === format);
    // The connection itself, not a name or a bare string: a name can never be passed by mistake.
    const params: unknown[] = [connection.id];
    const param = (value: unknown) => `$${params.push(value)}`;
    const arms: string[] = [];
    const issSubs = of('iss_sub');
    if (issSubs.length) {
      arms.push(
        `SELECT i.user_id FROM user_identities i
         JOIN unnest(${param(issSubs.map((s) => s.iss))}::text[], ${param(issSubs.map((s) => s.sub))}::text[]) AS s (iss, sub)
           ON i.issuer = s.iss AND i.provider_user_id = s.sub
         WHERE i.connection_id = $1`,
      );
    }
    const emails = of('email')
      .map((s) => normalizeEmail(s.email))
      .filter((e): e is string => e !== null);
    if (emails.length) {
      arms.push(
        `SELECT user_id FROM user_identities WHERE connection_id = $1 AND email_normalized = ANY (${param(emails)}::text[])`,
      );
    }
    const opaque = of('opaque');
    if (opaque.length) {
      // Only a user who has an identity at this connection: one IdP cannot log out another's users.
      arms.push(
        `SELECT user_id FROM user_identities WHERE connection_id = $1 AND user_id = ANY (${param(opaque.map((s) => s.id))}::text[])`,
      );
    }
    if (arms.length === 0) return [];
    const rows = await sqlRows<{ user_id: string }>(this.dataSource.manager, arms.join(' UNION '), params);
    // UNION removes duplicates across arms; one arm may repeat a user when aliases repeat an identifier.
    return [...new Set(rows.map((r) => r.user_id))].sort();
  }
}
