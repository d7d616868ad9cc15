import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { encodeTime } from 'ulid';
import { LOG_ID_PATTERN, LogEvent } from '@ulo/contracts';
import { LogEventRepository } from '@ulo/persistence';
import { DEFAULT_TAKE, toPage } from '../paging/checkpoint-page';
import { ListLogsQuery } from './log-query.dto';

/** The lowest log_id a ULID minted at `ms` can have. */
const firstLogIdAt = (ms: number): string => `${encodeTime(ms, 10)}${'0'.repeat(16)}`;

/**
 * How much later than its `date` an event's log_id may have been minted: producers take both from
 * the same clock, a moment apart (buildLogEvent); the margin covers a clock stepped back meanwhile.
 */
const MINTING_MARGIN_MS = 5 * 60 * 1000;

/** A log_id's time is milliseconds since 1970 (ULID); no event predates it, and four-digit years suffice. */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The instant a date filter names, or a 400 when it is outside the dates a log can hold. */
function dateOf(name: 'from_date' | 'to_date', value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  const ms = date.getTime();
  if (Number.isNaN(ms) || ms < EARLIEST || ms > LATEST) {
    throw new BadRequestException(`${name} must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z`);
  }
  return date;
}

/**
 * SPEC §5 query API over `log_events`. Each filter pages through its own index, (column, log_id),
 * so a page costs the same at the start and a million events deep; see docs/events.md.
 */
@Injectable()
export class LogsService {
  constructor(private readonly logEvents: LogEventRepository) {}

  async list(query: ListLogsQuery) {
    const take = query.take ?? DEFAULT_TAKE;
    if (query.from !== undefined && !LOG_ID_PATTERN.test(query.from)) throw new BadRequestException('from must be a log_id');
    const fromDate = dateOf('from_date', query.from_date);
    const toDate = dateOf('to_date', query.to_date);
    if (fromDate && toDate && fromDate >= toDate) throw new BadRequestException('from_date must be before to_date');
    const rows = await this.logEvents.page(
      {
        after: query.from,
        type: query.type,
        userId: query.user_id,
        connection: query.connection,
        clientId: query.client_id,
        fromDate,
        toDate,
        // A log_id is a ULID minted no earlier than its event's date: the same bound on log_id lets
        // every (column, log_id) index start at from_date instead of at the beginning.
        logIdFrom: fromDate && firstLogIdAt(fromDate.getTime()),
        // Bounds the index scan on the other side too, so the last page of an old range does not
        // read every later event.
        logIdBefore: toDate && firstLogIdAt(toDate.getTime() + MINTING_MARGIN_MS),
      },
      take + 1,
    );
    return toPage(
      'logs',
      rows,
      take,
      (e) => e.log_id,
      (e) => e,
    );
  }

  async get(logId: string): Promise<LogEvent> {
    // Every stored log_id is a ULID (the schema checks it): anything else is not there.
    if (!LOG_ID_PATTERN.test(logId)) throw new NotFoundException(`No log event with log_id ${logId.slice(0, 64)}`);
    const event = await this.logEvents.find(logId);
    if (!event) throw new NotFoundException(`No log event with log_id ${logId}`);
    return event;
  }
}
