import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sqlRows } from '@ulo/persistence';

/** The series the throughput counts: two of logout requests, and log event types. */
export type ThroughputSeries = 'accepted' | 'completed' | 'universal_logout_failed' | 'oidc_backchannel_logout_failed';

/**
 * The throughput's one statement, each arm on an index: logout_requests by created_at
 * (ix_logout_requests_created) and by completed_at (the partial ix_logout_requests_complete, which
 * holds only completed requests, so the count needs no bound on created_at and misses no request
 * that took long), and log_events by (type, log_id), whose log_id bound also skips the partitions
 * of earlier days.
 */
@Injectable()
export class ThroughputRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Counts in [from, end) per bucket of `bucketSeconds` on the epoch grid (the first starts at `from`). */
  perBucket(from: Date, end: Date, bucketSeconds: number, firstLogId: string, logTypes: string[]): Promise<{ at: Date; series: ThroughputSeries; n: number }[]> {
    return sqlRows(
      this.dataSource.manager,
      `SELECT greatest($1, date_bin(make_interval(secs => $3), r.created_at, timestamptz 'epoch')) AS at, 'accepted' AS series, count(*)::int AS n
       FROM logout_requests r WHERE r.created_at >= $1 AND r.created_at < $2
       GROUP BY 1
       UNION ALL
       SELECT greatest($1, date_bin(make_interval(secs => $3), r.completed_at, timestamptz 'epoch')), 'completed', count(*)::int
       FROM logout_requests r WHERE r.completed_at >= $1 AND r.completed_at < $2
       GROUP BY 1
       UNION ALL
       -- RejectionLog writes the rejections beyond its budget as one event with details.aggregated.count.
       SELECT greatest($1, date_bin(make_interval(secs => $3), e.date, timestamptz 'epoch')), e.type,
              sum(CASE WHEN jsonb_typeof(e.data #> '{details,aggregated,count}') = 'number'
                       THEN (e.data #>> '{details,aggregated,count}')::numeric ELSE 1 END)::float8
       FROM log_events e
       -- A log_id is a ULID minted no earlier than its event's date.
       WHERE e.type = ANY ($5::text[]) AND e.log_id >= $4 AND e.date >= $1 AND e.date < $2
       GROUP BY 1, 2`,
      [from, end, bucketSeconds, firstLogId, logTypes],
    );
  }
}
