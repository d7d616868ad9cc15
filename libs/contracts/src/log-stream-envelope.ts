import type { LogEvent } from './log-event';

/** SPEC §5: what a log stream delivers for each event, whatever its sink and format. */
export interface LogStreamEnvelope {
  log_id: string;
  data: LogEvent;
}

export function toLogStreamEnvelope(event: LogEvent): LogStreamEnvelope {
  return { log_id: event.log_id, data: event };
}
