// A word-at-a-time WebSocket masking function, and the one place where it
// replaces websocket-driver's byte-at-a-time `Hybi.mask`.
//
// Profiling a 1 MiB echo showed about 57% of the time in the driver's mask
// loop. The driver calls its mask through the `Hybi` constructor
// (`Hybi.mask(...)` in `_emitFrame` and `_sendFrame`), so the only way in is
// to replace that static function. We do it once, only for a driver whose
// version we have checked, and spec/unit/mask.test.ts proves that ours is the
// one running and that it produces the same bytes.
//
// References:
// - RFC 6455 §5.3, client-to-server masking:
//   https://www.rfc-editor.org/rfc/rfc6455#section-5.3
// - faye/websocket-driver-node lib/websocket/driver/hybi.js (Hybi.mask)

import os from 'node:os';
import requireFromPackage from './require.cjs';

/** The driver versions whose Hybi.mask we know and replace. */
export const PATCHED_DRIVER_VERSIONS = /^0\.8\.\d+$/;

const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * XORs `payload` from `offset` on with the 4-byte `key`, in place, four bytes
 * at a time where the memory is aligned. Same signature and result as
 * websocket-driver's Hybi.mask.
 */
export function mask(payload: Buffer, key: Buffer | undefined | null, offset = 0): Buffer {
  if (!key || key.length === 0) return payload;
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

type MaskFunction = (payload: Buffer, key: Buffer | undefined | null, offset?: number) => Buffer;

/**
 * Replaces websocket-driver's Hybi.mask with {@link mask}, once, when the
 * installed driver is a version we checked. Returns whether ours is in place.
 */
export function installMask(): boolean {
  const require = requireFromPackage;
  let hybi: { mask?: MaskFunction };
  let version: string;
  try {
    version = (require('websocket-driver/package.json') as { version: string }).version;
    hybi = require('websocket-driver/lib/websocket/driver/hybi') as { mask?: MaskFunction };
  } catch {
    return false;
  }
  if (hybi.mask === mask) return true;
  if (!PATCHED_DRIVER_VERSIONS.test(version) || typeof hybi.mask !== 'function' || hybi.mask.length !== 3) {
    return false;
  }
  hybi.mask = mask;
  return true;
}
