import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { ConnectionEntity } from '@ulo/persistence';

/** How long a connection read from the database is used before it is read again (a change applies within it). */
const FRESH_MS = 1000;
const MAX_KNOWN = 10_000;
/** Names recently looked up and not found: a bounded negative cache, so repeated junk names cost no query. */
const MAX_UNKNOWN = 1_000;

/**
 * The rule connection names follow (CreateConnectionDto): letters and digits, optionally separated
 * by single hyphens, at most 128 characters. A name in the URL that breaks it names no connection.
 */
const POSSIBLE_NAME = /^[a-zA-Z0-9](-?[a-zA-Z0-9])*$/;
const MAX_NAME_LENGTH = 128;

export function isPossibleConnectionName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && POSSIBLE_NAME.test(name);
}

/**
 * Finds a connection by the name in the revocation URL. A logout storm does not re-read a row
 * that changes rarely, and junk names allocate nothing beyond a bounded negative cache: a name
 * no connection can have costs no query at all.
 */
@Injectable()
export class ConnectionDirectory {
  private readonly known = new LRUCache<string, { connection: ConnectionEntity; readAt: number }>({ max: MAX_KNOWN });
  private readonly unknown = new LRUCache<string, true>({ max: MAX_UNKNOWN, ttl: FRESH_MS });

  constructor(private readonly dataSource: DataSource) {}

  /** The connection, or null when none has that name. Database errors propagate. */
  async find(name: string, now = Date.now()): Promise<ConnectionEntity | null> {
    if (!isPossibleConnectionName(name)) return null;
    const cached = this.known.get(name);
    if (cached && now - cached.readAt < FRESH_MS) return cached.connection;
    if (this.unknown.has(name)) return null;
    const connection = await this.dataSource.getRepository(ConnectionEntity).findOneBy({ name });
    if (connection) {
      this.known.set(name, { connection, readAt: now });
    } else {
      this.known.delete(name);
      this.unknown.set(name, true);
    }
    return connection;
  }

  /** The connection `name` was when last read, however long ago; no query (to attribute a rejection). */
  lastKnown(name: string): ConnectionEntity | undefined {
    return this.known.peek(name)?.connection;
  }
}
