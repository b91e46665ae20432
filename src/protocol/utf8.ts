// Checking UTF-8 as it arrives, a pure module: a text message's bytes are
// checked chunk by chunk, so invalid UTF-8 fails the connection as soon as
// the bytes that make it invalid are in, not when the message (or the
// frame) is complete.
//
// References:
// - RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8
//   but finds that the byte stream is not, in fact, a valid UTF-8 stream,
//   that endpoint MUST _Fail the WebSocket Connection_"
// - RFC 3629 §4 (the byte ranges of well-formed UTF-8)
// - WHATWG Encoding, UTF-8 decoder (the lower and upper boundaries of the
//   second byte): https://encoding.spec.whatwg.org/#utf-8-decoder
// - Autobahn TestSuite 6.4.1-6.4.4 (fail fast on invalid UTF-8)

import { isUtf8 } from 'node:buffer';

/**
 * Checks `bytes[from, to)`, which start at a character boundary and may end
 * inside a character. Returns where the checked characters end (`to`, or the
 * start of an unfinished character at the end, which may still complete), or
 * -1 when the bytes cannot be UTF-8 whatever follows. An unfinished character
 * is checked as far as it goes: `F4 90` is -1 at once (nothing after it can
 * make a code point of at most U+10FFFF).
 */
export function checkUtf8(bytes: Buffer, from: number, to: number): number {
  let end = to;
  // The last character's lead byte: at most 3 continuation bytes (10xxxxxx) back.
  for (let i = to - 1; i >= from && i >= to - 4; i--) {
    const lead = bytes[i] as number;
    if ((lead & 0xc0) === 0x80) continue;
    const need = lead >= 0xf0 ? (lead <= 0xf4 ? 4 : 1) : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 1;
    if (to - i < need) {
      if (to - i >= 2 && !secondByteFits(lead, bytes[i + 1] as number)) return -1;
      end = i;
    }
    break;
  }
  return isUtf8(bytes.subarray(from, end)) ? end : -1;
}

/** The second byte's range after `lead` (the Encoding standard's boundaries); the others are 80-BF. */
function secondByteFits(lead: number, second: number): boolean {
  if (lead === 0xe0) return second >= 0xa0;
  if (lead === 0xed) return second <= 0x9f;
  if (lead === 0xf0) return second >= 0x90;
  if (lead === 0xf4) return second <= 0x8f;
  return true;
}
