// Server-sent events framing, a pure module: turns send(data, options) into
// an event stream block that no argument can break out of.
//
// References:
// - HTML, server-sent events, "Parsing an event stream" and "Interpreting an
//   event stream": https://html.spec.whatwg.org/multipage/server-sent-events.html

/** Options of EventSource#send(). */
export interface SendOptions {
  /** The event type; listeners use addEventListener(event). No CR or LF. */
  event?: string;
  /** The event id, sent back by the client as Last-Event-ID. No CR, LF or NUL. */
  id?: string | number;
  /** A new reconnection time for the client, in seconds. */
  retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Formats one event. Data is split on CRLF, CR and LF into one `data:` line
 * each, so a line break in data stays data. `event` and `id` must be single
 * lines: a CR or LF there would start a new field, so it is a TypeError, and so
 * is a NUL in `id` (the client would ignore the id).
 */
export function formatEvent(data: unknown, options: SendOptions = {}): string {
  let block = '';
  if (options.event !== undefined) {
    const event = String(options.event);
    if (/[\r\n]/.test(event)) throw new TypeError('The event name must not contain CR or LF');
    block += `event: ${event}\n`;
  }
  if (options.id !== undefined) {
    const id = String(options.id);
    if (/[\r\n\0]/.test(id)) throw new TypeError('The event id must not contain CR, LF or NUL');
    block += `id: ${id}\n`;
  }
  if (options.retry !== undefined) block += formatRetry(options.retry);
  for (const line of String(data).split(LINE_BREAK)) block += `data: ${line}\n`;
  return `${block}\n`;
}

/** A `retry:` field in milliseconds from a time in seconds. */
export function formatRetry(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new TypeError('retry must be a non-negative number of seconds');
  }
  return `retry: ${Math.floor(seconds * 1000)}\n`;
}

/** A comment line: keeps proxies from timing the stream out, dispatches nothing. */
export const PING_COMMENT = ':\n\n';

/** Whether a request asks for an event stream: a GET whose Accept includes text/event-stream. */
export function acceptsEventStream(method: string | undefined, accept: string | undefined): boolean {
  if (method !== 'GET') return false;
  return (accept ?? '').split(',').some((type) => type.split(';')[0]?.trim().toLowerCase() === 'text/event-stream');
}
