// RedisChannelStores against a real redis-server: many channels by name on
// two connections (counted with CLIENT LIST), two "processes" sharing rooms
// and their ids, a gap in the live messages filled from the stream, Redis
// going down and coming back (one error per channel, local delivery, then
// every entry once and in order), and channels dropped with their
// subscriptions. The cluster is in redis-cluster.test.ts.

import http from 'node:http';
import { createClient } from 'redis';
import t, { type Test } from 'tap';
import {
  type ChannelMessageEvent,
  type ChannelStore,
  type ErrorEvent,
  EventSource,
  EventSourceChannel,
  RedisChannelStores,
} from '../../src/index.js';
import { sleep, within } from '../helpers/bounded.js';
import { listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { restartableRedis, startRedis } from '../helpers/services.js';
import { run } from '../helpers/spawn.js';
import { openRawStream } from '../helpers/sse.js';

const REDIS_ID = /^\d{13}-\d+$/;

/** A process's view: its stores and the channels it opened, each recording what it delivered. */
async function processOn(t: Test, url: string) {
  const stores = await RedisChannelStores.connect({ url });
  t.teardown(() => stores.close());
  const rooms = new Map<
    string,
    { channel: EventSourceChannel; store: ChannelStore; seen: string[]; errors: ErrorEvent[] }
  >();
  const room = (name: string) => {
    let found = rooms.get(name);
    if (!found) {
      const store = stores.channel(name);
      const channel = new EventSourceChannel({ store, history: 100 });
      t.teardown(() => channel.close());
      const seen: string[] = [];
      const errors: ErrorEvent[] = [];
      channel.addEventListener('message', (event: ChannelMessageEvent) =>
        seen.push(`${event.lastEventId} ${event.data}`),
      );
      channel.addEventListener('error', (event) => errors.push(event));
      found = { channel, store, seen, errors };
      rooms.set(name, found);
    }
    return found;
  };
  return { stores, room, rooms };
}

async function admin(t: Test, url: string) {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  t.teardown(() => client.destroy());
  /** Clients connected now, this one left out. */
  const connections = async () => {
    const list = String(await client.sendCommand(['CLIENT', 'LIST']));
    const mine = String(await client.sendCommand(['CLIENT', 'ID']));
    return list
      .split('\n')
      .filter((line) => line.startsWith('id=') && !line.startsWith(`id=${mine} `))
      .map((line) => line.match(/ cmd=(\S+)/)?.[1] ?? '?');
  };
  return { client, connections };
}

t.test('RedisChannelStores.connect() checks its options', async (t) => {
  const bad = [
    {},
    { url: 'redis://127.0.0.1:1', client: {} },
    { url: 'redis://127.0.0.1:1', key: 'k' },
    { url: 'redis://127.0.0.1:1', maxLength: 0 },
    { client: { sendCommand: 1 } },
    { client: { sendCommand: () => {} } },
  ];
  for (const options of bad) {
    await t.rejects(RedisChannelStores.connect(options as never), TypeError, JSON.stringify(options));
  }
  await t.rejects(RedisChannelStores.connect(null as never), TypeError);
  await t.rejects(RedisChannelStores.connect({ url: 'http://127.0.0.1:1' }), TypeError);
});

t.test(
  '10,000 channels in one process are read over 2 Redis connections, and dropped channels unsubscribe',
  async (t) => {
    const redis = await startRedis(t);
    if (!redis) return;
    const { connections, client } = await admin(t, redis.url);
    const one = await processOn(t, redis.url);
    const two = await processOn(t, redis.url);
    t.throws(() => one.stores.channel(''), TypeError);
    const names = Array.from({ length: 10_000 }, (_, index) => `room:${index}`);
    for (const name of names) one.room(name);
    await within(
      until(() => one.stores.subscriptions === names.length, 30_000),
      31_000,
      'subscribing 10,000 channels',
    );
    // Two channels of the other process, on names the first one has too.
    const far = two.room('room:9999');
    const near = two.room('room:0');
    await until(() => two.stores.subscriptions === 2, 5000);
    const clients = await connections();
    t.equal(clients.length, 4, `two per process, whatever the channels: ${clients.join(' ')}`);
    t.ok(clients.filter((cmd) => /subscribe/.test(cmd)).length === 2, 'one subscriber per process');
    await until(() => one.stores.subscriptions === names.length, 10_000);
    const subscribed = (await client.sendCommand(['PUBSUB', 'NUMSUB', 'room:9999', 'room:5000'])) as unknown[];
    t.same(subscribed.map(String), ['room:9999', '2', 'room:5000', '1']);

    // Each room delivers to its own channels, in every process, with the store's ids.
    await sleep(100);
    const ids = [
      await one.room('room:9999').channel.broadcast('a'),
      await far.channel.broadcast('b'),
      await one.room('room:0').channel.broadcast('c'),
      await one.room('room:5000').channel.broadcast('d'),
    ];
    t.ok(
      ids.every((id) => REDIS_ID.test(id)),
      ids.join(' '),
    );
    await until(
      () =>
        far.seen.length === 2 &&
        near.seen.length === 1 &&
        one.room('room:9999').seen.length === 2 &&
        one.room('room:5000').seen.length === 1,
      5000,
    );
    t.same(far.seen, [`${ids[0]} a`, `${ids[1]} b`]);
    t.same(one.room('room:9999').seen, far.seen, 'the same events and ids in both processes');
    t.same(near.seen, [`${ids[2]} c`]);
    t.same(one.room('room:5000').seen, [`${ids[3]} d`]);
    t.same(one.room('room:1').seen, [], 'nothing in the other rooms');

    // Closing a channel drops its subscription: an idle name costs nothing.
    for (const name of names.slice(0, 5000)) await one.rooms.get(name)?.channel.close();
    await until(() => one.stores.subscriptions === 5000, 10_000);
    const after = (await client.sendCommand(['PUBSUB', 'NUMSUB', 'room:0', 'room:9999'])) as unknown[];
    t.same(after.map(String), ['room:0', '1', 'room:9999', '2']);
    t.equal((await connections()).length, 4, 'and no connection comes or goes with channels');
  },
);

t.test('a live message that does not follow the last one is read from the stream first: none missed', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const { client } = await admin(t, redis.url);
  const one = await processOn(t, redis.url);
  const room = one.room('gap');
  await until(() => one.stores.subscriptions === 1, 5000);
  await sleep(50);
  const first = await room.channel.broadcast('first');
  // Someone else appends without publishing: the next message names it as its previous id.
  const silent = String(await client.sendCommand(['XADD', 'gap', '*', 'data', 'silent']));
  const next = await room.channel.broadcast('next');
  await until(() => room.seen.length === 3, 5000);
  t.same(room.seen, [`${first} first`, `${silent} silent`, `${next} next`], 'in stream order, each once');
  // Someone publishing on the name what is not one of the script's messages: ignored.
  await client.sendCommand(['PUBLISH', 'gap', 'not\none\nof ours']);
  const last = await room.channel.broadcast('last');
  await until(() => room.seen.length === 4, 5000);
  t.equal(room.seen[3], `${last} last`);
});

t.test('resume on another process: a stream client moved with its Last-Event-ID gets what it missed', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const one = await processOn(t, redis.url);
  const two = await processOn(t, redis.url);
  const a = one.room('resume');
  const b = two.room('resume');
  const server = http.createServer((request, response) => {
    b.channel.register(new EventSource(request, response, { ping: 0 }));
  });
  const port = await listen(t, server);
  await until(() => one.stores.subscriptions === 1 && two.stores.subscriptions === 1, 5000);
  await sleep(50);
  const ids = [await a.channel.broadcast('1'), await a.channel.broadcast('2'), await a.channel.broadcast('3')];
  await until(() => b.seen.length === 3, 5000);
  const stream = await openRawStream(t, port, '/', { 'Last-Event-ID': ids[0] as string });
  await until(() => stream.events.length === 2, 5000);
  t.same(
    stream.events.map((event) => event.id),
    ids.slice(1),
  );
});

t.test('Redis down and back: one error per channel, local delivery, then every entry once, in order', async (t) => {
  const redis = await restartableRedis(t);
  if (!redis) return;
  const one = await processOn(t, redis.url);
  const two = await processOn(t, redis.url);
  const names = ['r:a', 'r:b', 'r:c'];
  for (const name of names) {
    one.room(name);
    two.room(name);
  }
  await until(() => one.stores.subscriptions === 3 && two.stores.subscriptions === 3, 5000);
  await sleep(50);
  const before = await one.room('r:a').channel.broadcast('before');
  await until(() => two.room('r:a').seen.length === 1, 5000);

  await redis.stop();
  await until(() => names.every((name) => one.room(name).errors.length === 1), 5000);
  const local = await one.room('r:b').channel.broadcast('during');
  await until(() => one.room('r:b').seen.length === 1, 2000);
  t.equal(one.room('r:b').seen.at(-1), `${local} during`, 'delivered in this process');

  await redis.start();
  await within(
    until(() => names.every((name) => one.room(name).store.ready && two.room(name).store.ready), 10_000),
    11_000,
    'every channel reading again',
  );
  // Published by two at once: one receives each once, in order.
  const published: string[] = [];
  for (let i = 0; i < 5; i++) published.push(await two.room('r:c').channel.broadcast(`after ${i}`));
  await until(() => one.room('r:c').seen.length >= published.length, 10_000);
  t.same(
    one.room('r:c').seen,
    published.map((id, i) => `${id} after ${i}`),
    'every entry stored since, once, in order',
  );
  t.same(two.room('r:b').seen, [], "two never saw one's local event");
  for (const name of names) t.equal(one.room(name).errors.length, 1, `${name}: one error for the outage`);
  t.match(one.room('r:a').errors[0]?.message, /Redis stream "r:a" cannot be reached/);
  t.ok(REDIS_ID.test(before));
});

t.test('a process whose channel and stores are closed exits by itself, Redis up or down', async (t) => {
  const redis = await restartableRedis(t);
  if (!redis) return;
  const env = { REDIS_URL: redis.url, STORES: '1' };
  const up = run(t, 'spec/fixtures/sse-channel-exit.mjs', [], env);
  t.equal(await within(up.exited, 10_000, 'the process exiting'), 0, up.output());
  t.match(up.output(), /received event 2 \d+-\d+\nclosed\n/);
  const down = run(t, 'spec/fixtures/sse-channel-exit.mjs', [], { ...env, WAIT: '1' });
  await down.waitFor(/received event 2/);
  await redis.stop();
  await sleep(300);
  down.child.stdin?.write('close\n');
  t.equal(await within(down.exited, 10_000, 'the process exiting (Redis down)'), 0, down.output());
});
