// The one place where isosocket replaces parts of websocket-driver, for
// speed, measured with `npm run bench` and profiled with `node --cpu-prof`:
//
// - `Hybi.mask`, the driver's byte-at-a-time masking loop (about 57% of a
//   1 MiB echo), becomes the word-at-a-time `mask` of mask.ts. The driver
//   calls it as `Hybi.mask(...)`, so replacing that static function is the
//   only way in.
// - `Message.prototype.read` copied every message with Buffer.concat even
//   when it had a single frame; it now returns that frame's payload as it is.
//
// - `StreamReader.prototype.read` sliced its first chunk twice for every
//   read, one or two bytes at a time for frame headers (about 14% of a 1 KiB
//   echo in slices); it now keeps an offset into that chunk instead.
// - After the opening handshake, the server driver still holds the request
//   (`_request`, with its headers and stream state, about 1.5 KiB); the
//   driver reads it only to answer the handshake, so we let it go.
//
// All happen only for a driver version we have read and checked;
// spec/unit/driver-patches.test.ts proves that ours are the ones running and
// that they produce the same bytes as the originals.
//
// References:
// - faye/websocket-driver-node 0.8.0 lib/websocket/driver/hybi.js and
//   lib/websocket/driver/hybi/message.js

import { mask } from './mask.js';
import requireFromPackage from './require.cjs';

/** The driver versions whose internals we read and replace. */
export const PATCHED_DRIVER_VERSIONS = /^0\.8\.\d+$/;

type MaskFunction = (payload: Buffer, key: Buffer | undefined | null, offset?: number) => Buffer;

interface MessagePrototype {
  read(this: { data?: Buffer; _chunks: Buffer[]; length: number }): Buffer;
}

/** A single-frame message's payload as it is; several frames joined once. */
function readMessage(this: { data?: Buffer; _chunks: Buffer[]; length: number }): Buffer {
  if (this.data === undefined) {
    const chunks = this._chunks;
    this.data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.length);
  }
  return this.data;
}

/**
 * Lets a started server driver drop the handshake request it no longer
 * reads (websocket-driver 0.8 uses `_request` only in start()).
 */
export function releaseHandshakeRequest(driver: object): void {
  if (!installed) return;
  const fields = driver as { _request?: unknown };
  if ('_request' in fields) fields._request = null;
}

let installed = false;

interface Reader {
  _queue: Buffer[];
  _queueSize: number;
  _start?: number;
}

/**
 * StreamReader#read with an offset into the first queued chunk: a read
 * inside one chunk is one subarray; a read across chunks, one copy. Same
 * results as 0.8.0's (spec/unit/driver-patches.test.ts compares them).
 */
function readStream(this: Reader, length: number): Buffer | null {
  if (length > this._queueSize) return null;
  if (length === 0) return Buffer.alloc(0);
  this._queueSize -= length;
  const queue = this._queue;
  let start = this._start ?? 0;
  const first = queue[0] as Buffer;
  if (first.length - start >= length) {
    const out = first.subarray(start, start + length);
    start += length;
    if (start === first.length) {
      queue.shift();
      start = 0;
    }
    this._start = start;
    return out;
  }
  const out = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const chunk = queue[0] as Buffer;
    const take = Math.min(chunk.length - start, length - filled);
    chunk.copy(out, filled, start, start + take);
    filled += take;
    start += take;
    if (start === chunk.length) {
      queue.shift();
      start = 0;
    }
  }
  this._start = start;
  return out;
}

/** Whether the patches are in place (false when the driver is not a version we checked). */
export function installDriverPatches(): boolean {
  let version: string;
  let hybi: { mask?: MaskFunction };
  let message: { prototype: MessagePrototype };
  let reader: { prototype: { read: unknown } };
  try {
    version = (requireFromPackage('websocket-driver/package.json') as { version: string }).version;
    hybi = requireFromPackage('websocket-driver/lib/websocket/driver/hybi') as { mask?: MaskFunction };
    message = requireFromPackage('websocket-driver/lib/websocket/driver/hybi/message') as {
      prototype: MessagePrototype;
    };
    reader = requireFromPackage('websocket-driver/lib/websocket/driver/stream_reader') as {
      prototype: { read: unknown };
    };
  } catch {
    return false;
  }
  if (hybi.mask === mask) {
    installed = true;
    return true;
  }
  if (
    !PATCHED_DRIVER_VERSIONS.test(version) ||
    typeof hybi.mask !== 'function' ||
    hybi.mask.length !== 3 ||
    typeof message.prototype.read !== 'function' ||
    typeof reader.prototype.read !== 'function'
  ) {
    return false;
  }
  hybi.mask = mask;
  message.prototype.read = readMessage;
  reader.prototype.read = readStream;
  installed = true;
  return true;
}
