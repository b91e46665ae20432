// EventSource.Channel on a Redis Stream, against a real redis-server: two
// channels share one feed and its ids, a client resumes on the other one
// (from its history, or with XRANGE), Redis going down and coming back, and
// examples/sse-channel.mjs as several processes behind nginx with clients
// moved between them and a process killed.

import http from 'node:http';
import { createClient } from 'redis';
import t, { type Test } from 'tap';
import {
  type ErrorEvent,
  EventSource,
  EventSourceChannel,
  type EventSourceChannelOptions,
  EventSourceClient,
  RedisChannelStore,
} from '../../src/index.js';
import { sleep, within } from '../helpers/bounded.js';
import { freePort, listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { restartableRedis, startNginx, startRedis } from '../helpers/services.js';
import { run } from '../helpers/spawn.js';
import { openRawStream } from '../helpers/sse.js';

const REDIS_ID = /^\d{13}-\d+$/;

/** A channel on the stream `key`, served over http on a port of its own: one "process". */
async function node(t: Test, url: string, key: string, options: EventSourceChannelOptions = {}) {
  const store = await RedisChannelStore.connect({ url, key });
  const channel = new EventSourceChannel({ ...options, store });
  t.teardown(() => channel.close());
  const errors: ErrorEvent[] = [];
  channel.addEventListener('error', (event) => errors.push(event));
  const server = http.createServer((request, response) => {
    channel.register(new EventSource(request, response, { ping: 0, retry: 0.02 }));
  });
  const port = await listen(t, server);
  return { channel, store, port, errors };
}

t.test('RedisChannelStore', async (t) => {
  t.test('connect() checks its options', async (t) => {
    const bad = [
      {},
      { key: '' },
      { key: 'k' },
      { key: 'k', url: 'redis://127.0.0.1:1', client: {} },
      { key: 'k', url: 'redis://127.0.0.1:1', nope: 1 },
      { key: 'k', url: 'redis://127.0.0.1:1', maxLength: 0 },
      { key: 'k', url: 'redis://127.0.0.1:1', block: 1.5 },
      { key: 'k', client: { sendCommand: 1 } },
    ];
    for (const options of bad) {
      await t.rejects(RedisChannelStore.connect(options as never), TypeError, JSON.stringify(options));
    }
    // node-redis refuses a URL that is not one of Redis: connect() rejects rather than retrying.
    await t.rejects(RedisChannelStore.connect({ key: 'k', url: 'http://127.0.0.1:1' }), TypeError);
    await t.rejects(RedisChannelStore.connect({ key: 'k', url: 'not a url' }), TypeError);
  });

  t.test('two channels on one stream share the feed and its ids; a client resumes on the other', async (t) => {
    const redis = await startRedis(t);
    if (!redis) return;
    const key = 'feed:share';
    const one = await node(t, redis.url, key);
    // The second is built on a client the application made, with a short history.
    const client = createClient({ url: redis.url });
    client.on('error', () => {});
    await client.connect();
    t.teardown(() => client.close());
    const store = await RedisChannelStore.connect({ client, key });
    const two = new EventSourceChannel({ store, history: 2 });
    t.teardown(() => two.close());
    const server = http.createServer((request, response) => two.register(new EventSource(request, response)));
    const twoPort = await listen(t, server);

    const a = await openRawStream(t, one.port);
    const b = await openRawStream(t, twoPort);
    await until(() => one.channel.size === 1 && two.size === 1, 5000);
    const ids = [
      await one.channel.broadcast('from one'),
      await two.broadcast('from two', { event: 'named' }),
      await one.channel.broadcast('again'),
      await two.broadcast('and again'),
    ];
    t.ok(
      ids.every((id) => REDIS_ID.test(id)),
      `Redis entry ids: ${ids.join(' ')}`,
    );
    await until(() => a.events.length === 4 && b.events.length === 4, 5000);
    t.same(a.events, b.events, 'the same events, ids and order on both');
    t.same(
      a.events.map((e) => [e.id, e.event, e.data]),
      [
        [ids[0], 'message', 'from one'],
        [ids[1], 'named', 'from two'],
        [ids[2], 'message', 'again'],
        [ids[3], 'message', 'and again'],
      ],
    );
    t.throws(() => two.broadcast('x', { id: '1' }), { name: 'TypeError', message: /store gives ids/ });

    // Someone else writes to the stream an event name that would add a field: never sent.
    await client.sendCommand(['XADD', key, '*', 'data', 'x', 'event', 'evil\ndata: injected']);
    const clean = await one.channel.broadcast('clean');
    await until(() => a.events.length === 5 && b.events.length === 5, 5000);
    t.same([a.events[4]?.id, a.events[4]?.data], [clean, 'clean'], 'the entry with CR/LF in its name was skipped');
    ids.push(clean);

    // A client of one moves to two with its first id: two's history (2) no
    // longer has it, so two asks Redis (XRANGE).
    const moved = await openRawStream(t, twoPort, '/', { 'Last-Event-ID': ids[0] as string });
    await until(() => moved.events.length === 4, 5000);
    const live = await one.channel.broadcast('live after the move');
    await until(() => moved.events.length === 5, 5000);
    t.same(
      moved.events.map((e) => e.id),
      [...ids.slice(1), live],
      'what it missed, then live, none twice',
    );
    t.equal(one.errors.length, 0, 'no error events');
  });

  t.test('a new process replays from the stream what came before it started', async (t) => {
    const redis = await startRedis(t);
    if (!redis) return;
    const first = await node(t, redis.url, 'feed:late');
    const ids = [await first.channel.broadcast('a'), await first.channel.broadcast('b')];
    const late = await node(t, redis.url, 'feed:late');
    await until(() => late.channel.lastEventId === ids[1], 5000);
    const stream = await openRawStream(t, late.port, '/', { 'Last-Event-ID': ids[0] as string });
    await until(() => stream.events.length === 1, 5000);
    t.same(
      stream.events.map((e) => e.data),
      ['b'],
    );
  });

  t.test(
    'Redis down: an error event, delivery in each process goes on, resume catches up when it is back',
    async (t) => {
      const redis = await restartableRedis(t);
      if (!redis) return;
      const key = 'feed:outage';
      const one = await node(t, redis.url, key);
      const two = await node(t, redis.url, key);
      const a = await openRawStream(t, one.port);
      const b = await openRawStream(t, two.port);
      await until(() => one.channel.size === 1 && two.channel.size === 1, 5000);
      const before = await one.channel.broadcast('before');
      await until(() => a.events.length === 1 && b.events.length === 1, 5000);

      await redis.stop();
      await until(() => !one.store.ready, 5000);
      const local = await one.channel.broadcast('during, on one');
      await until(() => a.events.length === 2, 5000);
      t.equal(a.events[1]?.data, 'during, on one', "one's own client still gets one's events");
      t.equal(a.events[1]?.id, local);
      await until(() => one.errors.length > 0, 5000);
      t.match(one.errors[0]?.message, /Redis stream "feed:outage" cannot be reached .*this process's streams only/);
      t.equal(one.errors.length, 1, 'one error event for the outage, not one per event');
      await sleep(100);
      t.equal(b.events.length, 1, "two does not see one's local events");

      await redis.start();
      await within(
        until(() => one.store.ready && two.store.ready, 10_000),
        11_000,
        'both stores reconnecting',
      );
      // Live delivery through Redis again, both ways.
      const after = [await two.channel.broadcast('after, from two'), await one.channel.broadcast('after, from one')];
      await until(() => a.events.length === 4 && b.events.length === 3, 10_000);
      t.same(
        b.events.map((e) => e.data),
        ['before', 'after, from two', 'after, from one'],
      );
      // A client that was on one before the outage resumes on two.
      const resumed = await openRawStream(t, two.port, '/', { 'Last-Event-ID': before });
      await until(() => resumed.events.length === 2, 5000);
      t.same(
        resumed.events.map((e) => e.id),
        after,
        'every event stored since, in order',
      );
      t.ok(after.every((id) => REDIS_ID.test(id)));
    },
  );
});

t.test('Redis down when the store is made: it starts anyway, reports it, delivers here, and catches up', async (t) => {
  const redis = await restartableRedis(t);
  if (!redis) return;
  await redis.stop();
  const started = Date.now();
  const down = await within(node(t, redis.url, 'feed:boot'), 5000, 'connect() while Redis is down');
  t.ok(Date.now() - started < 4000, 'connect() does not wait for Redis');
  t.equal(down.store.ready, false);
  const stream = await openRawStream(t, down.port);
  await until(() => down.channel.size === 1 && down.errors.length === 1, 5000);
  t.match(down.errors[0]?.message, /Redis stream "feed:boot" cannot be reached \(.*ECONNREFUSED/);
  const local = await down.channel.broadcast('while down');
  await until(() => stream.events.length === 1, 2000);
  t.equal(stream.events[0]?.id, local);

  await redis.start();
  await within(
    until(() => down.store.ready, 10_000),
    11_000,
    'the store connecting once Redis is up',
  );
  const other = await node(t, redis.url, 'feed:boot');
  const shared = await other.channel.broadcast('through Redis');
  await until(() => stream.events.length === 2, 10_000);
  t.same(
    stream.events.map((e) => [e.id, e.data]),
    [
      [local, 'while down'],
      [shared, 'through Redis'],
    ],
  );
  t.equal(down.errors.length, 1, 'one error event for the whole outage');
});

t.test('a process whose channel and store are closed exits by itself: no timer, socket or read left', async (t) => {
  const exitsByItself = async (env: Record<string, string>, label: string): Promise<void> => {
    const child = run(t, 'spec/fixtures/sse-channel-exit.mjs', [], env);
    const code = await within(child.exited, 10_000, `the process exiting (${label})`);
    t.equal(code, 0, child.output());
    t.match(child.output(), /received event 2 \d+-\d+\nclosed\n/);
  };
  await exitsByItself({}, 'local');
  const redis = await startRedis(t);
  if (!redis) return;
  await exitsByItself({ REDIS_URL: redis.url }, 'Redis');
  // Closed while Redis is down: its connections are dropped, not waited on.
  const restartable = await restartableRedis(t);
  if (!restartable) return;
  const child = run(t, 'spec/fixtures/sse-channel-exit.mjs', [], { REDIS_URL: restartable.url, WAIT: '1' });
  await child.waitFor(/received event 2/);
  await restartable.stop();
  await sleep(300);
  child.child.stdin?.write('close\n');
  t.equal(await within(child.exited, 10_000, 'the process exiting (Redis down)'), 0, child.output());
});

t.test('examples/sse-channel.mjs', async (t) => {
  t.test('two copies with REDIS_URL, on two ports, share one channel', async (t) => {
    const redis = await startRedis(t);
    if (!redis) return;
    const ports = [await freePort(), await freePort()];
    const copies = ports.map((port) =>
      run(t, 'examples/sse-channel.mjs', [], { PORT: String(port), REDIS_URL: redis.url }),
    );
    for (const copy of copies) await copy.waitFor(/shared through Redis/, 30_000);
    const streams = await Promise.all(ports.map((port) => openRawStream(t, port, '/events')));
    await sleep(100);
    const ids: string[] = [];
    for (const [index, port] of [...ports, ...ports].entries()) {
      const answer = await fetch(`http://127.0.0.1:${port}/publish`, { method: 'POST', body: `message ${index}` });
      ids.push((await answer.text()).trim());
    }
    await until(() => streams.every((s) => s.events.length === 4), 10_000);
    for (const stream of streams) {
      t.same(
        stream.events.map((e) => [e.id, e.data]),
        ids.map((id, index) => [id, `message ${index}`]),
      );
    }
  });

  t.test('three copies behind nginx: clients moved between them see every id exactly once', async (t) => {
    const redis = await startRedis(t);
    if (!redis) return;
    const ports = [await freePort(), await freePort(), await freePort()];
    const start = (port: number) =>
      run(t, 'examples/sse-channel.mjs', [], { PORT: String(port), REDIS_URL: redis.url });
    const copies = ports.map(start);
    for (const copy of copies) await copy.waitFor(/shared through Redis/, 30_000);
    const nginx = await startNginx(t, ports);
    if (!nginx) return;

    interface Follower {
      seen: string[];
      source?: EventSourceClient;
      restart(): void;
    }
    const clients = Array.from({ length: 9 }, () => {
      const client: Follower = {
        seen: [],
        restart() {
          client.source?.close();
          const last = client.seen.at(-1);
          const headers = last ? { 'Last-Event-ID': last } : {};
          const source = new EventSourceClient(`http://127.0.0.1:${nginx.port}/events`, { headers });
          source.onmessage = (event) => client.seen.push(event.lastEventId);
          client.source = source;
        },
      };
      client.restart();
      return client;
    });
    t.teardown(() => {
      for (const client of clients) client.source?.close();
    });
    await until(() => clients.every((c) => c.source?.readyState === EventSourceClient.OPEN), 10_000);

    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const published: string[] = [];
    const alive = new Set([0, 1, 2]);
    let restarts = 0;
    const total = 240;
    for (let i = 0; i < total; i++) {
      const target = [...alive][Math.floor(random() * alive.size)] as number;
      const answer = await fetch(`http://127.0.0.1:${ports[target]}/publish`, { method: 'POST', body: `n${i}` });
      published.push((await answer.text()).trim());
      if (random() < 0.08) {
        // A client killed and started again: nginx sends it to the next process.
        clients[Math.floor(random() * clients.length)]?.restart();
        restarts++;
      }
      if (i === 80) {
        // A whole process dies; its clients reconnect through nginx elsewhere.
        copies[1]?.child.kill('SIGKILL');
        await copies[1]?.exited;
        alive.delete(1);
      }
      if (i === 160) {
        copies[1] = start(ports[1] as number);
        await copies[1].waitFor(/shared through Redis/, 30_000);
        alive.add(1);
      }
    }
    await within(
      until(() => clients.every((c) => c.seen.length >= total), 20_000),
      21_000,
      'every client catching up',
    ).catch((error) => {
      t.comment(clients.map((c) => c.seen.length).join(' '));
      throw error;
    });
    await sleep(100);
    t.ok(restarts >= 5, `${restarts} client restarts`);
    const order = [...published].sort((x, y) => {
      const [xm, xs] = x.split('-').map(Number) as [number, number];
      const [ym, ys] = y.split('-').map(Number) as [number, number];
      return xm - ym || xs - ys;
    });
    t.same(order, published, 'publishing one at a time, Redis ids increase');
    for (const [index, client] of clients.entries()) {
      t.same(client.seen, published, `client ${index}: every id exactly once, in order`);
    }
  });
});
