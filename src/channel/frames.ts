// A channel's WebSocket encodings, made once per event for every member:
// pure functions (no sockets, no timers).
//
// Server frames are unmasked (RFC 6455 §5.1), so one frame's bytes are right
// for every socket that negotiated no extension. permessage-deflate without
// server context takeover (RFC 7692 §7.1.1.1) compresses every message on
// its own, so one compressed frame is right for every such socket with the
// same server window (§7.1.2.1: a client may ask for a smaller one). A
// socket with context takeover, or another extension, compresses on its own.
//
// References:
// - RFC 6455 §5.1, §5.2, base framing: https://www.rfc-editor.org/rfc/rfc6455#section-5.2
// - RFC 7692 §7.2.1, compressing (remove the trailing 0x00 0x00 0xff 0xff): https://www.rfc-editor.org/rfc/rfc7692#section-7.2.1

import { constants, deflateRawSync } from 'node:zlib';
import { DEFAULT_THRESHOLD } from '../protocol/extensions.js';
import { encodeMessage, OPCODE_BINARY, OPCODE_TEXT, RSV1 } from '../protocol/frame.js';

/**
 * How a member takes a channel's frames: `'plain'` (no extension: the shared
 * frame), a window size in bits (permessage-deflate without server context
 * takeover: the shared compressed frame for that window), `'takeover'`
 * (permessage-deflate with context takeover: the shared plain frame for a
 * message below the deflate threshold, which it would not compress either,
 * else it compresses the message itself), or `'own'` (another extension: it
 * frames every message itself).
 */
export type FrameRoute = 'plain' | number | 'takeover' | 'own';

/** The route for a socket with these negotiated extensions (its `extensions` attribute). */
export function frameRoute(extensions: string): FrameRoute {
  if (extensions === '') return 'plain';
  const [name, ...params] = extensions.split(';').map((part) => part.trim());
  if (name !== 'permessage-deflate' || extensions.includes(',')) return 'own';
  let noContext = false;
  let bits = 15;
  for (const param of params) {
    const [key, value] = param.split('=').map((part) => part.trim());
    if (key === 'server_no_context_takeover') noContext = true;
    else if (key === 'server_max_window_bits') bits = Number(value);
  }
  if (!Number.isInteger(bits) || bits < 8 || bits > 15) return 'own';
  if (!noContext) return 'takeover';
  // zlib's raw deflate has no 8-bit window: it makes a 9-bit one, which an
  // 8-bit inflater reads as zlib then does too.
  return Math.max(bits, 9);
}

/** Messages below this many bytes go uncompressed (permessage-deflate's threshold, ws's default). */
export const COMPRESS_AT_LEAST = DEFAULT_THRESHOLD;

/** One unmasked frame (FIN set) carrying `message`: text for a string, binary for bytes. */
export function plainFrame(message: string | Buffer): Buffer {
  const frames = encodeMessage(message, false);
  return frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames);
}

/**
 * One unmasked permessage-deflate frame (RSV1 set) carrying `message`
 * compressed on its own with a `bits` window; below the deflate threshold,
 * the plain frame (an uncompressed message is legal on such a connection).
 */
export function deflatedFrame(message: string | Buffer, bits: number, plain: () => Buffer): Buffer {
  const data = typeof message === 'string' ? Buffer.from(message) : message;
  if (data.length < COMPRESS_AT_LEAST) return plain();
  const compressed = deflateRawSync(data, { windowBits: bits, finishFlush: constants.Z_SYNC_FLUSH });
  const payload = compressed.subarray(0, compressed.length - 4);
  const frames = encodeMessage(
    payload,
    false,
    payload.length,
    typeof message === 'string' ? OPCODE_TEXT : OPCODE_BINARY,
    RSV1,
  );
  return frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames);
}
