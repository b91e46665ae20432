// Many channels on a few Redis connections: one RedisChannelStores per
// process hands out a ChannelStore per channel name, each on a Redis Stream
// of that name, all of them over the same connections (redis-shards.ts):
// two for one server however many channels, and per master of a cluster its
// command connection and one sharded subscriber.
//
// Calling contract. Each channel's store appends with the publish script
// (redis-wire.ts: XADD and PUBLISH, or SPUBLISH, in one step), and reads
// live entries from the subscription of its name, in stream order. It
// delivers an entry only when the message names as the previous id the last
// one it delivered; otherwise (a message missed while a connection was down,
// a shard restarted) it reads the stream with XRANGE from its last id first,
// holding live messages until then. The same read follows every reconnection.
// So every entry reaches every channel once, in order, as with XREAD, without
// a blocking connection per channel. A channel whose members all left is
// closed by the application (or never made): an idle name costs no
// connection, and no subscription once closed.
//
// Why not XREAD BLOCK over many streams: one blocked XREAD on 10,000 keys
// must be reissued with all of them for each entry that arrives. Measured,
// and the reasons: docs/decisions/redis-many-channels.md.
//
// References:
// - Redis Streams: https://redis.io/docs/latest/develop/data-types/streams/
// - Pub/sub (at most once, in order per connection): https://redis.io/docs/latest/develop/interact/pubsub/
// - Cluster key slots: ./redis-slot.ts

import { randomUUID } from 'node:crypto';
import type { ChannelStore, ChannelStoreSink } from '../channel/channel.js';
import { compareStreamIds } from '../channel/history.js';
import { validateOptionKeys } from '../options.js';
import { delay, loadRedis, RECONNECT, type RedisClientLike } from './redis.js';
import { ClusterShards, isCluster, type RedisClusterLike, ServerShards, type Shards } from './redis-shards.js';
import {
  DeliveredHere,
  decodePublished,
  entriesOf,
  PUBLISH_SCRIPT,
  PUBLISH_SHA,
  type PublishedEntry,
  publishArgs,
  type StreamEntry,
} from './redis-wire.js';

export type { RedisClusterLike, RedisSubscriberLike } from './redis-shards.js';

/** Options of {@link RedisChannelStores.connect}. */
export interface RedisChannelStoresOptions {
  /** A node-redis client (`createClient`) or cluster client (`createCluster`) the application made. */
  client?: RedisClientLike | RedisClusterLike;
  /** Or a URL (`redis://host:6379`) of one server: the stores import `redis` and connect (and close what they opened). */
  url?: string;
  /** Each stream's length cap, `XADD ... MAXLEN ~ n`: how far back any process can resume. Default 10,000. */
  maxLength?: number;
}

const OPTION_KEYS = ['client', 'url', 'maxLength'] as const;
const RETRY_MS = 250;
/** Entries one XRANGE asks for while catching up. */
const PAGE = 1000;
/** Live messages held while a read is in flight, at most; past it they are read from the stream instead. */
const MAX_HELD = 10_000;

/** One channel name's subscription, shared by the stores of that name in this process. */
interface Topic {
  readonly stores: Set<StreamChannelStore>;
  readonly listener: (message: string) => void;
  subscribed: Promise<unknown> | undefined;
  /** Whether Redis confirmed the subscription. */
  confirmed: boolean;
}

/** What a channel's store asks of its RedisChannelStores. */
interface Owner {
  readonly shards: Shards;
  readonly delivered: DeliveredHere;
  readonly closed: boolean;
  subscribed(store: StreamChannelStore): Promise<unknown>;
  append(store: StreamChannelStore, event: string | undefined, data: string): Promise<string>;
  detach(store: StreamChannelStore): void;
}

/**
 * Channel stores for any number of channels, by name, over a fixed number of
 * Redis connections; with a cluster client, channels hash over the shards.
 *
 * @see https://redis.io/docs/latest/develop/data-types/streams/
 * @example
 * const stores = await RedisChannelStores.connect({ url: process.env.REDIS_URL });
 * const rooms = new Map();
 * function room(name) {
 *   let channel = rooms.get(name);
 *   if (!channel) rooms.set(name, (channel = new EventSource.Channel({ store: stores.channel(`room:${name}`) })));
 *   return channel; // close it (and delete it) when its last member leaves
 * }
 */
export class RedisChannelStores {
  readonly #shards: Shards;
  readonly #maxLength: number;
  readonly #topics = new Map<string, Topic>();
  readonly #stores = new Set<StreamChannelStore>();
  readonly #origin = randomUUID().slice(0, 8);
  readonly #delivered = new DeliveredHere();
  #sequence = 0;
  #closed = false;
  readonly #owner: Owner;

  /**
   * Connects (or uses `client`). With one server it resolves once connected,
   * or at the first connection error (the channels then start as they go on
   * during an outage: they report it, deliver in this process, and catch up
   * later); a cluster client must reach the cluster to learn its slots.
   *
   * @throws TypeError for bad options; an Error naming the package when `url`
   * is given and `redis` is not installed.
   */
  static async connect(options: RedisChannelStoresOptions): Promise<RedisChannelStores> {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('RedisChannelStores.connect() takes options');
    validateOptionKeys(options, OPTION_KEYS);
    const { client, url } = options;
    const maxLength = options.maxLength ?? 10_000;
    if (!Number.isSafeInteger(maxLength) || maxLength < 1)
      throw new TypeError('maxLength must be a positive whole number');
    if ((client === undefined) === (url === undefined)) throw new TypeError('Give either client or url');
    let shards: Shards;
    if (client) {
      if (typeof client !== 'object' || client === null || typeof client.sendCommand !== 'function') {
        throw new TypeError('client must be a node-redis client (createClient() or createCluster() from redis)');
      }
      if (isCluster(client)) shards = new ClusterShards(client);
      else if (typeof (client as RedisClientLike).duplicate === 'function')
        shards = new ServerShards(client as RedisClientLike, false);
      else throw new TypeError('client must be a node-redis client (createClient() or createCluster() from redis)');
    } else {
      if (typeof url !== 'string') throw new TypeError('url must be a redis:// URL');
      const redis = await loadRedis('RedisChannelStores');
      shards = new ServerShards(redis.createClient({ url, socket: RECONNECT }), true);
    }
    const stores = new RedisChannelStores(shards, maxLength);
    await shards.connect({
      down: (shard, error) => stores.#down(shard, error),
      up: (shard) => stores.#up(shard),
    });
    return stores;
  }

  /** Use {@link RedisChannelStores.connect}. */
  private constructor(shards: Shards, maxLength: number) {
    this.#shards = shards;
    this.#maxLength = maxLength;
    const self = this;
    this.#owner = {
      shards,
      delivered: this.#delivered,
      get closed() {
        return self.#closed;
      },
      subscribed: (store) => this.#subscribed(store),
      append: (store, event, data) => this.#append(store, event, data),
      detach: (store) => this.#detach(store),
    };
  }

  /**
   * A store for the channel `name` (also its stream's key and its pub/sub
   * channel's): give it to one channel, `new Channel({ store })`. It makes
   * no connection; it subscribes when the channel opens it and unsubscribes
   * when the channel closes.
   *
   * @throws TypeError when `name` is not a non-empty string; InvalidStateError after close().
   */
  channel(name: string): ChannelStore {
    if (typeof name !== 'string' || name === '') throw new TypeError('name must be the name of the channel');
    if (this.#closed) throw new DOMException('The stores are closed', 'InvalidStateError');
    return new StreamChannelStore(this.#owner, name);
  }

  /** How many channel names this process is subscribed to now (confirmed by Redis). */
  get subscriptions(): number {
    let count = 0;
    for (const topic of this.#topics.values()) if (topic.confirmed) count++;
    return count;
  }

  /** Closes every channel's store (their channels go on locally) and the connections the stores made. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stores = [...this.#stores];
    this.#stores.clear();
    this.#topics.clear();
    for (const store of stores) store.stop();
    await this.#shards.close();
  }

  #subscribed(store: StreamChannelStore): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('closed'));
    this.#stores.add(store);
    let topic = this.#topics.get(store.key);
    if (!topic) {
      const stores = new Set<StreamChannelStore>();
      topic = {
        stores,
        subscribed: undefined,
        confirmed: false,
        listener: (message) => {
          const published = decodePublished(message);
          if (published) for (const each of stores) each.message(published);
        },
      };
      this.#topics.set(store.key, topic);
    }
    topic.stores.add(store);
    if (topic.subscribed) return topic.subscribed;
    const current = topic;
    const subscribed = this.#shards.subscribe(store.key, topic.listener);
    current.subscribed = subscribed;
    // A refused subscription is asked again by the next read.
    subscribed.then(
      () => {
        current.confirmed = true;
      },
      () => {
        if (current.subscribed === subscribed) current.subscribed = undefined;
      },
    );
    return subscribed;
  }

  async #append(store: StreamChannelStore, event: string | undefined, data: string): Promise<string> {
    const origin = `${this.#origin}:${++this.#sequence}`;
    const args = publishArgs(this.#shards.publish, store.key, this.#maxLength, data, origin, event);
    try {
      try {
        return String(await this.#shards.command(store.key, false, ['EVALSHA', PUBLISH_SHA, ...args]));
      } catch (error) {
        // A node that has not seen the script yet (new, or restarted).
        if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
        return String(await this.#shards.command(store.key, false, ['EVAL', PUBLISH_SCRIPT, ...args]));
      }
    } catch (error) {
      // The channel delivers it here; if Redis stored it after all, not again.
      this.#delivered.add(origin);
      throw error;
    }
  }

  #detach(store: StreamChannelStore): void {
    this.#stores.delete(store);
    const topic = this.#topics.get(store.key);
    if (!topic?.stores.delete(store) || topic.stores.size > 0) return;
    this.#topics.delete(store.key);
    if (this.#closed || !topic.subscribed) return;
    // Not waited for: while Redis is down it waits for the reconnection, and
    // node-redis forgets the listener at once.
    const shards = this.#shards;
    topic.subscribed.then(() => shards.unsubscribe(store.key, topic.listener)).catch(() => {});
  }

  /** A shard cannot be reached: every channel on it says so (once per outage). */
  #down(shard: string, error: unknown): void {
    for (const store of this.#stores) if (this.#shards.shardOf(store.key) === shard) store.failed(error);
  }

  /** A connection to a shard is back: its channels read what they missed, and are well again once read. */
  #up(shard: string): void {
    for (const store of this.#stores) if (this.#shards.shardOf(store.key) === shard) store.catchUp();
  }
}

/**
 * One channel's store within a {@link RedisChannelStores}: the channel's
 * entries on the stream `key`, live ones from its subscription.
 */
class StreamChannelStore implements ChannelStore {
  readonly key: string;
  readonly #owner: Owner;
  #sink: ChannelStoreSink | undefined;
  #recent = 0;
  /** The id of the newest entry delivered; undefined until the first read. */
  #last: string | undefined;
  /** While a read is in flight: the live messages held until it is done. */
  #held: PublishedEntry[] | null = null;
  /** Read again once this read is done (a reconnection, or a gap, while reading). */
  #again = false;
  #down = false;
  #closed = false;

  constructor(owner: Owner, key: string) {
    this.#owner = owner;
    this.key = key;
  }

  get description(): string {
    return `Redis stream ${JSON.stringify(this.key)}`;
  }

  get ready(): boolean {
    return !this.#closed && !this.#owner.closed && !this.#down && this.#owner.shards.ready;
  }

  open(sink: ChannelStoreSink, recent: number): void {
    if (this.#sink) throw new Error('A channel store serves one channel: ask RedisChannelStores for one per channel');
    if (this.#owner.closed) throw new DOMException('The stores are closed', 'InvalidStateError');
    this.#sink = sink;
    this.#recent = recent;
    void this.#read();
  }

  async append(event: string | undefined, data: string): Promise<string> {
    try {
      return await this.#owner.append(this, event, data);
    } catch (error) {
      // Failed here: not ready until a read succeeds (and the channel hears it is back).
      this.failed(error);
      this.catchUp();
      throw error;
    }
  }

  async range(afterId: string): Promise<StreamEntry[]> {
    if (Number.isNaN(compareStreamIds(afterId, afterId))) return [];
    const entries: StreamEntry[] = [];
    let from = afterId;
    for (;;) {
      const page = entriesOf(
        await this.#owner.shards.command(this.key, true, ['XRANGE', this.key, `(${from}`, '+', 'COUNT', String(PAGE)]),
      );
      entries.push(...page);
      const last = page.at(-1);
      if (!last || page.length < PAGE) return entries.map(({ id, event, data }) => ({ id, data, event }));
      from = last.id;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.stop();
    this.#owner.detach(this);
  }

  /** Stops at once, with nothing more to its channel. */
  stop(): void {
    this.#closed = true;
    this.#held = null;
  }

  /** A message of its subscription. */
  message(published: PublishedEntry): void {
    if (this.#closed) return;
    if (this.#held) {
      if (this.#held.length < MAX_HELD) this.#held.push(published);
      else this.#again = true; // read from the stream instead
      return;
    }
    if (!this.#accept(published)) void this.#read();
  }

  /** Connected again: read what came while it was not. */
  catchUp(): void {
    if (this.#closed || !this.#sink) return;
    void this.#read();
  }

  /** The store (or its shard) cannot be reached: said once per outage. */
  failed(error: unknown): void {
    if (this.#closed || !this.#sink) return;
    this.#down = true;
    this.#sink.error(error);
  }

  /**
   * Delivers a live message that follows the last entry delivered; true when
   * it did, or when it came before (already delivered); false at a gap.
   */
  #accept({ previous, entry }: PublishedEntry): boolean {
    const last = this.#last;
    if (last === undefined) return false;
    if (compareStreamIds(entry.id, last) <= 0) return true;
    if (compareStreamIds(previous, last) !== 0) return false;
    this.#deliver(entry);
    return true;
  }

  #deliver(entry: StreamEntry): void {
    this.#last = entry.id;
    if (this.#owner.delivered.has(entry)) return;
    const { id, event, data } = entry;
    this.#sink?.entry({ id, data, ...(event !== undefined && { event }) }, true);
  }

  /**
   * Subscribes, then reads: at first the newest `recent` entries (history),
   * later everything after the last entry delivered; then the live messages
   * held meanwhile. Again until there is no gap; retried while Redis is down.
   */
  async #read(): Promise<void> {
    if (this.#held) {
      this.#again = true;
      return;
    }
    this.#held = [];
    for (;;) {
      if (this.#closed) return;
      this.#again = false;
      try {
        await this.#owner.subscribed(this);
        if (this.#last === undefined) await this.#readRecent();
        else await this.#readAfter(this.#last);
        if (this.#closed) return;
        if (this.#down) {
          this.#down = false;
          this.#sink?.recovered();
        }
        const held: PublishedEntry[] = this.#held ?? [];
        let gap = false;
        for (const published of held) if (!this.#accept(published)) gap = true;
        if (gap || this.#again) {
          this.#held = [];
          continue;
        }
        this.#held = null;
        return;
      } catch (error) {
        if (this.#closed) return;
        this.failed(error);
        await delay(RETRY_MS);
      }
    }
  }

  async #readRecent(): Promise<void> {
    const count = String(Math.max(this.#recent, 1));
    const reply = await this.#owner.shards.command(this.key, true, ['XREVRANGE', this.key, '+', '-', 'COUNT', count]);
    if (this.#closed) return;
    const entries = entriesOf(reply).reverse();
    // Entries published since the subscription began came as messages too:
    // those are live (the channel's members get them), the older ones history.
    const live = new Set((this.#held ?? []).map(({ entry }) => entry.id));
    this.#last = '0-0';
    for (const entry of entries) {
      if (live.has(entry.id)) this.#deliver(entry);
      else {
        this.#last = entry.id;
        const { id, event, data } = entry;
        if (this.#recent > 0) this.#sink?.entry({ id, data, ...(event !== undefined && { event }) }, false);
      }
    }
  }

  async #readAfter(after: string): Promise<void> {
    let from = after;
    for (;;) {
      const reply = await this.#owner.shards.command(this.key, true, [
        'XRANGE',
        this.key,
        `(${from}`,
        '+',
        'COUNT',
        String(PAGE),
      ]);
      if (this.#closed) return;
      const entries = entriesOf(reply);
      for (const entry of entries) if (compareStreamIds(entry.id, this.#last ?? '0-0') > 0) this.#deliver(entry);
      const last = entries.at(-1);
      if (!last || entries.length < PAGE) return;
      from = last.id;
    }
  }
}
