// `node bench/handshake.mjs`: what an opening handshake with large but legal
// headers costs, isosocket beside ws (issue 20 item 5). Run `npm run build`
// first: isosocket is loaded from dist/, as a user loads it.
//
// Server cases: an HTTP server with a raised maxHeaderSize (256 KiB) and
// permessage-deflate on (ws parses Sec-WebSocket-Extensions only then), in a
// child process of its own; this process sends it 20 handshakes at once, raw
// over TCP, and reads each 101 (or refusal) head. Client cases: 20 clients
// at once, in a child process, against a hostile server here that answers
// each with a valid 101 and a ~60 KB Sec-WebSocket-Extensions (both clients
// read heads up to 64 KiB: isosocket by default, ws told maxHeaderSize).
//
// Per run, a fresh child: a warm-up of 40 handshakes at once of the case, then the
// measured 20. The child reports its CPU time (user + system,
// process.cpuUsage) across the 20, and its peak RSS growth (VmHWM, reset to
// the current RSS just before, Linux's /proc/self/clear_refs). Figures are
// medians of HANDSHAKE_RUNS runs (default 11), with min and max; the CPU is
// per handshake.
//
// `--json` prints the figures as JSON (the lead's bench/run.mjs may fold them
// into bench/results.json).
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const RUNS = Number(process.env.HANDSHAKE_RUNS ?? 11);
const AT_ONCE = 20;
const WARM_UP = 40;
const PLAIN = {};
const MAX_HEADER = 256 * 1024;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const acceptFor = (key) =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');

const list = (n, item) => Array.from({ length: n }, (_, i) => item(i)).join(', ');

/** The request headers each server case adds to a valid handshake. */
const SERVER_CASES = {
  'plain handshake': {},
  '4,000 unknown extension offers': { 'Sec-WebSocket-Extensions': list(4000, (i) => `x-unknown-${i}`) },
  '3,000 permessage-deflate offers': {
    'Sec-WebSocket-Extensions': list(3000, () => 'permessage-deflate; client_max_window_bits'),
  },
  '4,000 subprotocols': { 'Sec-WebSocket-Protocol': list(4000, (i) => `p${i}`) },
};

/** The Sec-WebSocket-Extensions a hostile server answers with, ~60 KB. */
const CLIENT_CASES = {
  'answer: 4,000 unknown extensions': list(4000, (i) => `x-unk-${i}`),
  'answer: 3,000 permessage-deflate': list(3000, () => 'permessage-deflate'),
};

// ---------------------------------------------------------------- children

function peakRSS() {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'latin1'));
  return Number(match?.[1] ?? 0) * 1024;
}

/** Starts measuring: resets the kernel's peak RSS to the current RSS. */
function startMeasure() {
  writeFileSync('/proc/self/clear_refs', '5');
  return { cpu: process.cpuUsage(), rss: peakRSS() };
}

function endMeasure(start) {
  const cpu = process.cpuUsage(start.cpu);
  return { cpuMs: (cpu.user + cpu.system) / 1000, peak: peakRSS() - start.rss };
}

async function serverChild(kind) {
  const server = http.createServer({ maxHeaderSize: MAX_HEADER }, (_request, response) => response.end());
  if (kind === 'isosocket') {
    const { default: WebSocket } = await import('isosocket');
    server.on('upgrade', (request, socket, head) => {
      const ws = new WebSocket(request, socket, head, ['chat'], { perMessageDeflate: true });
      ws.addEventListener('error', () => {});
    });
  } else {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ server, perMessageDeflate: true });
    wss.on('connection', (ws) => ws.on('error', () => {}));
    wss.on('wsClientError', () => {});
  }
  let start;
  process.on('message', (message) => {
    if (message === 'start') {
      start = startMeasure();
      process.send('started');
    } else if (message === 'end') process.send(endMeasure(start));
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

async function clientChild(kind, url, plainUrl) {
  const open = (await import(kind === 'isosocket' ? 'isosocket' : 'ws')).default;
  const one = (to = url) =>
    new Promise((resolve) => {
      if (kind === 'isosocket') {
        const ws = new open.Client(to);
        ws.onclose = () => resolve();
      } else {
        const ws = new open(to, { maxHeaderSize: 64 * 1024 });
        ws.on('error', () => {});
        ws.on('close', () => resolve());
      }
    });
  const many = (n) => Promise.all(Array.from({ length: n }, () => one()));
  await one(plainUrl);
  let start = startMeasure();
  await many(AT_ONCE);
  const { peak } = endMeasure(start);
  await many(WARM_UP);
  start = startMeasure();
  await many(AT_ONCE);
  process.send({ cpuMs: endMeasure(start).cpuMs, peak });
}

// ---------------------------------------------------------------- parent

function request(port, headers) {
  const key = Buffer.from(`bench-key-${Math.random()}`.slice(0, 16).padEnd(16, 'x')).toString('base64');
  const lines = [
    'GET / HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** One raw handshake; resolves with the status line of the answer. */
function handshake(port, headers) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      head += chunk;
      if (head.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(head.slice(0, head.indexOf('\r\n')));
      }
    });
    socket.on('close', () => resolve(head.slice(0, head.indexOf('\r\n')) || '(closed)'));
    socket.write(request(port, headers));
  });
}

const ask = (child, message) =>
  new Promise((resolve) => {
    child.once('message', resolve);
    child.send(message);
  });

async function serverRun(kind, headers) {
  const child = fork(SELF, ['--server', kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const many = (n) => Promise.all(Array.from({ length: n }, () => handshake(port, headers)));
  const measure = async () => {
    await ask(child, 'start');
    const statuses = await many(AT_ONCE);
    return { ...(await ask(child, 'end')), status: statuses[0] };
  };
  await handshake(port, PLAIN);
  const { peak, status } = await measure();
  await many(WARM_UP);
  const { cpuMs } = await measure();
  child.kill();
  return { cpuMs, peak, status };
}

/** A server that answers with a valid 101, and the given Sec-WebSocket-Extensions if any, then ends. */
async function hostileServer(extensions) {
  const server = http.createServer();
  server.on('upgrade', (request, socket) => {
    socket.on('error', () => {});
    socket.end(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptFor(request.headers['sec-websocket-key'])}\r\n` +
        (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') +
        '\r\n',
    );
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function clientRun(kind, server, plain) {
  const url = `ws://127.0.0.1:${server.address().port}/`;
  const plainUrl = `ws://127.0.0.1:${plain.address().port}/`;
  const child = fork(SELF, ['--client', kind, url, plainUrl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = await new Promise((resolve) => child.once('message', resolve));
  child.kill();
  return result;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const summary = (values) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });

async function main() {
  const results = {};
  const record = (name, kind, runs, extra = {}) => {
    results[name] ??= {};
    results[name][kind] = {
      cpuPerHandshakeMs: summary(runs.map((r) => r.cpuMs / AT_ONCE)),
      cpuFor20Ms: summary(runs.map((r) => r.cpuMs)),
      peakMiB: summary(runs.map((r) => r.peak / 2 ** 20)),
      ...extra,
    };
  };
  for (const [name, headers] of Object.entries(SERVER_CASES)) {
    const runs = { isosocket: [], ws: [] };
    const status = {};
    // Alternate the two, run by run, so a busy moment on the machine lands on both.
    for (let i = 0; i < RUNS; i++) {
      for (const kind of ['isosocket', 'ws']) {
        const run = await serverRun(kind, headers);
        runs[kind].push(run);
        status[kind] = run.status;
      }
    }
    for (const kind of ['isosocket', 'ws']) record(name, kind, runs[kind], { status: status[kind] });
  }
  const plain = await hostileServer('');
  for (const [name, extensions] of Object.entries(CLIENT_CASES)) {
    const server = await hostileServer(extensions);
    const runs = { isosocket: [], ws: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const kind of ['isosocket', 'ws']) runs[kind].push(await clientRun(kind, server, plain));
    }
    server.close();
    for (const kind of ['isosocket', 'ws']) record(name, kind, runs[kind]);
  }
  plain.close();

  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  console.log(
    `Handshakes, ${AT_ONCE} at once, median of ${RUNS} fresh processes (min-max); CPU per handshake (warm), peak RSS growth for the first ${AT_ONCE} (cold)`,
  );
  for (const [name, kinds] of Object.entries(results)) {
    const us = kinds.isosocket;
    const ws = kinds.ws;
    const cell = (r) =>
      `${(r.cpuPerHandshakeMs.median * 1000).toFixed(0).padStart(5)} µs (${(r.cpuPerHandshakeMs.min * 1000).toFixed(0)}-${(r.cpuPerHandshakeMs.max * 1000).toFixed(0)})  +${r.peakMiB.median.toFixed(1)} MiB`;
    const ratio = (us.cpuPerHandshakeMs.median / ws.cpuPerHandshakeMs.median).toFixed(2);
    console.log(`${name.padEnd(34)} isosocket ${cell(us)}   ws ${cell(ws)}   CPU ${ratio}x ws`);
    if (us.status) console.log(`${''.padEnd(34)} answers: isosocket "${us.status}", ws "${ws.status}"`);
  }
}

const [mode, kind, url, plainUrl] = process.argv.slice(2);
if (mode === '--server') await serverChild(kind);
else if (mode === '--client') await clientChild(kind, url, plainUrl);
else await main();
