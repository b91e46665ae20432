// Encoding outgoing data frames, a pure module. The core writes text and
// binary messages with it when no extension is negotiated, instead of going
// through websocket-driver's frame() (which copies every payload into a new
// buffer and runs an empty extension pipeline). Control frames, extensions
// and everything incoming stay with the driver.
//
// References:
// - RFC 6455 §5.2, base framing protocol: https://www.rfc-editor.org/rfc/rfc6455#section-5.2
// - RFC 6455 §5.3, client-to-server masking

import { randomFillSync } from 'node:crypto';
import { mask } from './mask.js';

/** Payloads below this size are copied next to their header: one write instead of two. */
export const MERGE_BELOW = 16 * 1024;

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;

// Masking keys come from a pool of random bytes, refilled from the CSPRNG
// (RFC 6455 §5.3: keys must be unpredictable), not one syscall per frame.
const pool = Buffer.alloc(8192);
let poolOffset = pool.length;

function maskingKey(): Buffer {
  if (poolOffset + 4 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const key = pool.subarray(poolOffset, poolOffset + 4);
  poolOffset += 4;
  return key;
}

/** Writes a final frame's header (FIN set, no RSV bits) into `target`; returns its length. */
function writeHeader(target: Buffer, opcode: number, length: number, key: Buffer | undefined): number {
  target[0] = 0x80 | opcode;
  const maskBit = key ? 0x80 : 0;
  let offset: number;
  if (length < 126) {
    target[1] = maskBit | length;
    offset = 2;
  } else if (length < 65536) {
    target[1] = maskBit | 126;
    target.writeUInt16BE(length, 2);
    offset = 4;
  } else {
    target[1] = maskBit | 127;
    target.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    target.writeUInt32BE(length >>> 0, 6);
    offset = 10;
  }
  if (key) {
    key.copy(target, offset);
    offset += 4;
  }
  return offset;
}

function headerLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Encodes one text or binary message as a single final frame. Returns the
 * buffers to write in order: one (header and payload together) for small or
 * masked payloads, or the header and the caller's payload, uncopied.
 * `length` is the payload's size in bytes, when the caller already has it.
 */
export function encodeMessage(
  data: string | Buffer,
  masked: boolean,
  length: number = typeof data === 'string' ? Buffer.byteLength(data) : data.length,
): Buffer[] {
  const text = typeof data === 'string';
  const opcode = text ? OPCODE_TEXT : OPCODE_BINARY;
  const key = masked ? maskingKey() : undefined;
  const head = headerLength(length, masked);
  if (!masked && !text && length >= MERGE_BELOW) {
    const header = Buffer.allocUnsafe(head);
    writeHeader(header, opcode, length, undefined);
    return [header, data];
  }
  const frame = Buffer.allocUnsafe(head + length);
  const offset = writeHeader(frame, opcode, length, key);
  if (text) frame.write(data, offset, 'utf8');
  else data.copy(frame, offset);
  if (key) mask(frame, key, offset);
  return [frame];
}

/**
 * Follows frame boundaries in a server-to-client byte stream and tells
 * whether a frame arrived masked. RFC 6455 §5.1: "A client MUST close a
 * connection if it detects a masked frame." websocket-driver does not check,
 * so the client runs every chunk past this first. It keeps only header state.
 */
export class MaskedFrameDetector {
  #need = 0;
  #have = 0;
  readonly #header = Buffer.alloc(14);

  /** Scans the chunk; true as soon as a frame header has its MASK bit set. */
  scan(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.#need > 0) {
        const take = Math.min(this.#need, chunk.length - i);
        this.#need -= take;
        i += take;
        continue;
      }
      this.#header[this.#have++] = chunk[i++] as number;
      if (this.#have < 2) continue;
      const second = this.#header[1] as number;
      if (second & 0x80) return true;
      const length7 = second & 0x7f;
      const headerLength = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0);
      if (this.#have < headerLength) continue;
      this.#need =
        length7 === 126
          ? this.#header.readUInt16BE(2)
          : length7 === 127
            ? Number(this.#header.readBigUInt64BE(2))
            : length7;
      this.#have = 0;
    }
    return false;
  }
}
