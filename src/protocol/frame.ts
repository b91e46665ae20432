// Encoding outgoing frames, a pure module: data frames (text, binary, and
// compressed ones with RSV1), control frames (ping, pong, close). The
// connection writes every frame it sends with these.
//
// References:
// - RFC 6455 §5.2, base framing protocol: https://www.rfc-editor.org/rfc/rfc6455#section-5.2
// - RFC 6455 §5.3, client-to-server masking
// - RFC 6455 §5.5.1, the close frame's body (a 2-byte code, then a UTF-8 reason)
// - RFC 7692 §6, permessage-deflate sets RSV1 on the first frame of a compressed message

import { randomFillSync } from 'node:crypto';
import { mask } from './mask.js';

/** Payloads below this size are copied next to their header: one write instead of two. */
export const MERGE_BELOW = 16 * 1024;

export const OPCODE_CONTINUATION = 0x0;
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

/** RSV1, the bit permessage-deflate marks a compressed message with. */
export const RSV1 = 0x40;

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

/** Writes a final frame's header into `target`; returns its length. */
function writeHeader(target: Buffer, first: number, length: number, key: Buffer | undefined): number {
  target[0] = first;
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
 * Encodes one message as a single final frame. Returns the buffers to write
 * in order: one (header and payload together) for small or masked payloads,
 * or the header and the caller's payload, uncopied. `length` is the payload's
 * size in bytes, when the caller already has it; `rsv` the reserved bits an
 * extension set (RSV1 for a compressed message).
 */
export function encodeMessage(
  data: string | Buffer,
  masked: boolean,
  length: number = typeof data === 'string' ? Buffer.byteLength(data) : data.length,
  opcode: number = typeof data === 'string' ? OPCODE_TEXT : OPCODE_BINARY,
  rsv = 0,
): Buffer[] {
  const text = typeof data === 'string';
  const key = masked ? maskingKey() : undefined;
  const head = headerLength(length, masked);
  const first = 0x80 | rsv | opcode;
  if (!masked && !text && length >= MERGE_BELOW) {
    const header = Buffer.allocUnsafe(head);
    writeHeader(header, first, length, undefined);
    return [header, data];
  }
  const frame = Buffer.allocUnsafe(head + length);
  const offset = writeHeader(frame, first, length, key);
  if (text) frame.write(data, offset, 'utf8');
  else data.copy(frame, offset);
  if (key) mask(frame, key, offset);
  return [frame];
}

/** Encodes a ping or pong frame (payload at most 125 bytes: the caller checks). */
export function encodeControl(opcode: number, payload: Buffer, masked: boolean): Buffer {
  return encodeMessage(payload, masked, payload.length, opcode)[0] as Buffer;
}

/**
 * Encodes a close frame: no body when `code` is undefined (the peer then
 * reports 1005), else the code and the UTF-8 reason (at most 123 bytes: the
 * caller checks).
 */
export function encodeClose(code: number | undefined, reason: string, masked: boolean): Buffer {
  if (code === undefined) return encodeControl(OPCODE_CLOSE, Buffer.alloc(0), masked);
  const body = Buffer.allocUnsafe(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code, 0);
  body.write(reason, 2, 'utf8');
  return encodeControl(OPCODE_CLOSE, body, masked);
}
