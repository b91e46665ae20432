// Fan-out to WebSocket clients in one room, for `npm run bench`: a Channel
// (one frame per event for every member, the turn's events in one write)
// against a hand loop over isosocket sockets (`for (ws of room) ws.send(d)`),
// ws's `wss.clients.forEach((c) => c.send(d))` with bufferutil, and the floor:
// one pre-built buffer of the turn's frames written to every socket with
// socket.write() (what the TCP writes alone cost). No compression.
//
// The server and the clients run in processes of their own. The clients are
// raw TCP sockets that complete the handshake and count bytes; every frame
// of a row has the same size, so bytes / frame size is messages. The server
// publishes EVENTS_PER_TURN events per turn while every socket has less than
// 64 KiB unsent (flow control), so that no row drops or buffers without bound.
//
//   node bench/channel.mjs server <mode> <size>     (forked: IPC {port}, then 'go')
//   node bench/channel.mjs clients <port> <count>   (forked: IPC {ready}, then {bytes} on 'sample')
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(import.meta.url);
const MODES = ['channel', 'loop', 'ws', 'floor'];
const SIZES = [
  { label: '16 B', size: 16 },
  { label: '1 KiB', size: 1024 },
];
const EVENTS_PER_TURN = 8;
const HIGH_WATER = 64 * 1024;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const summary = (values) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
  runs: values,
});
const frameLength = (size) => size + (size < 126 ? 2 : size < 65536 ? 4 : 10);

async function server(mode, size) {
  const message = 'x'.repeat(size);
  const server = http.createServer((_request, response) => response.end());
  let sockets = [];
  let publish;
  let unsent;
  if (mode === 'ws') {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    server.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => sockets.push(ws)));
    publish = () => {
      for (let i = 0; i < EVENTS_PER_TURN; i++)
        wss.clients.forEach((client) => {
          client.send(message);
        });
    };
    unsent = (ws) => ws.bufferedAmount;
  } else {
    const { default: WebSocket, Channel } = await import('isosocket');
    const channel = new Channel({ history: 0, maxBuffered: 64 * 1024 * 1024 });
    const frames = Buffer.concat(Array.from({ length: EVENTS_PER_TURN }, () => frame(message)));
    server.on('upgrade', (request, socket, head) => {
      if (mode === 'floor') {
        // The handshake by isosocket; then the raw socket is written directly.
        const ws = new WebSocket(request, socket, head);
        ws.onopen = () => sockets.push(socket);
        return;
      }
      const ws = new WebSocket(request, socket, head);
      ws.onopen = () => {
        sockets.push(ws);
        if (mode === 'channel') channel.register(ws);
      };
    });
    if (mode === 'channel') {
      // flush() writes the turn now, as the other rows do: without it, a
      // channel whose flush took over 1 ms waits (up to 100 ms) and puts
      // more events in each write, which the other rows cannot.
      publish = () => {
        for (let i = 0; i < EVENTS_PER_TURN; i++) channel.broadcast(message);
        channel.flush();
      };
    } else if (mode === 'loop') {
      publish = () => {
        for (let i = 0; i < EVENTS_PER_TURN; i++) for (const ws of sockets) ws.send(message);
      };
    } else {
      publish = () => {
        for (const socket of sockets) socket.write(frames);
      };
    }
    unsent = mode === 'floor' ? (socket) => socket.writableLength : (ws) => ws.bufferedAmount;
  }
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (command) => {
    if (command === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ cpu: user + system });
      return;
    }
    if (command !== 'go') return;
    const turn = () => {
      let ready = true;
      for (const socket of sockets) {
        if (unsent(socket) > HIGH_WATER) {
          ready = false;
          break;
        }
      }
      if (ready) publish();
      setImmediate(turn);
    };
    turn();
  });
  process.on('disconnect', () => {
    sockets = [];
    process.exit(0);
  });
}

/** One unmasked server frame (FIN, text). */
function frame(text) {
  const payload = Buffer.from(text);
  const length = payload.length;
  const head = Buffer.alloc(length < 126 ? 2 : 4);
  head[0] = 0x81;
  if (length < 126) head[1] = length;
  else {
    head[1] = 126;
    head.writeUInt16BE(length, 2);
  }
  return Buffer.concat([head, payload]);
}

async function clients(port, count) {
  let bytes = 0;
  const open = [];
  for (let i = 0; i < count; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    open.push(
      new Promise((resolve) => {
        let head = true;
        socket.on('data', (chunk) => {
          if (head) {
            const end = chunk.indexOf('\r\n\r\n');
            if (end < 0) return;
            head = false;
            bytes += chunk.length - end - 4;
            resolve();
          } else bytes += chunk.length;
        });
      }),
    );
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(open);
  process.send({ ready: true });
  process.on('message', () => process.send({ bytes }));
  process.on('disconnect', () => process.exit(0));
}

const next = (child) => new Promise((resolve) => child.once('message', resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One run: messages per second delivered to all clients together, and the server's CPU time per message. */
async function runOnce(mode, size, count, duration) {
  const server = fork(FILE, ['server', mode, String(size)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = await next(server);
    const load = fork(FILE, ['clients', String(port), String(count)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    try {
      await next(load);
      await sleep(200);
      server.send('go');
      await sleep(300);
      load.send('sample');
      server.send('cpu');
      const [{ bytes: before }, { cpu: cpuBefore }] = await Promise.all([next(load), next(server)]);
      const started = performance.now();
      await sleep(duration);
      load.send('sample');
      server.send('cpu');
      const [{ bytes: after }, { cpu: cpuAfter }] = await Promise.all([next(load), next(server)]);
      const seconds = (performance.now() - started) / 1000;
      const messages = (after - before) / frameLength(size);
      return { rate: messages / seconds, cpuPerMessage: (cpuAfter - cpuBefore) / messages };
    } finally {
      load.kill();
    }
  } finally {
    server.kill();
  }
}

/** Every row, `runs` times each, the modes alternating run by run. */
export async function channelBench({ runs, duration, clients: count, log }) {
  const results = { clients: count, eventsPerTurn: EVENTS_PER_TURN, sizes: {} };
  for (const { label, size } of SIZES) {
    const values = Object.fromEntries(MODES.map((mode) => [mode, []]));
    for (let run = 0; run < runs; run++) {
      for (const mode of MODES) values[mode].push(await runOnce(mode, size, count, duration));
    }
    results.sizes[label] = Object.fromEntries(
      MODES.map((mode) => [
        mode,
        {
          rate: summary(values[mode].map((v) => v.rate)),
          cpuPerMessage: summary(values[mode].map((v) => v.cpuPerMessage)),
        },
      ]),
    );
    for (const mode of MODES) {
      const r = results.sizes[label][mode];
      log(
        `channel fan-out ${label} ${mode}: ${Math.round(r.rate.median)} messages/s, server ${r.cpuPerMessage.median.toFixed(3)} us CPU per message`,
      );
    }
  }
  return results;
}

/** The markdown table for `channelBench`'s results. */
export function channelTable(results) {
  const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(3));
  const range = (s) => `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`;
  const lines = [
    `## Channel fan-out to ${results.clients.toLocaleString('en-US')} WebSocket clients in one room (${results.eventsPerTurn} events per turn)`,
    '',
    'Messages delivered/s (all clients together; one load-generator process reads them all, so it can be the limit),',
    "then the server's CPU time per delivered message (us), the measure of what the server spends.",
    '',
    '| size | | Channel | hand loop | ws clients.forEach (bufferutil) | floor: pre-built frames, socket.write | Channel vs ws | Channel vs floor |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [label, r] of Object.entries(results.sizes)) {
    const row = (key, better) =>
      `| ${label} | ${key === 'rate' ? 'msg/s' : 'us CPU/msg'} | ${range(r.channel[key])} | ${range(r.loop[key])} | ${range(r.ws[key])} | ${range(r.floor[key])} | ${better(r.channel[key].median, r.ws[key].median).toFixed(1)}x | ${better(r.channel[key].median, r.floor[key].median).toFixed(2)}x |`;
    lines.push(
      row('rate', (a, b) => a / b),
      row('cpuPerMessage', (a, b) => b / a),
    );
  }
  lines.push('');
  return lines;
}

const [mode, ...args] = process.argv.slice(2);
if (process.argv[1] === FILE) {
  if (mode === 'server') await server(args[0], Number(args[1]));
  else if (mode === 'clients') await clients(Number(args[0]), Number(args[1]));
  else if (mode === undefined) {
    const results = await channelBench({
      runs: Number(process.env.BENCH_RUNS ?? 3),
      duration: Number(process.env.BENCH_MS ?? 2000),
      clients: Number(process.env.BENCH_CHANNEL_CLIENTS ?? 1000),
      log: (line) => console.error(line),
    });
    console.log(channelTable(results).join('\n'));
  } else throw new Error(`unknown mode ${mode}`);
}
