// A ping flood from a client that never reads (issue 20, item 2), against
// isosocket's server socket and ws's, each in a process of its own: 1,000,000
// masked pings of 125 bytes; what the attacker got to write before the
// server stopped taking them (no byte taken for 2 s), and the server's peak
// RSS growth (VmHWM, from the kernel).
//
//   node bench/ping-flood.mjs
//   node bench/ping-flood.mjs server <isosocket|ws>      (forked)
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(import.meta.url);
const PINGS = 1_000_000;

const peakRSS = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'latin1'))?.[1] ?? 0) * 1024;

async function server(kind) {
  const server = http.createServer();
  if (kind === 'ws') {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  } else {
    const { default: WebSocket } = await import(process.env.ISOSOCKET ?? 'isosocket');
    server.on('upgrade', (request, socket, head) => {
      const ws = new WebSocket(request, socket, head);
      ws.onmessage = (event) => ws.send(event.data);
    });
  }
  process.on('message', () => process.send({ peak: peakRSS() }));
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, peak: peakRSS() }));
}

function ping() {
  const mask = randomBytes(4);
  const head = Buffer.from([0x89, 0x80 | 125, ...mask]);
  const body = Buffer.alloc(125, 'p');
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i % 4];
  return Buffer.concat([head, body]);
}

async function attack(kind) {
  const child = fork(FILE, ['server', kind]);
  const next = () => new Promise((resolve) => child.once('message', resolve));
  const { port, peak: before } = await next();
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise((resolve) => socket.once('data', resolve));
  socket.pause();
  const frame = ping();
  const piece = Buffer.concat(Array.from({ length: 1000 }, () => frame));
  let written = 0;
  const started = Date.now();
  while (written < PINGS * frame.length) {
    written += piece.length;
    if (socket.write(piece)) continue;
    const stalled = await new Promise((resolve) => {
      let last = socket.writableLength;
      let still = 0;
      const timer = setInterval(() => {
        if (socket.writableLength !== last) {
          last = socket.writableLength;
          still = 0;
          return;
        }
        still += 100;
        if (still < 2000) return;
        clearInterval(timer);
        socket.off('drain', done);
        resolve(true);
      }, 100);
      const done = () => {
        clearInterval(timer);
        resolve(false);
      };
      socket.once('drain', done);
    });
    if (stalled) break;
  }
  const seconds = (Date.now() - started) / 1000;
  child.send('probe');
  const { peak } = await next();
  socket.destroy();
  child.kill();
  return { kind, written, seconds, growth: peak - before };
}

if (process.argv[2] === 'server') {
  await server(process.argv[3]);
} else {
  const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  console.log(`${PINGS} pings of 125 bytes from a client that never reads`);
  for (const kind of ['isosocket', 'ws']) {
    const { written, seconds, growth } = await attack(kind);
    const done = written >= PINGS * 131 ? 'all of them' : 'then stalled';
    console.log(
      `${kind.padEnd(10)} attacker wrote ${mib(written)} (${done}, ${seconds.toFixed(1)} s); server peak RSS +${mib(growth)}`,
    );
  }
}
