import type { LogEvent } from './log-event';

/** SPEC §5: what a log stream delivers for each event, whatever its sink and format. */
export interface LogStreamEnvelope {
  log_id: string;
  data: LogEvent;
}


/**
 * An envelope serialized for delivery: its `log_id`, and its JSON text built around the event's
 * stored JSON text, so that a batch is delivered without parsing and re-serializing every event.
 */
export interface SerializedLogStreamEnvelope {
  log_id: string;
  json: string;
}

export function serializedLogStreamEnvelope(logId: string, eventJson: string): SerializedLogStreamEnvelope {
  return { log_id: logId, json: `{"log_id":${JSON.stringify(logId)},"data":${eventJson}}` };
}
