// `node bench/deflate-stall.mjs`: how long permessage-deflate's synchronous
// path (src/protocol/deflate-codec.ts) can hold the event loop. Each worst
// case runs ROUNDS times through one codec, a turn of the loop between runs;
// the table gives the median, p99 and longest time inside the call that
// returned synchronously (performance.now around it) and the process CPU
// time spent in it (what the scheduler took from us is not in it), and the longest
// event-loop stall seen over all of it (perf_hooks.monitorEventLoopDelay,
// which also counts what the machine's scheduler takes). Run `npm run build`
// first: the codec is loaded from dist/cjs, where the per-file build stays
// for benches like this one.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import zlib from 'node:zlib';
import { json } from './json.mjs';

const require = createRequire(import.meta.url);
const { Codec, SYNC_LIMIT, SYNC_OUTPUT_LIMIT } = require('../dist/cjs/protocol/deflate-codec.js');
const ROUNDS = Number(process.env.STALL_ROUNDS ?? 200);

const params = (takeover) => ({
  ownContextTakeover: takeover,
  peerContextTakeover: takeover,
  ownWindowBits: 15,
  peerWindowBits: 15,
  level: zlib.constants.Z_DEFAULT_COMPRESSION,
  memLevel: 8,
  strategy: zlib.constants.Z_DEFAULT_STRATEGY,
  maxLength: 64 << 20,
});
const onWire = (data) => {
  const out = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
};
const message = (data, rsv1) => ({ rsv1, rsv2: false, rsv3: false, opcode: 2, data });

const CASES = [
  ['deflate, JSON at SYNC_LIMIT', 'out', () => Buffer.from(json(SYNC_LIMIT))],
  ['deflate, random bytes at SYNC_LIMIT', 'out', () => randomBytes(SYNC_LIMIT)],
  ['inflate, JSON, about SYNC_LIMIT on the wire', 'in', () => onWire(Buffer.from(json(SYNC_LIMIT * 6)))],
  ['inflate, zeros: 1 MiB of output, then the thread pool', 'in', () => onWire(Buffer.alloc(8 * SYNC_OUTPUT_LIMIT))],
];

const delay = monitorEventLoopDelay({ resolution: 1 });
const rows = [];
for (const [label, direction, make] of CASES) {
  for (const takeover of [true, false]) {
    const codec = new Codec(params(takeover));
    const input = make();
    const times = [];
    const cpuTimes = [];
    delay.reset();
    delay.enable();
    for (let i = 0; i < ROUNDS; i++) {
      const data = direction === 'out' ? Buffer.from(input) : input;
      await new Promise((resolve) => {
        const cpu = process.cpuUsage();
        const started = performance.now();
        let returned = false;
        const measure = () => {
          const used = process.cpuUsage(cpu);
          times.push(performance.now() - started);
          cpuTimes.push((used.user + used.system) / 1000);
        };
        const done = () => {
          if (!returned) measure();
          setImmediate(resolve);
        };
        if (direction === 'out') codec.processOutgoingMessage(message(data, false), done);
        else codec.processIncomingMessage(message(data, true), done);
        returned = true;
        if (times.length < i + 1) measure(); // went on in the thread pool
      });
    }
    delay.disable();
    codec.close();
    times.sort((a, b) => a - b);
    cpuTimes.sort((a, b) => a - b);
    rows.push({
      label: `${label}, ${takeover ? 'context takeover' : 'no context takeover'}`,
      bytes: input.length,
      medianMs: times[times.length >> 1],
      p99Ms: times[Math.floor(times.length * 0.99)],
      maxMs: times.at(-1),
      cpuMedianMs: cpuTimes[cpuTimes.length >> 1],
      cpuMaxMs: cpuTimes.at(-1),
      stallMs: delay.max / 1e6,
    });
  }
}
console.log(`Synchronous hold of the event loop, ${ROUNDS} rounds each (node ${process.version}):`);
console.log('| case | input bytes | wall ms: median / p99 / longest | CPU ms: median / most | longest loop stall ms |');
console.log('|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.label} | ${r.bytes} | ${r.medianMs.toFixed(3)} / ${r.p99Ms.toFixed(3)} / ${r.maxMs.toFixed(3)} | ${r.cpuMedianMs.toFixed(3)} / ${r.cpuMaxMs.toFixed(3)} | ${r.stallMs.toFixed(2)} |`,
  );
