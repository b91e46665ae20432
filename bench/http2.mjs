// WebSockets over HTTP/2 (RFC 8441) against HTTP/1.1, isosocket on both ends,
// both over TLS (browsers use RFC 8441 only over TLS), for `npm run bench`:
// echo throughput on one WebSocket, and the time to open N WebSockets on one
// HTTP/2 session against N TCP+TLS connections. The server and each client
// run in processes of their own.
//
//   node bench/http2.mjs server                                (forked: sends {port} over IPC)
//   node bench/http2.mjs echo <h1|h2> <port> <size> <window> <ms>
//   node bench/http2.mjs setup <h1|h2> <port> <count>
import { fork, spawn } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(import.meta.url);
const SIZES = [
  { label: '16 B', size: 16, window: 256 },
  { label: '1 KiB', size: 1024, window: 128 },
  { label: '64 KiB', size: 64 * 1024, window: 8 },
];

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const summary = (values) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
  runs: values,
});

async function server() {
  const { default: WebSocket } = await import('isosocket');
  const { selfSigned } = await import('../examples/self-signed.mjs');
  const { key, cert } = selfSigned();
  const server = http2.createSecureServer(
    { key, cert, allowHTTP1: true, settings: { enableConnectProtocol: true } },
    (_request, response) => response.end(),
  );
  const accept = (request, socket, head) => {
    const ws = new WebSocket(request, socket, head);
    ws.onmessage = (event) => ws.send(event.data);
  };
  server.on('upgrade', accept);
  server.on('connect', accept);
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

/** Options for a client of the self-signed server, over HTTP/1.1 or on `session`. */
const clientOptions = (session) => ({
  binaryType: 'nodebuffer',
  perMessageDeflate: false,
  ...(session ? { http2: session } : { tls: { rejectUnauthorized: false } }),
});

function opened(ws) {
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = (event) => reject(new Error(event.message));
  });
}

async function echo(protocol, port, size, window, ms) {
  const { default: WebSocket } = await import('isosocket');
  const url = `wss://localhost:${port}/`;
  const session =
    protocol === 'h2' ? http2.connect(`https://localhost:${port}`, { rejectUnauthorized: false }) : undefined;
  const ws = await opened(new WebSocket.Client(url, [], clientOptions(session)));
  const payload = Buffer.alloc(size, 0x62);
  let received = 0;
  let inFlight = 0;
  let measuring = false;
  const refill = () => {
    while (inFlight < window) {
      ws.send(payload);
      inFlight++;
    }
  };
  ws.onmessage = () => {
    inFlight--;
    if (measuring) received++;
    if (inFlight <= window / 2) refill();
  };
  refill();
  await new Promise((resolve) => setTimeout(resolve, Math.min(500, ms / 4)));
  measuring = true;
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ messages: received / seconds, bytes: (received * size) / seconds }));
  process.exit(0);
}

async function setup(protocol, port, count) {
  const { default: WebSocket } = await import('isosocket');
  const url = `wss://localhost:${port}/`;
  const started = process.hrtime.bigint();
  // Over HTTP/2 the session (TCP, TLS, SETTINGS) is part of the cost.
  const session =
    protocol === 'h2' ? http2.connect(`https://localhost:${port}`, { rejectUnauthorized: false }) : undefined;
  const sockets = await Promise.all(
    Array.from({ length: count }, () => opened(new WebSocket.Client(url, [], clientOptions(session)))),
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  for (const ws of sockets) ws.close();
  console.log(JSON.stringify({ ms }));
  process.exit(0);
}

function runJson(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FILE, ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(output.trim().split('\n').pop()));
      } catch {
        reject(new Error(`bench/http2.mjs ${args.join(' ')} exited ${code}: ${output}`));
      }
    });
  });
}

/** Runs the HTTP/2 benchmarks, `runs` times each; returns medians (min-max). */
export async function http2Bench({ runs, duration, sockets, log }) {
  const child = fork(FILE, ['server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const results = { echo: {}, setup: {} };
  try {
    for (const { label, size, window } of SIZES) {
      results.echo[label] = {};
      for (const protocol of ['h1', 'h2']) {
        const values = [];
        for (let run = 0; run < runs; run++)
          values.push((await runJson(['echo', protocol, port, size, window, duration])).messages);
        results.echo[label][protocol] = summary(values);
        log(`echo over ${protocol} ${label}: ${Math.round(results.echo[label][protocol].median)} msg/s`);
      }
    }
    for (const count of [1, sockets]) {
      results.setup[count] = {};
      for (const protocol of ['h1', 'h2']) {
        const values = [];
        for (let run = 0; run < runs; run++) values.push((await runJson(['setup', protocol, port, count])).ms);
        results.setup[count][protocol] = summary(values);
        log(`open ${count} over ${protocol}: ${results.setup[count][protocol].median.toFixed(1)} ms`);
      }
    }
  } finally {
    child.kill();
  }
  return results;
}

/** The markdown tables for `http2Bench`'s results. */
export function http2Table(results) {
  const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
  const range = (s) => `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`;
  const lines = [
    '## WebSocket over HTTP/2 vs HTTP/1.1 (isosocket both ends, TLS; echo messages/s on one WebSocket)',
    '',
    '| size | over HTTP/1.1 | over HTTP/2 | h2/h1 |',
    '|---|---|---|---|',
  ];
  for (const [label, r] of Object.entries(results.echo)) {
    lines.push(`| ${label} | ${range(r.h1)} | ${range(r.h2)} | ${(r.h2.median / r.h1.median).toFixed(2)}x |`);
  }
  lines.push(
    '',
    '## Opening N WebSockets: N TCP+TLS connections (HTTP/1.1) vs one HTTP/2 session (ms until all are open)',
    '',
    '| N | HTTP/1.1 | HTTP/2 | h1/h2 |',
    '|---|---|---|---|',
  );
  for (const [count, r] of Object.entries(results.setup)) {
    lines.push(`| ${count} | ${range(r.h1)} | ${range(r.h2)} | ${(r.h1.median / r.h2.median).toFixed(2)}x |`);
  }
  lines.push('');
  return lines;
}

const [mode, ...args] = process.argv.slice(2);
if (process.argv[1] === FILE) {
  if (mode === 'server') await server();
  else if (mode === 'echo') await echo(args[0], ...args.slice(1).map(Number));
  else if (mode === 'setup') await setup(args[0], Number(args[1]), Number(args[2]));
  else if (mode !== undefined) throw new Error(`unknown mode ${mode}`);
}
