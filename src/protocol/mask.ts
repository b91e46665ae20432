// WebSocket masking, a pure module: the client masks what it sends with it,
// the server unmasks what it receives. Small payloads take a word-at-a-time
// JavaScript loop (four times a byte loop; websocket-driver's Hybi.mask was
// 57% of a 1 MiB echo's profile); from SIMD_FROM bytes on, WebAssembly SIMD
// (mask-wasm.ts) does 16 bytes a step, where the engine has it. No native
// addon: the same code on Node, Bun and Deno. Measurements and the choice of
// the threshold: docs/decisions/masking.md.
//
// References:
// - RFC 6455 §5.3, client-to-server masking:
//   https://www.rfc-editor.org/rfc/rfc6455#section-5.3
// - faye/websocket-driver-node lib/websocket/driver/hybi.js (Hybi.mask)

import os from 'node:os';
import { simdMasker } from './mask-wasm.js';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * Payloads of at least this many bytes are masked with WebAssembly SIMD where
 * it runs; below, a WebAssembly call and its two copies cost more than the
 * JavaScript loop.
 */
export const SIMD_FROM = 512;

/**
 * XORs `payload` from `offset` on with the 4-byte `key`, in place. Same
 * signature and result as websocket-driver's Hybi.mask.
 */
export function mask(payload: Buffer, key: Buffer | undefined | null, offset = 0): Buffer {
  if (!key || key.length === 0) return payload;
  if (payload.length - offset >= SIMD_FROM) {
    const simd = simdMasker();
    if (simd !== null) {
      // The key as WebAssembly reads memory: little-endian.
      const word =
        (key[0] as number) | ((key[1] as number) << 8) | ((key[2] as number) << 16) | ((key[3] as number) << 24);
      // SIMD steps are 16 bytes, so the tail starts at key byte 0 again.
      const from = simd(payload, offset, word);
      for (let i = from; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (key[(i - from) & 3] as number);
      return payload;
    }
  }
  return maskWords(payload, key, offset);
}

/**
 * The JavaScript loop: four bytes at a time where the memory is aligned
 * (exported for the unit spec, which checks it where SIMD would be used).
 */
export function maskWords(payload: Buffer, key: Buffer, offset = 0): Buffer {
  const length = payload.length - offset;
  let i = 0;
  if (LITTLE_ENDIAN && length >= 32) {
    const start = payload.byteOffset + offset;
    // Head: single bytes until the address is 4-aligned.
    const head = (4 - (start & 3)) & 3;
    for (; i < head; i++) payload[offset + i] = (payload[offset + i] as number) ^ (key[i & 3] as number);
    const words = (length - i) >>> 2;
    // The key, rotated to start at byte i, as one little-endian word.
    const word =
      (key[i & 3] as number) |
      ((key[(i + 1) & 3] as number) << 8) |
      ((key[(i + 2) & 3] as number) << 16) |
      ((key[(i + 3) & 3] as number) << 24);
    const view = new Int32Array(payload.buffer, start + i, words);
    for (let w = 0; w < words; w++) view[w] = (view[w] as number) ^ word;
    i += words * 4;
  }
  for (; i < length; i++) payload[offset + i] = (payload[offset + i] as number) ^ (key[i & 3] as number);
  return payload;
}
