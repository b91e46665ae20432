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

/** Turns an application value into event data; must return a string (e.g. `JSON.stringify`). */
export type Serialize = (data: unknown) => string;

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * The event data for `send(data)` or `broadcast(data)`. Without `serialize`
 * only a string is data: anything else is a TypeError rather than
 * `[object Object]` on the wire. With it, every value goes through it, so a
 * client can decode every event the same way.
 */
export function eventData(data: unknown, serialize: Serialize | undefined): string {
  if (serialize) {
    const text = serialize(data);
    if (typeof text !== 'string') {
      throw new TypeError(`serialize must return a string; it returned ${describe(text)}`);
    }
    return text;
  }
  if (typeof data !== 'string') {
    throw new TypeError(
      `Event data must be a string, not ${describe(data)}; pass the option { serialize: JSON.stringify } to send other values`,
    );
  }
  return data;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return typeof value;
}

/**
 * Formats one event. Data is split on CRLF, CR and LF into one `data:` line
 * each, so a line break in data stays data. `event` and `id` must be single
 * lines: a CR or LF there would start a new field, so it is a TypeError, and so
 * is a NUL in `id` (the client would ignore the id).
 */
export function formatEvent(data: string, options: SendOptions = {}): string {
  let block = '';
  if (options.event !== undefined) block += `event: ${checkEvent(options.event)}\n`;
  if (options.id !== undefined) block += `id: ${checkId(options.id)}\n`;
  if (options.retry !== undefined) block += formatRetry(options.retry);
  for (const line of data.split(LINE_BREAK)) block += `data: ${line}\n`;
  return `${block}\n`;
}

/** An event name as sent: a string without CR or LF (a TypeError otherwise). */
export function checkEvent(event: string): string {
  const text = String(event);
  if (/[\r\n]/.test(text)) throw new TypeError('The event name must not contain CR or LF');
  return text;
}

/** An event id as sent: a string without CR, LF or NUL (a TypeError otherwise). */
export function checkId(id: string | number): string {
  const text = String(id);
  if (/[\r\n\0]/.test(text)) throw new TypeError('The event id must not contain CR, LF or NUL');
  return text;
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
