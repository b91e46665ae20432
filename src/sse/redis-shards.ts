// The connections under RedisChannelStores, one Redis server or a Redis
// Cluster behind one face: commands routed by key, a subscription per channel
// name, and which shard (node address) a key lives on, so that a shard's
// outage reaches exactly its channels.
//
// One server: two connections for any number of channels: the commands'
// (the application's client, or one made from the url) and one subscriber
// (its duplicate) holding a SUBSCRIBE per channel name.
// A cluster: node-redis's cluster client, as the application made it: per
// master, its command connection and, once a channel lives there, one
// sharded pub/sub connection (SSUBSCRIBE per name, Redis 7); its `node-error`
// and `node-ready` events say which shard went down and came back.
//
// References:
// - node-redis, pub/sub and clustering: https://github.com/redis/node-redis/blob/master/docs/pub-sub.md
//   https://github.com/redis/node-redis/blob/master/docs/clustering.md
// - Sharded pub/sub: https://redis.io/docs/latest/develop/interact/pubsub/#sharded-pubsub

import { closeClient, type RedisClientLike, settle } from './redis.js';
import { keySlot } from './redis-slot.js';

type MessageListener = (message: string, channel: string) => void;

/** The part of a node-redis client the stores use: commands, and a duplicate that subscribes. */
export interface RedisSubscriberLike extends RedisClientLike {
  subscribe(channel: string, listener: MessageListener): Promise<unknown>;
  unsubscribe(channel: string, listener: MessageListener): Promise<unknown>;
  on(event: 'error' | 'ready', listener: (error: Error) => void): unknown;
}

/** The part of a node-redis cluster client (`createCluster`, v5 and later) the stores use. */
export interface RedisClusterLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  /** The 16,384 slots, each with its master (node-redis's `cluster.slots`). */
  readonly slots: ReadonlyArray<{ readonly master: { readonly host: string; readonly port: number } } | undefined>;
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  sSubscribe(channel: string, listener: MessageListener): Promise<unknown>;
  sUnsubscribe(channel: string, listener: MessageListener): Promise<unknown>;
  connect(): Promise<unknown>;
  on(event: 'node-error' | 'node-ready', listener: (...args: unknown[]) => void): unknown;
  off(event: 'node-error' | 'node-ready', listener: (...args: unknown[]) => void): unknown;
}

/** What the connections report: a shard down (every channel on it), or connected again (read what was missed). */
export interface ShardEvents {
  down(shard: string, error: unknown): void;
  up(shard: string): void;
}

/** Commands and subscriptions, on one server or a cluster. */
export interface Shards {
  /** The publish command for the publish script: PUBLISH on one server, SPUBLISH on a cluster. */
  readonly publish: 'PUBLISH' | 'SPUBLISH';
  /** Whether commands can be sent now. */
  readonly ready: boolean;
  /** The shard (a node's `host:port`) that serves `key` now: `''` on one server. */
  shardOf(key: string): string;
  command(key: string, readonly: boolean, args: string[]): Promise<unknown>;
  subscribe(name: string, listener: MessageListener): Promise<unknown>;
  unsubscribe(name: string, listener: MessageListener): Promise<unknown>;
  /** Resolves once connected, or at the first connection error (node-redis goes on reconnecting). */
  connect(events: ShardEvents): Promise<void>;
  close(): Promise<void>;
}

/** Whether `client` is a node-redis cluster client rather than a client of one server. */
export function isCluster(client: object): client is RedisClusterLike {
  const candidate = client as Partial<RedisClusterLike>;
  return typeof candidate.sSubscribe === 'function' && 'slots' in candidate && 'masters' in candidate;
}

/** One Redis server: the commands' connection and one subscriber. */
export class ServerShards implements Shards {
  readonly publish = 'PUBLISH';
  readonly #writer: RedisClientLike;
  readonly #subscriber: RedisSubscriberLike;
  readonly #ownsWriter: boolean;

  constructor(writer: RedisClientLike, ownsWriter: boolean) {
    const subscriber = writer.duplicate() as RedisSubscriberLike;
    if (typeof subscriber.subscribe !== 'function' || typeof subscriber.unsubscribe !== 'function') {
      throw new TypeError('client must be a node-redis client (createClient() from the redis package)');
    }
    this.#writer = writer;
    this.#subscriber = subscriber;
    this.#ownsWriter = ownsWriter;
  }

  get ready(): boolean {
    return this.#writer.isReady && this.#subscriber.isReady;
  }

  shardOf(): string {
    return '';
  }

  command(_key: string, _readonly: boolean, args: string[]): Promise<unknown> {
    return this.#writer.sendCommand(args);
  }

  subscribe(name: string, listener: MessageListener): Promise<unknown> {
    return this.#subscriber.subscribe(name, listener);
  }

  unsubscribe(name: string, listener: MessageListener): Promise<unknown> {
    return this.#subscriber.unsubscribe(name, listener);
  }

  async connect(events: ShardEvents): Promise<void> {
    // Every client made here has its errors handled: they are the channels' `error` events.
    const down = (error: Error): void => events.down('', error);
    const up = (): void => events.up('');
    this.#subscriber.on('error', down);
    this.#subscriber.on('ready', up);
    const writer = this.#writer as RedisSubscriberLike;
    if (this.#ownsWriter) {
      writer.on('error', down);
      writer.on('ready', up);
    }
    const connecting = Promise.all([writer.isOpen ? undefined : writer.connect(), this.#subscriber.connect()]);
    connecting.catch(() => {}); // failures after the first arrive as 'error' events
    let firstError: (() => void) | undefined;
    const failed = new Promise<void>((resolve) => {
      firstError = resolve;
    });
    this.#subscriber.on('error', () => firstError?.());
    if (this.#ownsWriter) writer.on('error', () => firstError?.());
    try {
      await Promise.race([connecting, failed]);
    } catch (error) {
      // Not a connection error but a refusal (e.g. a malformed URL).
      await this.close();
      throw error;
    } finally {
      firstError = undefined;
    }
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber;
    await settle(() => (subscriber.destroy ? subscriber.destroy() : subscriber.disconnect?.()));
    if (this.#ownsWriter) await closeClient(this.#writer);
  }
}

/** A Redis Cluster, through the application's node-redis cluster client (which it keeps, and closes). */
export class ClusterShards implements Shards {
  readonly publish = 'SPUBLISH';
  readonly #cluster: RedisClusterLike;
  #onError: ((...args: unknown[]) => void) | undefined;
  #onReady: ((...args: unknown[]) => void) | undefined;

  constructor(cluster: RedisClusterLike) {
    this.#cluster = cluster;
  }

  get ready(): boolean {
    return this.#cluster.isReady;
  }

  shardOf(key: string): string {
    const master = this.#cluster.slots[keySlot(key)]?.master;
    return master ? `${master.host}:${master.port}` : '';
  }

  command(key: string, readonly: boolean, args: string[]): Promise<unknown> {
    return this.#cluster.sendCommand(key, readonly, args);
  }

  subscribe(name: string, listener: MessageListener): Promise<unknown> {
    return this.#cluster.sSubscribe(name, listener);
  }

  unsubscribe(name: string, listener: MessageListener): Promise<unknown> {
    return this.#cluster.sUnsubscribe(name, listener);
  }

  async connect(events: ShardEvents): Promise<void> {
    // node-redis: 'node-error' (error, { host, port }), 'node-ready' ({ host, port }).
    this.#onError = (error, node) => events.down(addressOf(node), error);
    this.#onReady = (node) => events.up(addressOf(node));
    this.#cluster.on('node-error', this.#onError);
    this.#cluster.on('node-ready', this.#onReady);
    try {
      if (!this.#cluster.isOpen) await this.#cluster.connect();
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    // The cluster client is the application's: it closes it.
    if (this.#onError) this.#cluster.off('node-error', this.#onError);
    if (this.#onReady) this.#cluster.off('node-ready', this.#onReady);
  }
}

function addressOf(node: unknown): string {
  const { host, port } = (node ?? {}) as { host?: unknown; port?: unknown };
  return `${String(host)}:${String(port)}`;
}
