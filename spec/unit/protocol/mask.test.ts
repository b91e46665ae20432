// Masking against a byte-at-a-time reference (RFC 6455 §5.3): the JavaScript
// word loop, the WebAssembly SIMD path from SIMD_FROM bytes on, and the
// fallback where WebAssembly is missing (`node --jitless`).

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { mask, maskWords, SIMD_FROM } from '../../../src/protocol/mask.js';
import { BLOCK, moduleBytes, simdMasker } from '../../../src/protocol/mask-wasm.js';

/** A byte at a time, as RFC 6455 §5.3 writes it: the reference. */
function reference(payload: Buffer, key: Buffer, offset = 0): Buffer {
  for (let i = 0, n = payload.length - offset; i < n; i++) {
    payload[offset + i] = (payload[offset + i] as number) ^ (key[i % 4] as number);
  }
  return payload;
}

/** `length` random bytes at `start` bytes into a buffer of their own (an unaligned view when start % 4 != 0). */
function at(start: number, bytes: Buffer): Buffer {
  const view = Buffer.alloc(start + bytes.length).subarray(start);
  bytes.copy(view);
  return view;
}

t.test('mask gives the byte-at-a-time result for every length 0-300, alignment and offset', async (t) => {
  const pool = randomBytes(300);
  let checked = 0;
  let wrong = 0;
  for (let length = 0; length <= 300; length++) {
    for (const start of [0, 1, 2, 3]) {
      for (const offset of [0, 1, 2, 3, 5]) {
        if (offset > length) continue;
        const key = randomBytes(4);
        const bytes = pool.subarray(0, length);
        const expected = reference(Buffer.from(bytes), key, offset);
        if (!mask(at(start, bytes), key, offset).equals(expected)) wrong++;
        if (!maskWords(at(start, bytes), key, offset).equals(expected)) wrong++;
        checked++;
      }
    }
  }
  t.equal(wrong, 0, 'no length, alignment or offset differs from the reference');
  t.equal(checked, 301 * 4 * 5 - 4 * (4 + 3 + 2 + 1 + 1), 'every combination ran (an offset past the end is skipped)');
});

t.test('the WebAssembly SIMD path compiles on Node', async (t) => {
  const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  t.ok(wasm.validate(moduleBytes()), 'the hand-written module is valid WebAssembly');
  t.type(simdMasker(), 'function', 'mask() uses it from SIMD_FROM bytes on');
});

t.test('large payloads: the SIMD path and the word loop match the reference', async (t) => {
  const lengths = [
    SIMD_FROM - 1,
    SIMD_FROM,
    SIMD_FROM + 1,
    SIMD_FROM + 15,
    4093,
    BLOCK - 1,
    BLOCK,
    BLOCK + 1,
    BLOCK + 17,
    2 * BLOCK + 63,
    1024 * 1024 + 3,
  ];
  // Starts that put the payload on either side of the 2 KiB block shift.
  const starts = [0, 1, 3, 16, 1000, 2032, 2049, 4095];
  for (const length of lengths) {
    const bytes = randomBytes(length);
    for (const start of starts) {
      for (const offset of [0, 1, 6, 14]) {
        const key = randomBytes(4);
        const expected = reference(Buffer.from(bytes), key, offset);
        const label = `length ${length}, start ${start}, offset ${offset}`;
        if (!mask(at(start, bytes), key, offset).equals(expected)) t.fail(`mask: ${label}`);
        if (start === 0 && !maskWords(at(start, bytes), key, offset).equals(expected)) t.fail(`maskWords: ${label}`);
      }
    }
    t.pass(`length ${length}: every start and offset`);
  }
});

t.test('the SIMD masker leaves bytes before offset and after its last 16-byte step alone', async (t) => {
  const simd = simdMasker();
  if (simd === null) return t.fail('no SIMD masker');
  const payload = Buffer.alloc(BLOCK + 40, 0xaa);
  const from = simd(payload, 5, 0x01020304);
  t.equal(from, 5 + Math.floor((BLOCK + 35) / 16) * 16, 'it stops at the last whole 16-byte step');
  t.equal(payload[4], 0xaa, 'the byte before offset is untouched');
  t.equal(payload[from], 0xaa, 'the tail is for the caller');
  t.equal(payload[5], 0xaa ^ 0x04, 'the key is read little-endian: byte 0 first');
  t.equal(payload[8], 0xaa ^ 0x01);
});

t.test('masking twice restores the payload; no key changes nothing', async (t) => {
  for (const length of [1000, BLOCK * 3 + 5]) {
    const data = randomBytes(length);
    const copy = Buffer.from(data);
    const key = randomBytes(4);
    t.ok(mask(mask(copy, key), key).equals(data), `${length} bytes`);
  }
  t.ok(mask(Buffer.from('abc'), undefined).equals(Buffer.from('abc')));
  t.ok(mask(Buffer.from('abc'), Buffer.alloc(0)).equals(Buffer.from('abc')));
});

t.test('without WebAssembly (node --jitless) mask falls back to the word loop', async (t) => {
  const dist = fileURLToPath(new URL('../../../dist/cjs/protocol/mask.js', import.meta.url));
  const script = `
    const { mask } = require(${JSON.stringify(dist)});
    const { simdMasker } = require(${JSON.stringify(dist.replace(/mask\.js$/, 'mask-wasm.js'))});
    const key = Buffer.from([1, 2, 3, 4]);
    const data = Buffer.alloc(70000, 0x55);
    mask(data, key, 3);
    let ok = data[0] === 0x55 && data[2] === 0x55;
    for (let i = 3; i < data.length; i++) ok = ok && data[i] === (0x55 ^ key[(i - 3) % 4]);
    console.log(JSON.stringify({ wasm: typeof WebAssembly, simd: simdMasker() === null ? null : 'function', ok }));
  `;
  const out = JSON.parse(
    execFileSync(process.execPath, ['--jitless', '-e', script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  t.same(out, { wasm: 'undefined', simd: null, ok: true });
});
