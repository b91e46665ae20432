// RedisChannelStores on a real three-master Redis Cluster (loopback, no
// replicas): channels hash over every shard, each process reads them over
// two connections per master, and one master killed and started again
// touches only its own channels: they report one error, deliver in their
// process meanwhile, and catch up; the other shards' channels never stop.

import { createCluster } from 'redis';
import t, { type Test } from 'tap';
import {
  type ChannelMessageEvent,
  type ChannelStore,
  type ErrorEvent,
  EventSourceChannel,
  RedisChannelStores,
} from '../../src/index.js';
import { keySlot } from '../../src/sse/redis-slot.js';
import { sleep, within } from '../helpers/bounded.js';
import { until } from '../helpers/peers.js';
import { type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';

const REDIS_ID = /^\d{13}-\d+$/;

interface Room {
  channel: EventSourceChannel;
  store: ChannelStore;
  seen: string[];
  errors: ErrorEvent[];
}

/** A process on the cluster: its own cluster client, its stores, and rooms by name. */
async function processOn(t: Test, cluster: RedisCluster, names: readonly string[]) {
  const client = createCluster({
    rootNodes: cluster.rootNodes,
    defaults: { socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) } },
  });
  client.on('error', () => {});
  await client.connect();
  t.teardown(() => client.destroy());
  const stores = await RedisChannelStores.connect({ client });
  t.teardown(() => stores.close());
  const rooms = new Map<string, Room>();
  for (const name of names) {
    const store = stores.channel(name);
    const channel = new EventSourceChannel({ store, history: 100 });
    t.teardown(() => channel.close());
    const room: Room = { channel, store, seen: [], errors: [] };
    channel.addEventListener('message', (event: ChannelMessageEvent) =>
      room.seen.push(`${event.lastEventId} ${event.data}`),
    );
    channel.addEventListener('error', (event) => room.errors.push(event));
    rooms.set(name, room);
  }
  await within(
    until(() => stores.subscriptions === names.length, 10_000),
    11_000,
    'subscribing',
  );
  const room = (name: string) => rooms.get(name) as Room;
  return { client, stores, room };
}

t.test('Redis Cluster: channels over every shard; one master down touches only its channels', async (t) => {
  const cluster = await startRedisCluster(t);
  if (!cluster) return;
  const names = Array.from({ length: 24 }, (_, index) => `room:${index}`);
  const portOf = new Map<string, number>();
  for (const name of names) portOf.set(name, await cluster.portOfSlot(keySlot(name)));
  const ports = new Set(portOf.values());
  t.equal(ports.size, 3, 'the rooms live on all three masters');

  const one = await processOn(t, cluster, names);
  const two = await processOn(t, cluster, names);

  // Connections per master: the command connection and one sharded subscriber, per process.
  for (const node of cluster.nodes) {
    const clients = await cluster.clients(node.port);
    t.ok(clients.length <= 4, `${node.port}: ${clients.length} connections for two processes`);
    t.equal(clients.filter((line) => / cmd=ssubscribe /.test(line)).length, 2, 'one sharded subscriber each');
  }

  await sleep(50);
  const ids = new Map<string, string>();
  for (const name of names) ids.set(name, await one.room(name).channel.broadcast(`first in ${name}`));
  await until(() => names.every((name) => two.room(name).seen.length === 1), 10_000);
  for (const name of names) t.same(two.room(name).seen, [`${ids.get(name)} first in ${name}`], name);

  // One master down.
  const victim = cluster.nodes.find((node) => node.port === portOf.get('room:0'));
  if (!victim) throw new Error('no master for room:0');
  const downRooms = names.filter((name) => portOf.get(name) === victim.port);
  const upRooms = names.filter((name) => portOf.get(name) !== victim.port);
  await victim.stop();
  await within(
    until(() => downRooms.every((name) => one.room(name).errors.length === 1 && !one.room(name).store.ready), 5000),
    6000,
    'its channels reporting the outage',
  );
  for (const name of downRooms) {
    t.match(one.room(name).errors[0]?.message, new RegExp(`Redis stream "${name}" cannot be reached`));
    const local = await one.room(name).channel.broadcast(`during in ${name}`);
    await until(() => one.room(name).seen.length === 2, 2000);
    t.equal(one.room(name).seen[1], `${local} during in ${name}`, `${name}: delivered in its process`);
  }
  // The other shards never stop: published during the outage, received by the other process.
  for (const name of upRooms) {
    t.ok(one.room(name).store.ready, `${name} is ready`);
    ids.set(name, await one.room(name).channel.broadcast(`during in ${name}`));
  }
  await within(
    until(() => upRooms.every((name) => two.room(name).seen.length === 2), 10_000),
    11_000,
    'the other shards delivering during the outage',
  );
  for (const name of upRooms) t.equal(two.room(name).seen[1], `${ids.get(name)} during in ${name}`);

  // Back: its channels read again, and every entry published since reaches the other process once, in order.
  await victim.start();
  await cluster.healthy();
  await within(
    until(() => downRooms.every((name) => one.room(name).store.ready && two.room(name).store.ready), 20_000),
    21_000,
    'its channels reading again',
  );
  const after = new Map<string, string[]>();
  for (const name of downRooms) {
    const published: string[] = [];
    for (let i = 0; i < 3; i++) published.push(await two.room(name).channel.broadcast(`after ${i}`));
    after.set(name, published);
  }
  await within(
    until(() => downRooms.every((name) => one.room(name).seen.length === 5), 10_000),
    11_000,
    'catching up',
  );
  for (const name of downRooms) {
    const published = after.get(name) ?? [];
    t.ok(
      published.every((id) => REDIS_ID.test(id)),
      `${name}: Redis ids`,
    );
    t.same(
      one.room(name).seen.slice(2),
      published.map((id, i) => `${id} after ${i}`),
      `${name}: each once, in order`,
    );
    t.equal(one.room(name).errors.length, 1, `${name}: one error for the outage`);
  }
  for (const name of upRooms) t.equal(one.room(name).errors.length + two.room(name).errors.length, 0, `${name}: none`);
});
