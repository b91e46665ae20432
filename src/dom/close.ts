// Validation of the arguments to close(), a pure module: the WHATWG rules
// for the client (what a browser's script may send), and RFC 6455's for the
// server socket (what any endpoint may send).
//
// References:
// - WHATWG WebSockets, close(code, reason): https://websockets.spec.whatwg.org/#dom-websocket-close
// - WebIDL, [Clamp] unsigned short: https://webidl.spec.whatwg.org/#abstract-opdef-converttoint
// - RFC 6455 §7.4: status codes

import { isSendableCode, MAX_REASON_BYTES, NORMAL_CLOSURE } from '../protocol/codes.js';

/** The checked arguments: the code to send (undefined when none was given) and the reason. */
export interface CloseArguments {
  code: number | undefined;
  reason: string;
}

/**
 * Runs steps 1 and 2 of the close() method steps: throws the DOMException the
 * standard names for a bad code or an over-long reason.
 */
export function validateCloseArguments(code: unknown, reason: unknown): CloseArguments {
  return check(code, reason, isClientCloseCode, CLIENT_CODES);
}

const CLIENT_CODES = 'either 1000, or between 3000 and 4999';

/** Whether a script may send `code` (close() step 1): 1000, or 3000-4999. */
export function isClientCloseCode(code: number): boolean {
  return code === NORMAL_CLOSURE || (code >= 3000 && code <= 4999);
}

/**
 * close() step 1 for a code already converted (WebSocketStream's
 * `[EnforceRange]` one): throws the "InvalidAccessError" DOMException for a
 * code a script may not send.
 */
export function checkClientCloseCode(code: number): void {
  checkCode(code, isClientCloseCode, CLIENT_CODES);
}

function checkCode(code: number, allowed: (code: number) => boolean, rule: string): void {
  if (!allowed(code)) {
    throw new DOMException(`The close code must be ${rule}. ${code} is not.`, 'InvalidAccessError');
  }
}

/**
 * The server socket's close(): every code an endpoint may send (RFC 6455
 * §7.4 and the IANA registry: 1000-1003, 1007-1014, 3000-4999), with the
 * same conversion and reason check as the client's.
 */
export function validateServerCloseArguments(code: unknown, reason: unknown): CloseArguments {
  return check(code, reason, isSendableCode, 'one an endpoint may send: 1000-1003, 1007-1014 or 3000-4999');
}

function check(code: unknown, reason: unknown, allowed: (code: number) => boolean, rule: string): CloseArguments {
  let closeCode: number | undefined;
  // 1. If code is present, but is neither an integer equal to 1000 nor an
  //    integer in the range 3000 to 4999, inclusive, throw an
  //    "InvalidAccessError" DOMException.
  if (code !== undefined) {
    // WebIDL [Clamp] unsigned short: NaN is 0, then round to nearest (ties to even), then clamp.
    const number = Number(code);
    closeCode = Number.isNaN(number) ? 0 : Math.min(Math.max(roundHalfEven(number), 0), 0xffff);
    checkCode(closeCode, allowed, rule);
  }
  // 2. If reason is present, then run these substeps:
  //    1. Let reasonBytes be the result of encoding reason.
  //    2. If reasonBytes is longer than 123 bytes, then throw a "SyntaxError" DOMException.
  const text = reason === undefined ? '' : String(reason);
  if (Buffer.byteLength(text, 'utf8') > MAX_REASON_BYTES) {
    throw new DOMException(`The close reason must not be longer than ${MAX_REASON_BYTES} UTF-8 bytes.`, 'SyntaxError');
  }
  return { code: closeCode, reason: text };
}

function roundHalfEven(value: number): number {
  if (!Number.isFinite(value)) return value;
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
