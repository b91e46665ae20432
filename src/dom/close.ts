// Validation of the arguments to WebSocket#close(), a pure module.
//
// References:
// - WHATWG WebSockets, close(code, reason): https://websockets.spec.whatwg.org/#dom-websocket-close
// - RFC 6455 §7.4: status codes

/** The close code reported when no close frame was received (RFC 6455 §7.1.5). */
export const ABNORMAL_CLOSURE = 1006;

/** RFC 6455 §7.4.1: 1000 indicates a normal closure. */
export const NORMAL_CLOSURE = 1000;

/** RFC 6455 §7.4.1: 1001, an endpoint is going away. */
export const GOING_AWAY = 1001;

/** RFC 6455 §7.4.1: 1002, a protocol error. */
export const PROTOCOL_ERROR = 1002;

/** RFC 6455 §5.5: control frame payloads are at most 125 bytes, 2 of them the code. */
export const MAX_REASON_BYTES = 123;

/**
 * Runs steps 1 and 2 of the close() method steps: throws the DOMException the
 * standard names for a bad code or an over-long reason.
 *
 * @returns the code to send (undefined when none was given) and the reason.
 */
export function validateCloseArguments(code: unknown, reason: unknown): { code: number | undefined; reason: string } {
  let closeCode: number | undefined;
  // 1. If code is present, but is neither an integer equal to 1000 nor an
  //    integer in the range 3000 to 4999, inclusive, throw an
  //    "InvalidAccessError" DOMException.
  if (code !== undefined) {
    // WebIDL [Clamp] unsigned short conversion.
    const number = Number(code);
    closeCode = Number.isFinite(number) ? Math.min(Math.max(Math.round(number), 0), 0xffff) : 0;
    if (closeCode !== NORMAL_CLOSURE && (closeCode < 3000 || closeCode > 4999)) {
      throw new DOMException(
        `The close code must be either 1000, or between 3000 and 4999. ${closeCode} is neither.`,
        'InvalidAccessError',
      );
    }
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
