// A channel's memory of recent events, and the ids it gives them: a pure
// module (no sockets, no timers; the caller passes the time).
//
// Ids have the form of Redis Stream entry ids, `<milliseconds>-<sequence>`,
// whether or not Redis is used: they increase, they compare across process
// restarts (the clock moves on), and an id from a Redis-backed channel is the
// Redis entry id itself, so any process can resume from it.
//
// References:
// - HTML, server-sent events, "Last-Event-ID": https://html.spec.whatwg.org/multipage/server-sent-events.html#the-last-event-id-header
// - Redis, stream entry ids: https://redis.io/docs/latest/develop/data-types/streams/#entry-ids

/** One event as the channel keeps it: its id and its encoded block. */
export interface HistoryEntry {
  readonly id: string;
  /** The whole `event:`/`id:`/`data:` block, encoded once. */
  readonly block: Buffer;
  /** When it was published, in ms since the epoch. */
  readonly at: number;
}

const STREAM_ID = /^(\d{1,16})-(\d{1,16})$/;

/** Parses a `<ms>-<seq>` id; undefined for any other string. */
export function parseStreamId(id: string): [number, number] | undefined {
  const match = STREAM_ID.exec(id);
  if (!match) return undefined;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? [ms, seq] : undefined;
}

/** Whether `id` is a `<ms>-<seq>` stream id. */
export function isStreamId(id: string): boolean {
  return parseStreamId(id) !== undefined;
}

/** Orders two stream ids: negative, zero or positive; NaN when either is not one. */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (!x || !y) return Number.NaN;
  return x[0] - y[0] || x[1] - y[1];
}

/**
 * Makes increasing `<ms>-<seq>` ids as Redis does: the time in ms, and a
 * sequence number within the same ms (or while the clock stands still or
 * goes back).
 */
export class StreamIdClock {
  #ms = 0;
  #seq = -1;

  /** The next id, greater than every id made or observed before. */
  next(now: number): string {
    if (now > this.#ms) {
      this.#ms = now;
      this.#seq = 0;
    } else {
      this.#seq += 1;
    }
    return `${this.#ms}-${this.#seq}`;
  }

  /** Moves the clock past `id`, so that later ids sort after it. */
  observe(id: string): void {
    const parsed = parseStreamId(id);
    if (!parsed) return;
    const [ms, seq] = parsed;
    if (ms > this.#ms || (ms === this.#ms && seq > this.#seq)) {
      this.#ms = ms;
      this.#seq = seq;
    }
  }
}

/**
 * The last `size` events, none older than `maxAge` ms: what a reconnecting
 * client (its `Last-Event-ID`) can be given back.
 */
export class EventHistory<E extends HistoryEntry = HistoryEntry> {
  readonly #size: number;
  readonly #maxAge: number;
  #entries: E[] = [];
  #start = 0;
  /** id -> absolute position (position of entries[#start] is #base). */
  readonly #positions = new Map<string, number>();
  #base = 0;

  constructor(size: number, maxAge = Number.POSITIVE_INFINITY) {
    this.#size = size;
    this.#maxAge = maxAge;
  }

  /** How many events it holds now. */
  get length(): number {
    return this.#entries.length - this.#start;
  }

  /** The newest entry, if any. */
  get last(): E | undefined {
    return this.length > 0 ? this.#entries[this.#entries.length - 1] : undefined;
  }

  push(entry: E): void {
    if (this.#size === 0) return;
    this.#positions.set(entry.id, this.#base + this.length);
    this.#entries.push(entry);
    while (this.length > this.#size) this.#dropOldest();
    this.#expire(entry.at);
  }

  /**
   * The entries after the one with this id, oldest first; `undefined` when the
   * id is not (or no longer) here.
   */
  after(id: string, now: number): E[] | undefined {
    this.#expire(now);
    const position = this.#positions.get(id);
    if (position === undefined) return undefined;
    return this.#entries.slice(this.#start + (position - this.#base) + 1);
  }

  /** The entries whose stream id sorts after `id` (an id this history no longer holds). */
  newerThan(id: string, now: number): E[] {
    this.#expire(now);
    return this.#entries.slice(this.#start).filter((entry) => compareStreamIds(entry.id, id) > 0);
  }

  #expire(now: number): void {
    if (this.#maxAge === Number.POSITIVE_INFINITY) return;
    while (this.length > 0 && now - (this.#entries[this.#start] as E).at > this.#maxAge) {
      this.#dropOldest();
    }
  }

  #dropOldest(): void {
    const entry = this.#entries[this.#start] as E;
    // A repeated id points at its newest position; only forget it with that one.
    if (this.#positions.get(entry.id) === this.#base) this.#positions.delete(entry.id);
    this.#start += 1;
    this.#base += 1;
    // Compact now and then, so that dropping stays O(1) amortised.
    if (this.#start >= 1024 && this.#start * 2 >= this.#entries.length) {
      this.#entries = this.#entries.slice(this.#start);
      this.#start = 0;
    }
  }
}
