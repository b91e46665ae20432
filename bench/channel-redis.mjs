// Channels on Redis (RedisChannelStores), for `npm run bench` (BENCH_ONLY=redis):
// - idle memory per channel with 10,000 channels in one process, on one
//   RedisChannelStores, and the Redis connections they use (CLIENT LIST);
// - three processes on one Redis, 1,000 events/s in all spread over 100
//   rooms (every process has every room and publishes a third of the
//   events): delivery latency from publish to the channel's message event in
//   each process, p50 / p99. Goal: p99 <= 50 ms on a 2-core machine. Beside
//   it, alternating run by run, the floor: node-redis PUBLISH and SUBSCRIBE
//   alone, no stream, no channel, in the same three processes.
// It starts a redis-server of its own (no persistence) on a free port, and
// skips with one line when there is none. The processes' clocks are the
// machine's: performance.timeOrigin + performance.now().
//
//   node bench/channel-redis.mjs                             (alone: prints the table)
//   node bench/channel-redis.mjs memory <url> <channels>     (forked, --expose-gc)
//   node bench/channel-redis.mjs node <channel|raw> <url> <rooms> <rate> <ms>  (forked)
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(import.meta.url);
const CHANNELS = Number(process.env.BENCH_REDIS_CHANNELS ?? 10_000);
const ROOMS = 100;
const RATE = 1000;
const PROCESSES = 3;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const summary = (values) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
  runs: values,
});
const now = () => performance.timeOrigin + performance.now();
const gc = async () => {
  for (let i = 0; i < 4; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
};

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A redis-server on a free port, or undefined when there is none. */
async function startRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const failed = await Promise.race([
    once(child, 'error').then(() => true),
    (async () => {
      for (let i = 0; i < 200; i++) {
        const ok = await new Promise((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => resolve(socket.destroy() || true));
          socket.on('error', () => resolve(false));
        });
        if (ok) return false;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return true;
    })(),
  ]);
  if (failed) {
    child.kill();
    return undefined;
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

/** In a process of its own: heap and RSS per idle channel, with and without a store. */
async function memory(url, count) {
  const { EventSourceChannel, RedisChannelStores } = await import('isosocket');
  const { createClient } = await import('redis');
  const admin = createClient({ url });
  await admin.connect();
  const stores = await RedisChannelStores.connect({ url });
  const plain = [];
  await gc();
  const base = process.memoryUsage();
  for (let i = 0; i < count; i++) plain.push(new EventSourceChannel());
  await gc();
  const local = process.memoryUsage();
  const channels = [];
  for (let i = 0; i < count; i++) channels.push(new EventSourceChannel({ store: stores.channel(`room:${i}`) }));
  while (stores.subscriptions < count) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 200)); // the first reads answered
  await gc();
  const shared = process.memoryUsage();
  const list = String(await admin.sendCommand(['CLIENT', 'LIST']))
    .split('\n')
    .filter((line) => line.startsWith('id='));
  const result = {
    channels: count,
    heapPerLocalChannel: (local.heapUsed - base.heapUsed) / count,
    heapPerRedisChannel: (shared.heapUsed - local.heapUsed) / count,
    rssPerRedisChannel: (shared.rss - local.rss) / count,
    connections: list.length - 1, // the admin's own left out
  };
  for (const channel of [...channels, ...plain]) await channel.close();
  await stores.close();
  await admin.destroy();
  return result;
}

/** Every room as a channel on one RedisChannelStores. */
async function channelRooms(url, rooms, received) {
  const { EventSourceChannel, RedisChannelStores } = await import('isosocket');
  const stores = await RedisChannelStores.connect({ url });
  const channels = [];
  for (let i = 0; i < rooms; i++) {
    const channel = new EventSourceChannel({ store: stores.channel(`bench:${i}`), history: 100 });
    channel.onmessage = (event) => received(event.data);
    channels.push(channel);
  }
  while (stores.subscriptions < rooms) await new Promise((resolve) => setTimeout(resolve, 10));
  return {
    publish: (room, data) => channels[room].broadcast(data),
    close: async () => {
      for (const channel of channels) await channel.close();
      await stores.close();
    },
  };
}

/** The floor: node-redis alone, PUBLISH and a SUBSCRIBE per room, no stream, no channel. */
async function rawRooms(url, rooms, received) {
  const { createClient } = await import('redis');
  const publisher = createClient({ url });
  await publisher.connect();
  const subscriber = publisher.duplicate();
  await subscriber.connect();
  for (let i = 0; i < rooms; i++) await subscriber.subscribe(`raw:${i}`, received);
  return {
    publish: (room, data) => publisher.publish(`raw:${room}`, data).catch(() => {}),
    close: async () => {
      await subscriber.destroy();
      await publisher.close();
    },
  };
}

/** In a process of its own: every room, publishing `rate` events/s at random rooms for `ms`; latencies of what it receives. */
async function node(kind, url, rooms, rate, ms) {
  const latencies = [];
  let measuring = false;
  const received = (data) => {
    if (measuring) latencies.push(now() - Number(data));
  };
  const { publish, close } =
    kind === 'raw' ? await rawRooms(url, rooms, received) : await channelRooms(url, rooms, received);
  process.send({ ready: true });
  await new Promise((resolve) => process.once('message', resolve));
  // Publish at `rate`: every 5 ms, what is due by now. A warm-up second first, not measured.
  let sent = 0;
  const started = now();
  const warmup = 1000;
  let measuredFrom = Number.POSITIVE_INFINITY;
  let cpuFrom;
  let cpu = Number.NaN;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = now() - started;
      if (!measuring && elapsed >= warmup) {
        measuring = true;
        measuredFrom = sent;
        cpuFrom = process.cpuUsage();
      }
      if (elapsed >= warmup + ms) {
        const used = process.cpuUsage(cpuFrom);
        cpu = (used.user + used.system) / 1000 / ms;
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor((elapsed / 1000) * rate);
      while (sent < due) {
        sent++;
        publish(Math.floor(Math.random() * rooms), String(now()));
      }
    }, 5);
  });
  // The last deliveries: until none arrives for 300 ms (at most 5 s).
  for (let seen = -1, waited = 0; seen !== latencies.length && waited < 5000; waited += 300) {
    seen = latencies.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  measuring = false;
  await close();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { received: latencies.length, published: sent - measuredFrom, p50: at(0.5), p99: at(0.99), cpu };
}

function child(args, execArgv = []) {
  const worker = fork(FILE, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return worker;
}

async function result(worker) {
  const [message] = await once(worker, 'message');
  if (message.error) throw new Error(message.error);
  return message;
}

/** Runs both rows `runs` times; undefined (with a line) when redis-server is missing. */
export async function channelRedisBench({ runs, duration, log }) {
  const redis = await startRedis();
  if (!redis) {
    log('channels on Redis: skipped, no redis-server on PATH (apt-get install redis-server)');
    return undefined;
  }
  try {
    const memoryRuns = [];
    for (let run = 0; run < runs; run++) {
      memoryRuns.push(await result(child(['memory', redis.url, String(CHANNELS)], ['--expose-gc'])));
      log(`channels on Redis, memory run ${run + 1}: ${JSON.stringify(memoryRuns.at(-1))}`);
    }
    const ms = Math.max(duration, 5000);
    const latencyRuns = { channel: [], raw: [] };
    for (let run = 0; run < runs; run++) {
      // Alternating, so that a neighbour's load falls on both.
      for (const kind of ['channel', 'raw']) {
        const workers = Array.from({ length: PROCESSES }, () =>
          child(['node', kind, redis.url, String(ROOMS), String(RATE / PROCESSES), String(ms)]),
        );
        await Promise.all(workers.map(result));
        const done = workers.map(result);
        for (const worker of workers) worker.send({ go: true });
        const nodes = await Promise.all(done);
        const p50 = median(nodes.map((n) => n.p50));
        const p99 = Math.max(...nodes.map((n) => n.p99));
        const published = nodes.reduce((sum, n) => sum + n.published, 0);
        const received = nodes.reduce((sum, n) => sum + n.received, 0);
        const cpu = Math.max(...nodes.map((n) => n.cpu)) * 100;
        latencyRuns[kind].push({ p50, p99, published, received, eventsPerSecond: published / (ms / 1000), cpu });
        log(`channels on Redis, ${kind} latency run ${run + 1}: ${JSON.stringify(latencyRuns[kind].at(-1))}`);
      }
    }
    const pick = (rows, key) => summary(rows.map((row) => row[key]));
    return {
      memory: {
        channels: CHANNELS,
        heapPerRedisChannel: pick(memoryRuns, 'heapPerRedisChannel'),
        heapPerLocalChannel: pick(memoryRuns, 'heapPerLocalChannel'),
        rssPerRedisChannel: pick(memoryRuns, 'rssPerRedisChannel'),
        connections: Math.max(...memoryRuns.map((row) => row.connections)),
      },
      latency: Object.fromEntries(
        Object.entries(latencyRuns).map(([kind, rows]) => [
          kind,
          {
            processes: PROCESSES,
            rooms: ROOMS,
            rate: RATE,
            p50: pick(rows, 'p50'),
            p99: pick(rows, 'p99'),
            eventsPerSecond: pick(rows, 'eventsPerSecond'),
            deliveries: pick(rows, 'received'),
            cpu: pick(rows, 'cpu'),
          },
        ]),
      ),
    };
  } finally {
    redis.stop();
  }
}

/** The bench's table rows (markdown). */
export function channelRedisTable(results) {
  const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
  const range = (s) => `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`;
  const { memory: m } = results;
  const { channel: l, raw } = results.latency;
  return [
    `## Channels on Redis (RedisChannelStores, one redis-server)`,
    '',
    '| | measured | goal |',
    '|---|---|---|',
    `| Redis connections, ${fmt(m.channels)} channels in one process | ${m.connections} | <= 3 |`,
    `| heap per idle channel with its Redis store, bytes | ${range(m.heapPerRedisChannel)} | - |`,
    `| of which the channel alone (no store), bytes | ${range(m.heapPerLocalChannel)} | - |`,
    `| RSS per idle channel with its store, bytes | ${range(m.rssPerRedisChannel)} | - |`,
    '',
    `| ${l.processes} processes, ${fmt(l.rate)} events/s over ${l.rooms} rooms | channels (stream + pub/sub) | node-redis PUBLISH alone (the floor) | goal |`,
    '|---|---|---|---|',
    `| events/s published | ${range(l.eventsPerSecond)} | ${range(raw.eventsPerSecond)} | ${fmt(l.rate)} |`,
    `| publish to receipt, p50 ms | ${range(l.p50)} | ${range(raw.p50)} | - |`,
    `| publish to receipt, p99 ms (worst process) | ${range(l.p99)} | ${range(raw.p99)} | <= 50 |`,
    `| CPU of the busiest process, % of one core | ${range(l.cpu)} | ${range(raw.cpu)} | - |`,
    '',
  ];
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'memory') {
  process.send(await memory(args[0], Number(args[1])));
  process.disconnect();
} else if (mode === 'node') {
  process.send(await node(args[0], args[1], Number(args[2]), Number(args[3]), Number(args[4])));
  process.disconnect();
} else if (process.argv[1] === FILE) {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const results = await channelRedisBench({ runs, duration: Number(process.env.BENCH_MS ?? 2000), log: console.log });
  if (results) console.log(channelRedisTable(results).join('\n'));
}
