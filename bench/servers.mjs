// One echo server per process, for the benchmark: isosocket's server socket,
// ws's, or faye-websocket's; Node's own TCP echo (`socket.pipe(socket)`
// after the upgrade: the machine's limit); or an SSE broadcaster
// (isosocket's channel, faye-websocket's EventSource, better-sse's channel).
//
//   node --expose-gc bench/servers.mjs <iso|ws|faye|pipe|sse-iso|sse-faye|sse-better> [deflate]
// `deflate`: permessage-deflate on, with each library's defaults (context
// takeover); `deflate-no-takeover`: with server_ and client_no_context_takeover.
// ws loads bufferutil (it is installed) unless WS_NO_BUFFER_UTIL is set, as ws does.
// Sends {port, bufferutil} over IPC once listening; answers IPC 'memory' with
// heap and RSS after GC, 'cpu' with process.cpuUsage() (and, with compression,
// the longest event-loop stall since the last 'cpu'), and 'broadcast' (SSE
// kinds) by sending events to every client for a while.

import http from 'node:http';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';

// Each process loads only the library it measures: isosocket replaces the
// driver's mask function, which faye-websocket would otherwise share.

const kind = process.argv[2];
const compression = process.argv[3]; // undefined, 'deflate' or 'deflate-no-takeover'
const noTakeover = compression === 'deflate-no-takeover';
const server = http.createServer();
const streams = new Set();
let publish = () => {};
let stats = () => ({});

// ws's option names, which isosocket shares.
const wsDeflate = compression
  ? noTakeover
    ? { serverNoContextTakeover: true, clientNoContextTakeover: true }
    : true
  : false;

if (kind === 'iso') {
  const { default: WebSocket } = await import('isosocket');
  const options = compression ? { perMessageDeflate: wsDeflate } : {};
  server.on('upgrade', (request, socket, head) => {
    const ws = new WebSocket(request, socket, head, [], options);
    ws.onmessage = (event) => ws.send(event.data);
  });
} else if (kind === 'ws') {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ server, perMessageDeflate: wsDeflate });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
} else if (kind === 'faye') {
  const { default: faye } = await import('faye-websocket');
  const { default: deflate } = await import('permessage-deflate');
  const extensions = compression
    ? [noTakeover ? deflate.configure({ noContextTakeover: true, requestNoContextTakeover: true }) : deflate]
    : [];
  server.on('upgrade', (request, socket, head) => {
    const ws = new faye(request, socket, head, [], { extensions });
    ws.on('message', (event) => ws.send(event.data));
  });
} else if (kind === 'pipe') {
  // The limit: no WebSocket library, Node's own TCP echo after the upgrade.
  // The load generator counts the (still masked) frames it gets back.
  server.on('upgrade', (_request, socket, head) => {
    socket.on('error', () => socket.destroy()); // the load generator resets when it is done
    socket.setNoDelay(true);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
} else if (kind === 'sse-iso') {
  // isosocket's channel: one encoded Buffer per event, one write per stream per turn.
  const { EventSource } = await import('isosocket');
  const channel = new EventSource.Channel();
  server.on('request', (request, response) => channel.register(new EventSource(request, response, { ping: 0 })));
  publish = (data) => channel.broadcast(data);
  stats = () => ({ clients: channel.size, dropped: channel.dropped });
} else if (kind === 'sse-faye') {
  // faye-websocket has no channel: the application loops over its streams.
  const { default: faye } = await import('faye-websocket');
  server.on('request', (request, response) => {
    const es = new faye.EventSource(request, response, { ping: 0 });
    streams.add(es);
    es.on('close', () => streams.delete(es));
  });
  publish = (data) => {
    for (const es of streams) es.send(data);
  };
  stats = () => ({ clients: streams.size });
} else if (kind === 'sse-better') {
  // better-sse's channel, with its defaults (JSON serializer, a UUID per event), keep-alive off as for the others.
  const { createChannel, createSession } = await import('better-sse');
  const channel = createChannel();
  server.on('request', async (request, response) => {
    const session = await createSession(request, response, { keepAlive: null });
    channel.register(session);
  });
  publish = (data) => channel.broadcast(data);
  stats = () => ({ clients: channel.sessionCount });
} else {
  throw new Error(`unknown server kind ${kind}`);
}

// With compression, the longest event-loop stall between two 'cpu' requests
// (a message compressed or inflated on the loop holds it that long).
const delay = compression ? monitorEventLoopDelay({ resolution: 1 }) : undefined;
delay?.enable();

process.on('SIGINT', () => process.exit(0));
process.on('message', async (message) => {
  if (message.type === 'cpu') {
    // max is in ns; the monitor's own 1 ms timer is part of it.
    process.send({ ...process.cpuUsage(), ...(delay ? { stallMs: delay.max / 1e6 } : {}) });
    delay?.reset();
  } else if (message.type === 'memory') {
    for (let i = 0; i < 4; i++) {
      globalThis.gc?.();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { heapUsed, rss } = process.memoryUsage();
    process.send({ heapUsed, rss });
  } else if (message.type === 'broadcast') {
    // For `ms`: without a rate, one event per event-loop turn, as fast as the
    // loop turns; with `rate` (events/s), the events due by the clock, each
    // turn (an upstream delivering at that rate). Turns yield with
    // setImmediate so that sockets flush. Each event's data starts with the
    // time it is published, for latency.
    const now = () => performance.timeOrigin + performance.now();
    const cpu = process.cpuUsage();
    const started = Date.now();
    const until = started + message.ms;
    let rounds = 0;
    let published = 0;
    while (Date.now() < until) {
      // At most 20 ms worth of events per turn, so that a server that falls
      // behind takes turns of bounded length instead of ever longer ones.
      const due = message.rate
        ? Math.min(Math.floor(((Date.now() - started) / 1000) * message.rate) - published, Math.ceil(message.rate / 50))
        : 1;
      for (let i = 0; i < due; i++) publish(now().toFixed(3).padEnd(message.size, 'x'));
      published += Math.max(due, 0);
      rounds++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const used = process.cpuUsage(cpu);
    const wallMs = Date.now() - started;
    process.send({ rounds, published, wallMs, cpuMs: (used.user + used.system) / 1000, ...stats() });
  }
});

// Whether ws found bufferutil: the module is in require's cache once ws loaded it.
const require = createRequire(import.meta.url);
const bufferutil = Object.keys(require.cache).some((file) => /[\\/]bufferutil[\\/]/.test(file));
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, bufferutil }));
