// The frame codec of the specs, and bytes-in/bytes-out helpers for the
// protocol specs: frame() builds one frame, decodeFrames() reads them back,
// framesOf/closeCodeOf/closeCodeIn read a raw client's answer; wire() is a
// Connection with a recording handler.

import { randomBytes } from 'node:crypto';
import { Connection, type ConnectionHandler, type ConnectionOptions } from '../../src/protocol/connection.js';

export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Decodes every whole frame in `bytes` (unmasking as it goes). */
export function decodeFrames(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const first = bytes[at] as number;
    const second = bytes[at + 1] as number;
    let length = second & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(offset));
      offset += 8;
    }
    const masked = (second & 0x80) !== 0;
    const key = masked ? bytes.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (offset + length > bytes.length) break;
    const payload = Buffer.from(bytes.subarray(offset, offset + length));
    if (key) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (key[i % 4] as number);
    frames.push({ fin: (first & 0x80) !== 0, rsv: first & 0x70, opcode: first & 0x0f, masked, payload });
    at = offset + length;
  }
  return frames;
}

/** Builds one frame: masked when a client sends it. */
export function frame(
  opcode: number,
  payload: Buffer | string = Buffer.alloc(0),
  { fin = true, masked = true, rsv = 0 }: { fin?: boolean; masked?: boolean; rsv?: number } = {},
): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const length = data.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  head[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!masked) return Buffer.concat([head, data]);
  const mask = randomBytes(4);
  mask.copy(head, 2 + lengthBytes);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([head, body]);
}

/** The bytes after the handshake response. */
export function framesOf(received: Buffer): Buffer {
  const end = received.indexOf('\r\n\r\n');
  return end < 0 ? Buffer.alloc(0) : received.subarray(end + 4);
}

/** The status code of the first close frame the server sent, if any. */
export function closeCodeOf(received: Buffer): number | undefined {
  return closeCodeIn(framesOf(received));
}

/** The status code of the first close frame in unmasked frames (an HTTP/2 stream has no head before them). */
export function closeCodeIn(frames: Buffer): number | undefined {
  const close = decodeFrames(frames).find((frame) => frame.opcode === 8);
  if (!close) return undefined;
  return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
}

export type Event =
  | ['message', string | Buffer]
  | ['ping', Buffer]
  | ['pong', Buffer]
  | ['closing', number, string]
  | ['failed', number, string];

export interface Wire {
  connection: Connection<object>;
  /** What the handler received, in order. */
  events: Event[];
  /** Every write, in order, with the `completes` each carried. */
  writes: Array<{ data: Buffer; completes: number }>;
  /** The frames written so far. */
  frames(): Frame[];
  /** The close code of the first close frame written, or undefined (null for an empty one). */
  closeCode(): number | null | undefined;
}

/** A Connection whose handler records everything. */
export function wire(options: ConnectionOptions): Wire {
  const events: Event[] = [];
  const writes: Array<{ data: Buffer; completes: number }> = [];
  const handler: ConnectionHandler<object> = {
    write: (_owner, data, completes) => writes.push({ data: Buffer.from(data), completes }),
    message: (_owner, data) => events.push(['message', data]),
    ping: (_owner, payload) => events.push(['ping', Buffer.from(payload)]),
    pong: (_owner, payload) => events.push(['pong', Buffer.from(payload)]),
    closing: (_owner, code, reason) => events.push(['closing', code, reason]),
    failed: (_owner, code, reason) => events.push(['failed', code, reason]),
  };
  const connection = new Connection<object>({}, handler, options);
  const frames = (): Frame[] => decodeFrames(Buffer.concat(writes.map((w) => w.data)));
  return {
    connection,
    events,
    writes,
    frames,
    closeCode: () => {
      const close = frames().find((f) => f.opcode === 8);
      if (!close) return undefined;
      return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : null;
    },
  };
}

/**
 * Feeds a copy of `bytes` to the connection in pieces of `step` bytes (a
 * connection owns what it receives: it unmasks in place).
 */
export function feed(connection: Connection<object>, bytes: Buffer, step = bytes.length): void {
  const copy = Buffer.from(bytes);
  for (let i = 0; i < copy.length; i += step) connection.receive(copy.subarray(i, i + step));
}

/**
 * What a fuzzer feeds a peer: `stream` with bytes flipped (`xor` at `at`,
 * modulo the length) and cut at `splits` (modulo the length) into the pieces
 * that arrive one by one; empty pieces are dropped. Changes `stream`.
 */
export function flipAndCut(
  stream: Buffer,
  mutations: ReadonlyArray<{ at: number; xor: number }>,
  splits: readonly number[],
): Buffer[] {
  for (const { at, xor } of mutations) {
    const i = at % stream.length;
    stream[i] = (stream[i] as number) ^ xor;
  }
  const cuts = [...new Set(splits.map((n) => n % stream.length))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    pieces.push(stream.subarray(start, cut));
    start = cut;
  }
  pieces.push(stream.subarray(start));
  return pieces.filter((p) => p.length > 0);
}
