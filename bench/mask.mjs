// Masking alone, in one process: the JavaScript word loop, the WebAssembly
// SIMD path (src/protocol/mask-wasm.ts) and ws's native bufferutil, per
// payload size and per payload position modulo 4 KiB (the copy through the
// SIMD block is sensitive to it on AMD Zen). The best of 25 alternating
// trials, in ns per call and GB/s. Not part of `npm run bench`:
//
//   npm run build && node bench/mask.mjs
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { maskWords, mask } = require('../dist/cjs/protocol/mask.js');
const { simdMasker } = require('../dist/cjs/protocol/mask-wasm.js');
const bufferutil = require('bufferutil');

const simd = simdMasker();
if (simd === null) throw new Error('no WebAssembly SIMD here');
const key = Buffer.from([1, 2, 3, 0xf4]);
const word = key.readInt32LE(0);
const viaSimd = (payload) => {
  const from = simd(payload, 0, word);
  for (let i = from; i < payload.length; i++) payload[i] ^= key[(i - from) & 3];
};
const ways = {
  'JavaScript words': (payload) => maskWords(payload, key),
  'WebAssembly SIMD': viaSimd,
  bufferutil: (payload) => bufferutil.unmask(payload, key),
};

function best(fn, payload, trials = 25) {
  const iterations = Math.max(5, Math.floor(2e6 / (payload.length + 100)));
  let least = Number.POSITIVE_INFINITY;
  for (let trial = 0; trial < trials; trial++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(payload);
    least = Math.min(least, Number(process.hrtime.bigint() - started) / iterations);
  }
  return least;
}

console.log('| bytes | JavaScript words | WebAssembly SIMD | bufferutil |\n|---|---|---|---|');
for (const size of [16, 64, 128, 256, 384, 512, 1024, 4096, 65536, 1 << 20]) {
  const payload = Buffer.from(Buffer.alloc(size, 7)); // 1 MiB: mmap'd, data 16 bytes past a page
  const cells = Object.values(ways).map((fn) => {
    const ns = best(fn, payload);
    return `${ns.toFixed(0)} ns (${(size / ns).toFixed(1)} GB/s)`;
  });
  console.log(`| ${size} | ${cells.join(' | ')} |`);
}

console.log('\n| 1 MiB at byteOffset | mask() µs |\n|---|---|');
const big = Buffer.from(Buffer.alloc((1 << 20) + 8192, 7));
for (const offset of [0, 1, 16, 1000, 2032, 2048, 4080]) {
  const payload = big.subarray(offset, offset + (1 << 20));
  console.log(`| ${offset} | ${(best((p) => mask(p, key), payload, 15) / 1000).toFixed(0)} |`);
}
