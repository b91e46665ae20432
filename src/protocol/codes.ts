// Close status codes, a pure module: the ones isosocket sends, and which
// codes a close frame may carry.
//
// References:
// - RFC 6455 §7.4.1 (defined status codes) and §7.4.2 (reserved ranges)
// - IANA WebSocket Close Code Number Registry (1012-1014 registered later):
//   https://www.iana.org/assignments/websocket/websocket.xhtml#close-code-number

/** §7.4.1: a normal closure. */
export const NORMAL_CLOSURE = 1000;
/** §7.4.1: an endpoint is going away (a server shutting down, a missing pong). */
export const GOING_AWAY = 1001;
/** §7.4.1: a protocol error. */
export const PROTOCOL_ERROR = 1002;
/** §7.4.1: reserved; reported when a close frame had no status code. MUST NOT be sent. */
export const NO_STATUS_RECEIVED = 1005;
/** §7.4.1: reserved; reported when the connection closed without a close frame. MUST NOT be sent. */
export const ABNORMAL_CLOSURE = 1006;
/** §7.4.1: data inconsistent with the message type (invalid UTF-8, corrupt compressed data). */
export const INVALID_PAYLOAD = 1007;
/** §7.4.1: a message too big to process (over maxLength). */
export const MESSAGE_TOO_BIG = 1009;
/** §7.4.1: an unexpected condition (e.g. a Blob that could not be read). */
export const INTERNAL_ERROR = 1011;

/** §5.5: control frame payloads are at most 125 bytes, 2 of them the code. */
export const MAX_REASON_BYTES = 123;

/**
 * Whether an endpoint may send this code in a close frame, and so whether a
 * received one is valid: 1000-1003, 1007-1014, 3000-4999. 1004 is reserved,
 * 1005, 1006 and 1015 MUST NOT be sent, 1016-2999 are unassigned, 5000+ are
 * not close codes (§7.4.2).
 */
export function isSendableCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  );
}

/**
 * A reason cut to at most `MAX_REASON_BYTES` UTF-8 bytes without splitting a
 * character, for close frames isosocket sends on its own.
 */
export function fitReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let fitted = '';
  for (const character of reason) {
    if (Buffer.byteLength(fitted + character) > MAX_REASON_BYTES) break;
    fitted += character;
  }
  return fitted;
}
