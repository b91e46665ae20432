// A ChannelStore on a Redis Stream: every process appends with XADD (capped
// with MAXLEN ~), reads every entry back in one order with XREAD BLOCK, and
// answers a resume with XRANGE from the id the client sent. The SSE id is the
// stream entry id, so a client can resume on any process.
//
// The `redis` package is an optional peer dependency: nothing of it loads
// unless connect() is given a URL (then it is imported), and a client the
// application made is used as it is, duplicated once for the blocking reads.
//
// References:
// - Redis Streams: https://redis.io/docs/latest/develop/data-types/streams/
// - XADD (MAXLEN ~), XREAD (BLOCK), XRANGE (exclusive "(" start, Redis 6.2): https://redis.io/docs/latest/commands/
// - node-redis: https://github.com/redis/node-redis

import { randomUUID } from 'node:crypto';
import type { ChannelStore, ChannelStoreSink, StoredEvent } from '../channel/channel.js';
import { isStreamId } from '../channel/history.js';
import { validateOptionKeys } from '../options.js';
import { DeliveredHere, entriesOf, firstStream } from './redis-wire.js';

/** The part of a node-redis client (v4 and later) the store uses. */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): RedisClientLike;
  connect(): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  destroy?(): unknown;
  disconnect?(): Promise<unknown>;
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
}

/** Options of {@link RedisChannelStore.connect}. */
export interface RedisChannelStoreOptions {
  /** The stream's key, one per channel, e.g. `'feed'`. */
  key: string;
  /** A node-redis client the application made; the store duplicates it for its blocking reads. */
  client?: RedisClientLike;
  /** Or a URL (`redis://host:6379`): the store imports `redis` and connects (and closes what it opened). */
  url?: string;
  /** The stream's length cap, `XADD ... MAXLEN ~ n`: how far back any process can resume. Default 10,000. */
  maxLength?: number;
  /** Milliseconds one XREAD blocks before it asks again. Default 5,000. */
  block?: number;
}

const OPTION_KEYS = ['key', 'client', 'url', 'maxLength', 'block'] as const;
const RETRY_MS = 250;

/**
 * A {@link ChannelStore} on a Redis Stream, so that every process behind a
 * load balancer serves one feed: the same events, the same ids, and resume
 * from any process.
 *
 * @see https://redis.io/docs/latest/develop/data-types/streams/
 * @example
 * const store = await RedisChannelStore.connect({ url: process.env.REDIS_URL, key: 'feed' });
 * const channel = new EventSource.Channel({ store });
 * channel.onerror = (event) => console.warn(event.message); // Redis down: local delivery goes on
 */
export class RedisChannelStore implements ChannelStore {
  readonly #writer: RedisClientLike;
  readonly #reader: RedisClientLike;
  readonly #ownsWriter: boolean;
  readonly #key: string;
  readonly #maxLength: number;
  readonly #block: number;
  readonly #origin = randomUUID().slice(0, 8);
  #sequence = 0;
  /** Origins of appends that failed here and went out locally: not delivered again if Redis kept them. */
  readonly #delivered = new DeliveredHere();
  #sink: ChannelStoreSink | undefined;
  #down = false;
  #lastError: unknown;
  #firstError: (() => void) | undefined;
  #closed = false;

  /**
   * Connects (or uses `client`) and makes the reading connection.
   *
   * @throws TypeError for bad options; an Error naming the package when `url` is
   * given and `redis` is not installed.
   */
  static async connect(options: RedisChannelStoreOptions): Promise<RedisChannelStore> {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('RedisChannelStore.connect() takes options');
    validateOptionKeys(options, OPTION_KEYS);
    const { key, client, url } = options;
    const maxLength = options.maxLength ?? 10_000;
    const block = options.block ?? 5000;
    if (typeof key !== 'string' || key === '') throw new TypeError('key must be the name of the Redis stream');
    if (!Number.isSafeInteger(maxLength) || maxLength < 1)
      throw new TypeError('maxLength must be a positive whole number');
    if (!Number.isSafeInteger(block) || block < 1)
      throw new TypeError('block must be a positive number of milliseconds');
    if ((client === undefined) === (url === undefined)) throw new TypeError('Give either client or url');
    let writer: RedisClientLike;
    if (client) {
      if (typeof client.sendCommand !== 'function' || typeof client.duplicate !== 'function') {
        throw new TypeError('client must be a node-redis client (createClient() from the redis package)');
      }
      writer = client;
    } else {
      if (typeof url !== 'string') throw new TypeError('url must be a redis:// URL');
      const redis = await loadRedis();
      writer = redis.createClient({ url, socket: RECONNECT });
    }
    const store = new RedisChannelStore(writer, writer.duplicate(), client === undefined, key, maxLength, block);
    await store.#connect();
    return store;
  }

  /** Use {@link RedisChannelStore.connect}. */
  private constructor(
    writer: RedisClientLike,
    reader: RedisClientLike,
    ownsWriter: boolean,
    key: string,
    maxLength: number,
    block: number,
  ) {
    this.#writer = writer;
    this.#reader = reader;
    this.#ownsWriter = ownsWriter;
    this.#key = key;
    this.#maxLength = maxLength;
    this.#block = block;
    // Every client made here has its errors handled: they are the channel's `error` event.
    const failed = (error: Error): void => this.#failed(error);
    reader.on('error', failed);
    if (ownsWriter) writer.on('error', failed);
  }

  /**
   * Resolves once connected, or at the first connection error: a store made
   * while Redis is down starts as it would go on during an outage (the
   * channel reports it, delivers in this process, and catches up later),
   * while node-redis keeps reconnecting.
   */
  async #connect(): Promise<void> {
    const writer = this.#writer;
    const connecting = Promise.all([writer.isOpen ? undefined : writer.connect(), this.#reader.connect()]);
    connecting.catch(() => {}); // failures after the first arrive as 'error' events
    const failed = new Promise<void>((resolve) => {
      this.#firstError = resolve;
    });
    try {
      await Promise.race([connecting, failed]);
    } catch (error) {
      // Not a connection error but a refusal (e.g. a malformed URL).
      await this.close();
      throw error;
    } finally {
      this.#firstError = undefined;
    }
  }

  get description(): string {
    return `Redis stream ${JSON.stringify(this.#key)}`;
  }

  get ready(): boolean {
    return !this.#closed && this.#writer.isReady;
  }

  open(sink: ChannelStoreSink, recent: number): void {
    if (this.#sink) throw new Error('A RedisChannelStore serves one channel');
    this.#sink = sink;
    // Down since connect(): say so once the channel's listeners can hear it.
    if (this.#down) {
      setImmediate(() => {
        if (this.#down && !this.#closed) sink.error(this.#lastError);
      });
    }
    void this.#read(recent);
  }

  async append(event: string | undefined, data: string): Promise<string> {
    const origin = `${this.#origin}:${++this.#sequence}`;
    const args = ['XADD', this.#key, 'MAXLEN', '~', String(this.#maxLength), '*', 'data', data, 'origin', origin];
    if (event !== undefined) args.push('event', event);
    try {
      return String(await this.#writer.sendCommand(args));
    } catch (error) {
      // The channel delivers it here; if Redis stored it after all, do not again.
      this.#delivered.add(origin);
      throw error;
    }
  }

  async range(afterId: string): Promise<StoredEvent[]> {
    if (!isStreamId(afterId)) return [];
    const reply = await this.#writer.sendCommand([
      'XRANGE',
      this.#key,
      `(${afterId}`,
      '+',
      'COUNT',
      String(this.#maxLength * 2),
    ]);
    return entriesOf(reply);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // The reader is blocked in XREAD: drop its connection.
    await settle(() => (this.#reader.destroy ? this.#reader.destroy() : this.#reader.disconnect?.()));
    if (this.#ownsWriter) await closeClient(this.#writer);
  }

  /** Reads the newest `recent` entries (history), then every new one, until closed. */
  async #read(recent: number): Promise<void> {
    let last = '0-0';
    // On the writer's connection, so that it is ordered with this process's
    // own XADDs: none of them is missed, or read twice.
    for (;;) {
      if (this.#closed) return;
      try {
        const reply = await this.#writer.sendCommand([
          'XREVRANGE',
          this.#key,
          '+',
          '-',
          'COUNT',
          String(Math.max(recent, 1)),
        ]);
        const entries = entriesOf(reply).reverse();
        last = entries.at(-1)?.id ?? '0-0';
        if (recent > 0) for (const entry of entries) this.#sink?.entry(entry, false);
        break;
      } catch (error) {
        this.#failed(error);
        await delay(RETRY_MS);
      }
    }
    while (!this.#closed) {
      try {
        const reply = await this.#reader.sendCommand([
          'XREAD',
          'COUNT',
          '1000',
          'BLOCK',
          String(this.#block),
          'STREAMS',
          this.#key,
          last,
        ]);
        if (this.#closed) return;
        this.#recovered();
        for (const entry of entriesOf(firstStream(reply))) {
          last = entry.id;
          if (this.#delivered.has(entry)) continue;
          this.#sink?.entry(entry, true);
        }
      } catch (error) {
        if (this.#closed) return;
        this.#failed(error);
        await delay(RETRY_MS);
      }
    }
  }

  #failed(error: unknown): void {
    if (this.#closed) return;
    this.#down = true;
    this.#lastError = error;
    this.#firstError?.();
    this.#sink?.error(error);
  }

  #recovered(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#sink?.recovered();
  }
}

interface RedisModule {
  createClient(options: object): RedisClientLike;
}

/** Imports the `redis` package (an optional peer), naming it when it is missing; `user` names the caller. */
export async function loadRedis(user = 'RedisChannelStore'): Promise<RedisModule> {
  const name = 'redis';
  try {
    return (await import(name)) as RedisModule;
  } catch (error) {
    throw new Error(`${user} with a url needs the redis package (npm install redis): ${(error as Error).message}`);
  }
}

/** node-redis's reconnection delays for clients made from a url: 50 ms doubling, at most 1 s. */
export const RECONNECT = { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) };

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Closes a client this module made: gracefully (pending commands answered) when Redis is there; at once when not. */
export async function closeClient(client: RedisClientLike): Promise<void> {
  if (client.isReady) await settle(() => (client.close ? client.close() : client.quit?.()));
  else await settle(() => (client.destroy ? client.destroy() : client.disconnect?.()));
}

/** Runs a closing action, ignoring that it was closed already. */
export async function settle(action: () => unknown): Promise<void> {
  try {
    await action();
  } catch {
    // Already gone.
  }
}
