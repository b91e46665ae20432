// What the Redis stores send and read: the reply shapes of XRANGE, XREVRANGE
// and XREAD (RESP2 arrays and RESP3 maps alike), the publish script, and the
// pub/sub message it sends. A pure module; no connection in sight.
//
// The publish script appends to a channel's stream and publishes the entry on
// the pub/sub channel of the same name in one step, so that the messages of a
// stream arrive in the order of its ids; each message names the id before it
// in the stream, so that a reader that missed one (a dropped subscriber
// connection, a restarted shard) sees the gap at the next and reads the
// stream (XRANGE) from its last id.
//
// References:
// - Redis Streams, entry ids: https://redis.io/docs/latest/develop/data-types/streams/
// - EVAL and scripts (atomic, and the keys a script may touch in a cluster): https://redis.io/docs/latest/develop/interact/programmability/eval-intro/
// - PUBLISH, SPUBLISH (Redis 7, sharded pub/sub): https://redis.io/docs/latest/develop/interact/pubsub/

import { createHash } from 'node:crypto';
import type { StoredEvent } from '../channel/channel.js';
import { isStreamId } from '../channel/history.js';

/** A stored event, and the origin tag of the process that appended it. */
export type StreamEntry = StoredEvent & { readonly origin?: string };

/** A pub/sub message of the publish script: the entry and the id that came before it. */
export interface PublishedEntry {
  /** The stream's newest id before this entry, `'0-0'` when it was empty. */
  readonly previous: string;
  readonly entry: StreamEntry;
}

/**
 * KEYS[1]: the stream, and the pub/sub channel of the same name (one slot in
 * a cluster). ARGV: the publish command (PUBLISH or SPUBLISH), MAXLEN, data,
 * origin[, event]. Returns the new entry id.
 */
export const PUBLISH_SCRIPT = `local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local previous = '0-0'
if newest[1] then previous = newest[1][1] end
local event = ''
local id
if ARGV[5] then
  event = '=' .. ARGV[5]
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'data', ARGV[3], 'origin', ARGV[4], 'event', ARGV[5])
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'data', ARGV[3], 'origin', ARGV[4])
end
redis.call(ARGV[1], KEYS[1], previous .. '\\n' .. id .. '\\n' .. ARGV[4] .. '\\n' .. event .. '\\n' .. ARGV[3])
return id
`;

/** The script's SHA1, for EVALSHA. */
export const PUBLISH_SHA = createHash('sha1').update(PUBLISH_SCRIPT).digest('hex');

/** The EVALSHA arguments after the script, for one event on `key`. */
export function publishArgs(
  command: 'PUBLISH' | 'SPUBLISH',
  key: string,
  maxLength: number,
  data: string,
  origin: string,
  event: string | undefined,
): string[] {
  const args = ['1', key, command, String(maxLength), data, origin];
  if (event !== undefined) args.push(event);
  return args;
}

/**
 * Reads a message of the publish script: `previous \n id \n origin \n
 * [=event] \n data` (data last, so it may hold newlines). Undefined for
 * anything else (someone else publishing on the channel's name).
 */
export function decodePublished(message: string): PublishedEntry | undefined {
  const ends: number[] = [];
  let from = 0;
  for (let i = 0; i < 4; i++) {
    const end = message.indexOf('\n', from);
    if (end === -1) return undefined;
    ends.push(end);
    from = end + 1;
  }
  const [a, b, c, d] = ends as [number, number, number, number];
  const previous = message.slice(0, a);
  const id = message.slice(a + 1, b);
  const origin = message.slice(b + 1, c);
  const tag = message.slice(c + 1, d);
  if (!isStreamId(previous) || !isStreamId(id) || (tag !== '' && !tag.startsWith('='))) return undefined;
  const data = message.slice(d + 1);
  const entry: StreamEntry = {
    id,
    data,
    ...(tag !== '' && { event: tag.slice(1) }),
    ...(origin !== '' && { origin }),
  };
  return { previous, entry };
}

/** XREAD's reply holds one stream (RESP2: [[key, entries]]; RESP3: { key: entries }). */
export function firstStream(reply: unknown): unknown {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return (reply[0] as unknown[] | undefined)?.[1] ?? [];
  if (reply instanceof Map) return reply.values().next().value ?? [];
  if (typeof reply === 'object') return Object.values(reply)[0] ?? [];
  return [];
}

/** Entries of XRANGE/XREVRANGE/XREAD: [id, [field, value, ...]] each (or a field map). */
export function entriesOf(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StreamEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item)) continue;
    const id = String(item[0]);
    const fields = fieldsOf(item[1]);
    const data = fields.get('data');
    if (data === undefined || !isStreamId(id)) continue;
    const event = fields.get('event');
    const origin = fields.get('origin');
    entries.push({
      id,
      data,
      ...(event !== undefined && { event }),
      ...(origin !== undefined && { origin }),
    });
  }
  return entries;
}

function fieldsOf(raw: unknown): Map<string, string> {
  const fields = new Map<string, string>();
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) fields.set(String(raw[i]), String(raw[i + 1]));
  } else if (raw instanceof Map) {
    for (const [key, value] of raw) fields.set(String(key), String(value));
  } else if (typeof raw === 'object' && raw !== null) {
    for (const [key, value] of Object.entries(raw)) fields.set(key, String(value));
  }
  return fields;
}

/**
 * Remembers the origins of appends that failed here (the channel delivered
 * them locally) in case Redis stored them after all: those are not delivered
 * a second time. Bounded: the oldest is forgotten past `limit`.
 */
export class DeliveredHere {
  readonly #origins = new Set<string>();
  readonly #limit: number;

  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  add(origin: string): void {
    this.#origins.add(origin);
    if (this.#origins.size > this.#limit) this.#origins.delete(this.#origins.values().next().value as string);
  }

  /** Whether the entry went out here already (and forgets it: it comes once). */
  has(entry: StreamEntry): boolean {
    return entry.origin !== undefined && this.#origins.delete(entry.origin);
  }
}
