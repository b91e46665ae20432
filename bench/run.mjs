// `npm run bench`: isosocket side by side with ws and faye-websocket (and
// undici's client), in one run, on this machine. Every figure is the median
// of BENCH_RUNS runs (default 3), shown with min and max; ratios compare
// medians. Results go to bench/results.json and a table on stdout.
//
// Each server and each client runs in a process of its own; the load
// generator (bench/load.mjs) is the same raw, pre-masked, pipelined client
// for every server.
import { fork, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { http2Bench, http2Table } from './http2.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DURATION = Number(process.env.BENCH_MS ?? 2000);
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE ?? 10_000);
const SSE_CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 1000);
const H2_SOCKETS = Number(process.env.BENCH_H2_SOCKETS ?? 100);
const only = process.env.BENCH_ONLY?.split(',');

const SIZES = [
  { label: '16 B', size: 16, connections: 4, window: 256 },
  { label: '1 KiB', size: 1024, connections: 4, window: 128 },
  { label: '64 KiB', size: 64 * 1024, connections: 2, window: 8 },
  { label: '1 MiB', size: 1024 * 1024, connections: 1, window: 2 },
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const summary = (values) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
  runs: values,
});

function startServer(kind) {
  return new Promise((resolve, reject) => {
    const child = fork(`${ROOT}bench/servers.mjs`, [kind], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (message) => resolve({ child, port: message.port }));
    child.once('error', reject);
  });
}

function request(child, message) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(message);
  });
}

function runJson(file, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${ROOT}${file}`, ...args.map(String)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(output.trim().split('\n').pop()));
      } catch {
        reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${output}`));
      }
    });
  });
}

async function serverEcho() {
  const results = {};
  for (const { label, size, connections, window } of SIZES) {
    results[label] = {};
    for (const kind of ['iso', 'ws', 'faye']) {
      const { child, port } = await startServer(kind);
      const runs = [];
      for (let run = 0; run < RUNS; run++) {
        runs.push(await runJson('bench/load.mjs', ['echo', port, size, connections, window, DURATION]));
      }
      child.kill();
      results[label][kind] = {
        messages: summary(runs.map((r) => r.messages)),
        mbps: summary(runs.map((r) => r.bytes / 1e6)),
      };
      log(`server echo ${label} ${kind}: ${fmt(results[label][kind].messages.median)} msg/s`);
    }
  }
  return results;
}

async function clientEcho() {
  const results = {};
  // The fastest echo server here (see server echo), so that it is not the bottleneck.
  const { child, port } = await startServer('iso');
  for (const { label, size, window } of SIZES) {
    results[label] = {};
    for (const kind of ['iso', 'ws', 'faye', 'undici']) {
      const runs = [];
      for (let run = 0; run < RUNS; run++) {
        runs.push(
          await runJson('bench/client-load.mjs', [kind, `ws://127.0.0.1:${port}/`, 'echo', size, window, DURATION]),
        );
      }
      results[label][kind] = {
        messages: summary(runs.map((r) => r.messages)),
        mbps: summary(runs.map((r) => r.bytes / 1e6)),
      };
      log(`client echo ${label} ${kind}: ${fmt(results[label][kind].messages.median)} msg/s`);
    }
  }
  child.kill();
  return results;
}

async function latency() {
  const results = { server: {}, client: {} };
  for (const kind of ['iso', 'ws', 'faye']) {
    const { child, port } = await startServer(kind);
    const runs = [];
    for (let run = 0; run < RUNS; run++) runs.push(await runJson('bench/load.mjs', ['latency', port, 5000]));
    child.kill();
    results.server[kind] = { p50: summary(runs.map((r) => r.p50)), p99: summary(runs.map((r) => r.p99)) };
  }
  const { child, port } = await startServer('ws');
  for (const kind of ['iso', 'ws', 'faye', 'undici']) {
    const runs = [];
    for (let run = 0; run < RUNS; run++) {
      runs.push(await runJson('bench/client-load.mjs', [kind, `ws://127.0.0.1:${port}/`, 'latency', 5000]));
    }
    results.client[kind] = { p50: summary(runs.map((r) => r.p50)), p99: summary(runs.map((r) => r.p99)) };
  }
  child.kill();
  log('latency done');
  return results;
}

async function idleMemory() {
  const results = {};
  for (const kind of ['iso', 'ws', 'faye']) {
    const heap = [];
    const rss = [];
    for (let run = 0; run < RUNS; run++) {
      const { child, port } = await startServer(kind);
      const before = await request(child, { type: 'memory' });
      const load = spawn(process.execPath, [`${ROOT}bench/load.mjs`, 'idle', port, IDLE_CONNECTIONS], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      await new Promise((resolve) => load.stdout.once('data', resolve));
      const after = await request(child, { type: 'memory' });
      heap.push((after.heapUsed - before.heapUsed) / IDLE_CONNECTIONS);
      rss.push((after.rss - before.rss) / IDLE_CONNECTIONS);
      load.kill();
      child.kill();
    }
    results[kind] = { heapPerConnection: summary(heap), rssPerConnection: summary(rss) };
    log(`idle memory ${kind}: ${fmt(median(heap))} B heap, ${fmt(median(rss))} B RSS per connection`);
  }
  return results;
}

async function sseFanOut() {
  const results = {};
  for (const kind of ['sse-iso', 'sse-faye']) {
    const rates = [];
    for (let run = 0; run < RUNS; run++) {
      const { child, port } = await startServer(kind);
      const load = fork(`${ROOT}bench/load.mjs`, ['sse', port, SSE_CLIENTS], {
        stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
      });
      await new Promise((resolve) => load.stdout.once('data', resolve));
      const before = await request(load, 'count');
      const started = process.hrtime.bigint();
      await request(child, { type: 'broadcast', size: 64, ms: DURATION });
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the last events land
      const after = await request(load, 'count');
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      rates.push((after.events - before.events) / seconds);
      load.kill();
      child.kill();
    }
    results[kind.slice(4)] = { eventsPerSecond: summary(rates) };
    log(`sse fan-out ${kind}: ${fmt(median(rates))} events/s`);
  }
  return results;
}

const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const ratio = (a, b) => (b ? `${(a / b).toFixed(2)}x` : 'n/a');
const range = (s) => `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`;
function log(line) {
  process.stderr.write(`  ${line}\n`);
}

const machine = {
  cpus: os.cpus().length,
  model: os.cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  runs: RUNS,
  durationMs: DURATION,
  date: new Date().toISOString(),
};
console.log(
  `isosocket bench: ${machine.cpus} cores (${machine.model}), Node ${machine.node}, ${RUNS} runs of ${DURATION} ms each; medians (min-max)\n`,
);

const results = { machine };
const want = (name) => !only || only.includes(name);
if (want('server')) results.serverEcho = await serverEcho();
if (want('client')) results.clientEcho = await clientEcho();
if (want('latency')) results.latency = await latency();
if (want('memory')) results.idleMemory = await idleMemory();
if (want('sse')) results.sseFanOut = await sseFanOut();
if (want('h2')) results.http2 = await http2Bench({ runs: RUNS, duration: DURATION, sockets: H2_SOCKETS, log });

const lines = [];
if (results.serverEcho) {
  lines.push(
    '## Server echo (messages/s; MB/s)',
    '',
    '| size | isosocket | ws | faye-websocket | ours/ws | ours/faye |',
    '|---|---|---|---|---|---|',
  );
  for (const [label, r] of Object.entries(results.serverEcho)) {
    lines.push(
      `| ${label} | ${range(r.iso.messages)}; ${fmt(r.iso.mbps.median)} MB/s | ${range(r.ws.messages)} | ${range(r.faye.messages)} | ${ratio(r.iso.messages.median, r.ws.messages.median)} | ${ratio(r.iso.messages.median, r.faye.messages.median)} |`,
    );
  }
  lines.push('');
}
if (results.clientEcho) {
  lines.push(
    '## Client echo against a ws server (messages/s)',
    '',
    '| size | isosocket | ws | faye-websocket | undici | ours/ws | ours/faye | ours/undici |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [label, r] of Object.entries(results.clientEcho)) {
    lines.push(
      `| ${label} | ${range(r.iso.messages)} | ${range(r.ws.messages)} | ${range(r.faye.messages)} | ${range(r.undici.messages)} | ${ratio(r.iso.messages.median, r.ws.messages.median)} | ${ratio(r.iso.messages.median, r.faye.messages.median)} | ${ratio(r.iso.messages.median, r.undici.messages.median)} |`,
    );
  }
  lines.push('');
}
if (results.latency) {
  lines.push(
    '## Round-trip latency, one 16 B message in flight (µs, p50 / p99)',
    '',
    '| side | isosocket | ws | faye-websocket | undici |',
    '|---|---|---|---|---|',
  );
  const cell = (r) => (r ? `${fmt(r.p50.median)} / ${fmt(r.p99.median)}` : '-');
  lines.push(
    `| server | ${cell(results.latency.server.iso)} | ${cell(results.latency.server.ws)} | ${cell(results.latency.server.faye)} | - |`,
  );
  lines.push(
    `| client | ${cell(results.latency.client.iso)} | ${cell(results.latency.client.ws)} | ${cell(results.latency.client.faye)} | ${cell(results.latency.client.undici)} |`,
  );
  lines.push('');
}
if (results.idleMemory) {
  const m = results.idleMemory;
  lines.push(
    `## Idle memory per connection (${IDLE_CONNECTIONS.toLocaleString('en-US')} open connections; bytes)`,
    '',
    '| | isosocket | ws | faye-websocket | ours/ws |',
    '|---|---|---|---|---|',
  );
  lines.push(
    `| heap | ${range(m.iso.heapPerConnection)} | ${range(m.ws.heapPerConnection)} | ${range(m.faye.heapPerConnection)} | ${ratio(m.iso.heapPerConnection.median, m.ws.heapPerConnection.median)} |`,
  );
  lines.push(
    `| RSS | ${range(m.iso.rssPerConnection)} | ${range(m.ws.rssPerConnection)} | ${range(m.faye.rssPerConnection)} | ${ratio(m.iso.rssPerConnection.median, m.ws.rssPerConnection.median)} |`,
  );
  lines.push('');
}
if (results.sseFanOut) {
  const s = results.sseFanOut;
  lines.push(
    `## SSE fan-out to ${SSE_CLIENTS.toLocaleString('en-US')} clients (events delivered/s)`,
    '',
    '| isosocket | faye-websocket | ours/faye |',
    '|---|---|---|',
  );
  lines.push(
    `| ${range(s.iso.eventsPerSecond)} | ${range(s.faye.eventsPerSecond)} | ${ratio(s.iso.eventsPerSecond.median, s.faye.eventsPerSecond.median)} |`,
  );
  lines.push('');
}
if (results.http2) lines.push(...http2Table(results.http2));
console.log(lines.join('\n'));
if (!only) writeFileSync(`${ROOT}bench/results.json`, `${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
