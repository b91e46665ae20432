// `npm run bench`: isosocket side by side with ws and faye-websocket (and
// undici's client, and better-sse for server-sent events), in one run, on
// this machine. Every figure is the median
// of BENCH_RUNS runs (default 3), shown with min and max; ratios compare
// medians. Results go to bench/results.json and a table on stdout.
//
// ws runs as its README recommends deploying it, with bufferutil (a
// devDependency here; each row checks that ws loaded it), and again without
// (WS_NO_BUFFER_UTIL=1), labelled. The limit rows are Node's own TCP echo
// (`socket.pipe(socket)`) on the same load generator: the machine's ceiling.
// Rows that compare servers or clients alternate between them run by run,
// so that a neighbour's load on a shared machine falls on all of them.
//
// Each server and each client runs in a process of its own; the load
// generator (bench/load.mjs) is the same raw, pre-masked, pipelined client
// for every server. BENCH_ONLY=server,client,compressed,latency,memory,sse,channel,h2,import,redis
// runs some rows only (and leaves results.json alone), as does BENCH_SIZES.
import { fork, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { channelBench, channelTable } from './channel.mjs';
import { channelRedisBench, channelRedisTable } from './channel-redis.mjs';
import { http2Bench, http2Table } from './http2.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DURATION = Number(process.env.BENCH_MS ?? 2000);
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE ?? 10_000);
const SSE_CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 1000);
const SSE_IDLE = Number(process.env.BENCH_SSE_IDLE ?? 5000);
const H2_SOCKETS = Number(process.env.BENCH_H2_SOCKETS ?? 100);
const only = process.env.BENCH_ONLY?.split(',');

// BENCH_SIZES='64 KiB,1 MiB' keeps some echo sizes only.
const sizes = process.env.BENCH_SIZES?.split(',');
const SIZES = [
  { label: '16 B', size: 16, connections: 4, window: 256 },
  { label: '1 KiB', size: 1024, connections: 4, window: 128 },
  { label: '64 KiB', size: 64 * 1024, connections: 2, window: 8 },
  { label: '1 MiB', size: 1024 * 1024, connections: 1, window: 2 },
].filter(({ label }) => !sizes || sizes.includes(label));

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

/** `ws-nobu` is ws with WS_NO_BUFFER_UTIL=1: its JavaScript masking. */
const NO_BUFFER_UTIL = { ...process.env, WS_NO_BUFFER_UTIL: '1' };
const envFor = (kind) => (kind === 'ws-nobu' ? NO_BUFFER_UTIL : process.env);
const libraryOf = (kind) => (kind === 'ws-nobu' ? 'ws' : kind);

function startServer(kind, compression) {
  return new Promise((resolve, reject) => {
    const child = fork(`${ROOT}bench/servers.mjs`, [libraryOf(kind), ...(compression ? [compression] : [])], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: envFor(kind),
    });
    child.once('message', (message) => {
      // No ratio may rest on a ws that silently ran without bufferutil (or with it).
      if (kind === 'ws' && !message.bufferutil) reject(new Error('ws did not load bufferutil: is it installed?'));
      if (kind === 'ws-nobu' && message.bufferutil) reject(new Error('ws loaded bufferutil despite WS_NO_BUFFER_UTIL'));
      resolve({ child, port: message.port });
    });
    child.once('error', reject);
  });
}

/** Waits for a held-open load generator's first line; fails if it exits first. */
function ready(load) {
  return new Promise((resolve, reject) => {
    const exited = (code) => reject(new Error(`the load generator exited (${code}) before its connections were open`));
    load.once('exit', exited);
    load.stdout.once('data', () => {
      load.off('exit', exited);
      resolve();
    });
  });
}

/** The server's CPU time (µs) while `work` runs, and `work`'s result. */
async function withCpu(child, work) {
  const before = await request(child, { type: 'cpu' });
  const result = await work();
  const after = await request(child, { type: 'cpu' });
  return { result, cpu: after.user - before.user + after.system - before.system, stallMs: after.stallMs };
}

function request(child, message) {
  return new Promise((resolve, reject) => {
    const exited = (code) =>
      reject(new Error(`a bench process exited (${code}) before it answered ${JSON.stringify(message)}`));
    child.once('exit', exited);
    child.once('message', (answer) => {
      child.off('exit', exited);
      resolve(answer);
    });
    child.send(message);
  });
}

function runJson(file, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${ROOT}${file}`, ...args.map(String)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
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

const SERVER_KINDS = ['iso', 'ws', 'ws-nobu', 'faye', 'pipe'];

/**
 * Every kind's server up at once, then RUNS rounds, each running `load` once
 * against each server in turn; the server's CPU time per echoed message too.
 */
async function alternate(kinds, compression, load) {
  const servers = {};
  for (const kind of kinds) servers[kind] = await startServer(kind, compression);
  const runs = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const kind of kinds) {
      const { child, port } = servers[kind];
      const { result, cpu, stallMs } = await withCpu(child, () => load(port));
      runs[kind].push({ ...result, cpuPerMessage: result.total ? cpu / result.total : null, stallMs });
    }
  }
  for (const { child } of Object.values(servers)) child.kill();
  return Object.fromEntries(kinds.map((kind) => [kind, rows(runs[kind])]));
}

/** Medians of an echo load's runs. */
function rows(runs) {
  const out = {
    messages: summary(runs.map((r) => r.messages)),
    mbps: summary(runs.map((r) => r.bytes / 1e6)),
  };
  if (runs.every((r) => typeof r.cpuPerMessage === 'number'))
    out.cpuPerMessage = summary(runs.map((r) => r.cpuPerMessage));
  if (runs.every((r) => typeof r.stallMs === 'number')) out.stallMs = summary(runs.map((r) => r.stallMs));
  return out;
}

async function serverEcho() {
  const results = {};
  for (const { label, size, connections, window } of SIZES) {
    results[label] = await alternate(SERVER_KINDS, undefined, (port) =>
      runJson('bench/load.mjs', ['echo', port, size, connections, window, DURATION]),
    );
    const r = results[label];
    log(
      `server echo ${label}: ${SERVER_KINDS.map((kind) => `${kind} ${fmt(r[kind].messages.median)}`).join(', ')} msg/s`,
    );
  }
  return results;
}

const CLIENT_KINDS = ['iso', 'ws', 'ws-nobu', 'faye', 'undici'];

async function clientEcho() {
  const results = {};
  // The fastest echo server here (see server echo), so that it is not the bottleneck.
  const { child, port } = await startServer('iso');
  for (const { label, size, window } of SIZES) {
    const runs = Object.fromEntries(CLIENT_KINDS.map((kind) => [kind, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const kind of CLIENT_KINDS) {
        runs[kind].push(
          await runJson(
            'bench/client-load.mjs',
            [libraryOf(kind), `ws://127.0.0.1:${port}/`, 'echo', size, window, DURATION],
            envFor(kind),
          ),
        );
      }
    }
    results[label] = Object.fromEntries(CLIENT_KINDS.map((kind) => [kind, rows(runs[kind])]));
    const r = results[label];
    log(
      `client echo ${label}: ${CLIENT_KINDS.map((kind) => `${kind} ${fmt(r[kind].messages.median)}`).join(', ')} msg/s`,
    );
  }
  child.kill();
  return results;
}

// Compressed rows: realistic JSON (bench/json.mjs) as text messages,
// permessage-deflate with each library's defaults (context takeover), and
// with server_ and client_no_context_takeover.
const COMPRESSED_SIZES = [
  { label: '1 KiB', size: 1024, connections: 4, window: 64 },
  { label: '64 KiB', size: 64 * 1024, connections: 2, window: 8 },
];
const TAKEOVER = [
  { label: 'context takeover', offer: 'takeover', server: 'deflate' },
  { label: 'no context takeover', offer: 'no-takeover', server: 'deflate-no-takeover' },
];
const COMPRESSED_KINDS = ['iso', 'ws', 'faye'];
/** Compressed connections held open for the memory row (each may keep two zlib contexts of ~300 KiB). */
const COMPRESSED_IDLE = Number(process.env.BENCH_COMPRESSED_IDLE ?? 200);

async function compressed() {
  const results = { server: {}, client: {} };
  for (const takeover of TAKEOVER) {
    for (const { label, size, connections, window } of COMPRESSED_SIZES) {
      const row = `${label}, ${takeover.label}`;
      results.server[row] = await alternate(COMPRESSED_KINDS, takeover.server, (port) =>
        runJson('bench/load.mjs', ['deflate-echo', port, size, connections, window, DURATION, takeover.offer]),
      );
      const r = results.server[row];
      log(
        `compressed server echo ${row}: ${COMPRESSED_KINDS.map((k) => `${k} ${fmt(r[k].messages.median)}`).join(', ')} msg/s`,
      );
    }
    // Clients against one isosocket server (compression on, as the row
    // asks): the fastest compressed echo here (see the server rows), so that
    // it is not the bottleneck; each client's CPU time per message measured
    // in its own process.
    const { child, port } = await startServer('iso', takeover.server);
    for (const { label, size, window } of COMPRESSED_SIZES) {
      const row = `${label}, ${takeover.label}`;
      const runs = Object.fromEntries(COMPRESSED_KINDS.map((kind) => [kind, []]));
      for (let run = 0; run < RUNS; run++) {
        for (const kind of COMPRESSED_KINDS) {
          runs[kind].push(
            await runJson('bench/client-load.mjs', [
              kind,
              `ws://127.0.0.1:${port}/`,
              'deflate-echo',
              size,
              window,
              DURATION,
              takeover.offer,
            ]),
          );
        }
      }
      results.client[row] = Object.fromEntries(COMPRESSED_KINDS.map((kind) => [kind, rows(runs[kind])]));
      const r = results.client[row];
      log(
        `compressed client echo ${row}: ${COMPRESSED_KINDS.map((k) => `${k} ${fmt(r[k].messages.median)}`).join(', ')} msg/s`,
      );
    }
    child.kill();
  }
  results.memory = await compressedMemory();
  return results;
}

/** Memory per compressed connection at rest, after one message each way (bench/load.mjs idle-deflate). */
async function compressedMemory() {
  const results = {};
  for (const takeover of TAKEOVER) {
    const row = {};
    results[takeover.label] = row;
    for (const kind of COMPRESSED_KINDS) {
      const heap = [];
      const rss = [];
      for (let run = 0; run < RUNS; run++) {
        const { child, port } = await startServer(kind, takeover.server);
        const before = await request(child, { type: 'memory' });
        const load = spawn(
          process.execPath,
          [`${ROOT}bench/load.mjs`, 'idle-deflate', port, COMPRESSED_IDLE, takeover.offer],
          { stdio: ['pipe', 'pipe', 'inherit'] },
        );
        await ready(load);
        const after = await request(child, { type: 'memory' });
        heap.push((after.heapUsed - before.heapUsed) / COMPRESSED_IDLE);
        rss.push((after.rss - before.rss) / COMPRESSED_IDLE);
        load.kill();
        child.kill();
      }
      row[kind] = { heapPerConnection: summary(heap), rssPerConnection: summary(rss) };
    }
    log(
      `compressed idle memory, ${takeover.label}: ${COMPRESSED_KINDS.map((k) => `${k} ${fmt(row[k].rssPerConnection.median)}`).join(', ')} B RSS per connection`,
    );
  }
  return results;
}

// Import time: a fresh process per sample, timing `require()` (and, apart,
// `import()`) of the package alone; the median of IMPORT_SAMPLES, the
// packages taken in turn.
const IMPORT_SAMPLES = Number(process.env.BENCH_IMPORT_SAMPLES ?? 11);
const IMPORTED = ['isosocket', 'ws', 'undici', 'faye-websocket', 'eventsource'];

function importOnce(name, how) {
  const load = how === 'require' ? `require(${JSON.stringify(name)})` : `await import(${JSON.stringify(name)})`;
  const source = `const t = process.hrtime.bigint(); ${load}; console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t) / 1e6 }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, how === 'require' ? ['-e', source] : ['--input-type=module', '-e', source], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(output.trim()).ms);
      } catch {
        reject(new Error(`importing ${name} (${how}) exited ${code}: ${output}`));
      }
    });
  });
}

async function importTime() {
  const samples = Object.fromEntries(IMPORTED.map((name) => [name, { require: [], import: [] }]));
  for (let i = 0; i < IMPORT_SAMPLES; i++) {
    for (const name of IMPORTED) {
      for (const how of ['require', 'import']) samples[name][how].push(await importOnce(name, how));
    }
  }
  const results = {};
  for (const name of IMPORTED) {
    results[name] = { require: summary(samples[name].require), import: summary(samples[name].import) };
  }
  log(`import time: ${IMPORTED.map((name) => `${name} ${fmt(results[name].require.median)} ms`).join(', ')}`);
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
      await ready(load);
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

const SSE_KINDS = { iso: 'sse-iso', faye: 'sse-faye', better: 'sse-better' };
// Rows: one event per loop turn as fast as the loop turns (no rate), then
// events at a fixed rate per second (each reaching every client).
const SSE_LOADS = [
  { label: 'as fast as the loop turns, 1 event per turn', rate: 0 },
  { label: '100 events/s', rate: 100 },
  { label: '1,000 events/s', rate: 1000 },
];

async function sseFanOut() {
  const results = { loads: {}, memory: {} };
  for (const { label, rate } of SSE_LOADS) {
    results.loads[label] = {};
    for (const [name, kind] of Object.entries(SSE_KINDS)) {
      const rates = [];
      const p50 = [];
      const p99 = [];
      const serverCpu = [];
      const loadCpu = [];
      let dropped = 0;
      for (let run = 0; run < RUNS; run++) {
        const { child, port } = await startServer(kind);
        const load = fork(`${ROOT}bench/load.mjs`, ['sse', port, SSE_CLIENTS], {
          stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
        });
        await ready(load);
        const before = await request(load, 'count');
        const started = process.hrtime.bigint();
        const done = await request(child, { type: 'broadcast', size: 64, ms: DURATION, rate });
        await new Promise((resolve) => setTimeout(resolve, 300)); // let the last events land
        const after = await request(load, 'count');
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        rates.push((after.events - before.events) / seconds);
        p50.push(after.p50);
        p99.push(after.p99);
        serverCpu.push((100 * done.cpuMs) / done.wallMs);
        loadCpu.push((100 * after.cpuMs) / (seconds * 1000));
        dropped += done.dropped ?? 0;
        load.kill();
        child.kill();
      }
      results.loads[label][name] = {
        eventsPerSecond: summary(rates),
        latencyMs: { p50: summary(p50), p99: summary(p99) },
        cpuPercent: { server: summary(serverCpu), loadGenerator: summary(loadCpu) },
        dropped,
      };
      log(
        `sse fan-out ${label} ${name}: ${fmt(median(rates))} events/s, latency p50 ${fmt(median(p50))} ms, p99 ${fmt(median(p99))} ms, CPU server ${fmt(median(serverCpu))}% load generator ${fmt(median(loadCpu))}%${dropped ? `, ${dropped} streams dropped` : ''}`,
      );
    }
  }
  for (const [name, kind] of Object.entries(SSE_KINDS)) {
    const heap = [];
    const rss = [];
    for (let run = 0; run < RUNS; run++) {
      const { child, port } = await startServer(kind);
      const before = await request(child, { type: 'memory' });
      const load = fork(`${ROOT}bench/load.mjs`, ['sse', port, SSE_IDLE], {
        stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
      });
      await ready(load);
      const after = await request(child, { type: 'memory' });
      heap.push((after.heapUsed - before.heapUsed) / SSE_IDLE);
      rss.push((after.rss - before.rss) / SSE_IDLE);
      load.kill();
      child.kill();
    }
    results.memory[name] = { heapPerStream: summary(heap), rssPerStream: summary(rss) };
    log(`sse idle memory ${name}: ${fmt(median(heap))} B heap, ${fmt(median(rss))} B RSS per stream`);
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

// BENCH_FROM=file prints the tables of a saved run instead of running; every
// section is saved to BENCH_PARTIAL (default: in the temporary directory) as
// it completes, so that a crash late in a run loses nothing before it.
const from = process.env.BENCH_FROM;
const partial = process.env.BENCH_PARTIAL ?? `${os.tmpdir()}/isosocket-bench-partial.json`;
const results = from ? JSON.parse(readFileSync(from, 'utf8')) : { machine };
const save = () => writeFileSync(partial, `${JSON.stringify(results, null, 2)}\n`);
const want = (name) => !from && (!only || only.includes(name));
console.log(
  `isosocket bench: ${results.machine.cpus} cores (${results.machine.model}), Node ${results.machine.node}, ${results.machine.runs} runs of ${results.machine.durationMs} ms each; medians (min-max)\n`,
);

if (want('server')) {
  results.serverEcho = await serverEcho();
  save();
}
if (want('client')) {
  results.clientEcho = await clientEcho();
  save();
}
if (want('compressed')) {
  results.compressed = await compressed();
  save();
}
if (want('latency')) {
  results.latency = await latency();
  save();
}
if (want('memory')) {
  results.idleMemory = await idleMemory();
  save();
}
if (want('sse')) {
  results.sseFanOut = await sseFanOut();
  save();
}
if (want('channel')) {
  results.channelFanOut = await channelBench({
    runs: RUNS,
    duration: DURATION,
    clients: Number(process.env.BENCH_CHANNEL_CLIENTS ?? 1000),
    log,
  });
  save();
}
if (want('h2')) {
  results.http2 = await http2Bench({ runs: RUNS, duration: DURATION, sockets: H2_SOCKETS, log });
  save();
}
if (want('import')) {
  results.importTime = await importTime();
  save();
}
if (want('redis')) {
  results.channelRedis = await channelRedisBench({ runs: RUNS, duration: DURATION, log });
  save();
}

const lines = [];
const us = (r) => (r.cpuPerMessage ? fmt(r.cpuPerMessage.median) : '-');
if (results.serverEcho) {
  lines.push(
    '## Server echo (messages/s, median (min-max); limit: Node TCP echo on the same load generator)',
    '',
    '| size | isosocket | ws + bufferutil | ws, no bufferutil | faye-websocket | limit: socket.pipe(socket) | ours/ws | ours/ws no bufferutil | ours/faye | ours/limit | ws/limit |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const [label, r] of Object.entries(results.serverEcho)) {
    const m = (kind) => r[kind].messages.median;
    lines.push(
      `| ${label} | ${range(r.iso.messages)}; ${fmt(r.iso.mbps.median)} MB/s | ${range(r.ws.messages)} | ${range(r['ws-nobu'].messages)} | ${range(r.faye.messages)} | ${range(r.pipe.messages)}; ${fmt(r.pipe.mbps.median)} MB/s | ${ratio(m('iso'), m('ws'))} | ${ratio(m('iso'), m('ws-nobu'))} | ${ratio(m('iso'), m('faye'))} | ${ratio(m('iso'), m('pipe'))} | ${ratio(m('ws'), m('pipe'))} |`,
    );
  }
  lines.push(
    '',
    '| server CPU time per echoed message, µs (median) | isosocket | ws + bufferutil | ws, no bufferutil | faye-websocket | limit | ws/ours |',
    '|---|---|---|---|---|---|---|',
  );
  for (const [label, r] of Object.entries(results.serverEcho)) {
    lines.push(
      `| ${label} | ${us(r.iso)} | ${us(r.ws)} | ${us(r['ws-nobu'])} | ${us(r.faye)} | ${us(r.pipe)} | ${ratio(r.ws.cpuPerMessage.median, r.iso.cpuPerMessage.median)} |`,
    );
  }
  lines.push('');
}
if (results.clientEcho) {
  lines.push(
    '## Client echo against an isosocket echo server (messages/s)',
    '',
    '| size | isosocket | ws + bufferutil | ws, no bufferutil | faye-websocket | undici | ours/ws | ours/ws no bufferutil | ours/faye | ours/undici |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const [label, r] of Object.entries(results.clientEcho)) {
    const m = (kind) => r[kind].messages.median;
    lines.push(
      `| ${label} | ${range(r.iso.messages)} | ${range(r.ws.messages)} | ${range(r['ws-nobu'].messages)} | ${range(r.faye.messages)} | ${range(r.undici.messages)} | ${ratio(m('iso'), m('ws'))} | ${ratio(m('iso'), m('ws-nobu'))} | ${ratio(m('iso'), m('faye'))} | ${ratio(m('iso'), m('undici'))} |`,
    );
  }
  lines.push(
    '',
    '| client CPU time per message, µs (median) | isosocket | ws + bufferutil | ws, no bufferutil | faye-websocket | undici |',
    '|---|---|---|---|---|---|',
  );
  for (const [label, r] of Object.entries(results.clientEcho)) {
    lines.push(`| ${label} | ${us(r.iso)} | ${us(r.ws)} | ${us(r['ws-nobu'])} | ${us(r.faye)} | ${us(r.undici)} |`);
  }
  lines.push('');
}
if (results.compressed) {
  for (const [side, title] of [
    ['server', 'Compressed server echo (permessage-deflate, JSON text; messages/s; server CPU µs per message)'],
    [
      'client',
      'Compressed client echo against an isosocket server (permessage-deflate, JSON text; messages/s; client CPU µs per message)',
    ],
  ]) {
    const stalls = side === 'server';
    lines.push(
      `## ${title}`,
      '',
      `| size, context | isosocket | ws + bufferutil | faye-websocket | ours/ws | ours/faye | CPU µs/msg ours / ws / faye |${stalls ? ' longest stall, ms, ours / ws / faye |' : ''}`,
      `|---|---|---|---|---|---|---|${stalls ? '---|' : ''}`,
    );
    const stall = (r) => (r.stallMs ? fmt(r.stallMs.median) : '-');
    for (const [label, r] of Object.entries(results.compressed[side])) {
      const m = (kind) => r[kind].messages.median;
      lines.push(
        `| ${label} | ${range(r.iso.messages)} | ${range(r.ws.messages)} | ${range(r.faye.messages)} | ${ratio(m('iso'), m('ws'))} | ${ratio(m('iso'), m('faye'))} | ${us(r.iso)} / ${us(r.ws)} / ${us(r.faye)} |${stalls ? ` ${stall(r.iso)} / ${stall(r.ws)} / ${stall(r.faye)} |` : ''}`,
      );
    }
    lines.push('');
  }
  if (results.compressed.memory) {
    lines.push(
      `## Memory per compressed connection at rest (${COMPRESSED_IDLE} connections, one 1 KiB message echoed on each; bytes)`,
      '',
      '| context | heap: isosocket / ws / faye | RSS: isosocket / ws / faye | RSS, ours/ws |',
      '|---|---|---|---|',
    );
    for (const [label, r] of Object.entries(results.compressed.memory)) {
      const cell = (key) => COMPRESSED_KINDS.map((k) => fmt(r[k][key].median)).join(' / ');
      lines.push(
        `| ${label} | ${cell('heapPerConnection')} | ${cell('rssPerConnection')} | ${ratio(r.iso.rssPerConnection.median, r.ws.rssPerConnection.median)} |`,
      );
    }
    lines.push('');
  }
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
    `## SSE fan-out to ${SSE_CLIENTS.toLocaleString('en-US')} clients (64 B events delivered/s)`,
    '',
    '| published | isosocket channel | faye-websocket | better-sse | ours/faye | ours/better-sse |',
    '|---|---|---|---|---|---|',
  );
  for (const [label, r] of Object.entries(s.loads)) {
    lines.push(
      `| ${label} | ${range(r.iso.eventsPerSecond)} | ${range(r.faye.eventsPerSecond)} | ${range(r.better.eventsPerSecond)} | ${ratio(r.iso.eventsPerSecond.median, r.faye.eventsPerSecond.median)} | ${ratio(r.iso.eventsPerSecond.median, r.better.eventsPerSecond.median)} |`,
    );
  }
  const ms = (l) => `${fmt(l.p50.median)} / ${fmt(l.p99.median)}`;
  lines.push(
    '',
    '| delivery latency, ms p50 / p99 | isosocket channel | faye-websocket | better-sse |',
    '|---|---|---|---|',
  );
  for (const [label, r] of Object.entries(s.loads)) {
    lines.push(`| ${label} | ${ms(r.iso.latencyMs)} | ${ms(r.faye.latencyMs)} | ${ms(r.better.latencyMs)} |`);
  }
  const cpu = (c) => `${fmt(c.server.median)}% / ${fmt(c.loadGenerator.median)}%`;
  lines.push(
    '',
    '| CPU while broadcasting, server / load generator (one core = 100%) | isosocket channel | faye-websocket | better-sse |',
    '|---|---|---|---|',
  );
  for (const [label, r] of Object.entries(s.loads)) {
    lines.push(`| ${label} | ${cpu(r.iso.cpuPercent)} | ${cpu(r.faye.cpuPercent)} | ${cpu(r.better.cpuPercent)} |`);
  }
  const m = s.memory;
  lines.push(
    '',
    `## Memory per idle SSE stream (${SSE_IDLE.toLocaleString('en-US')} open; bytes)`,
    '',
    '| | isosocket channel | faye-websocket | better-sse |',
    '|---|---|---|---|',
    `| heap | ${range(m.iso.heapPerStream)} | ${range(m.faye.heapPerStream)} | ${range(m.better.heapPerStream)} |`,
    `| RSS | ${range(m.iso.rssPerStream)} | ${range(m.faye.rssPerStream)} | ${range(m.better.rssPerStream)} |`,
    '',
  );
}
if (results.channelFanOut) lines.push(...channelTable(results.channelFanOut));
if (results.http2) lines.push(...http2Table(results.http2));
if (results.channelRedis) lines.push(...channelRedisTable(results.channelRedis));
if (results.importTime) {
  const r = results.importTime;
  lines.push(
    `## Import time (ms, median of ${IMPORT_SAMPLES} fresh processes)`,
    '',
    '| package | require() | import() | require, ours/package |',
    '|---|---|---|---|',
  );
  for (const [name, t] of Object.entries(r)) {
    lines.push(
      `| ${name} | ${range(t.require)} | ${range(t.import)} | ${ratio(r.isosocket.require.median, t.require.median)} |`,
    );
  }
  lines.push('');
}
console.log(lines.join('\n'));
if (!only && !sizes && !from) writeFileSync(`${ROOT}bench/results.json`, `${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
