// Validation of header names and values supplied by the application, so that
// no option can split a header or start a new one. A pure module.
//
// References:
// - RFC 9110 §5.1 (field names are tokens), §5.5 (field values)
// - RFC 9112 §2.2: a bare CR or LF must not appear in a field

import { isToken } from '../protocol/offers.js';

// RFC 9110 §5.5: field-value = *field-content; no CR, LF or NUL.
const FORBIDDEN_VALUE = /[\r\n\0]/;
// What Node's http module lets through in a header value (it throws
// ERR_INVALID_CHAR otherwise): tab, visible ASCII, space and obs-text bytes.
const UNSENDABLE_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
// RFC 6454 §7.1: origin = "null" / scheme "://" host [ ":" port ], ASCII only.
const SERIALIZED_ORIGIN =
  /^(?:null|[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::\d{1,5})?)$/;

// The one tchar table (RFC 9110 §5.6.2) is the header reader's.
export { isToken };

/**
 * Checks a headers option and returns it as a list of name/value pairs.
 * Throws a TypeError naming the option when a name is not a token, a value
 * holds CR, LF or NUL (which would let the value inject another header), or a
 * value holds a character Node's http module would refuse later (another
 * control character, or one above U+00FF): refused here, synchronously, so a
 * reconnection never throws inside a timer.
 */
export function validateHeaders(headers: unknown, option: string): Array<[string, string]> {
  if (headers === undefined) return [];
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new TypeError(`${option} must be an object of header names to values`);
  }
  const pairs: Array<[string, string]> = [];
  for (const [name, raw] of Object.entries(headers)) {
    if (!isToken(name)) {
      throw new TypeError(`${option}: ${JSON.stringify(name)} is not a valid header name`);
    }
    if (raw === undefined) continue;
    const value = String(raw);
    if (FORBIDDEN_VALUE.test(value)) {
      throw new TypeError(`${option}: the value of ${name} contains CR, LF or NUL, which could inject a header`);
    }
    if (UNSENDABLE_VALUE.test(value)) {
      throw new TypeError(
        `${option}: the value of ${name} contains a control character or a character above U+00FF, which HTTP cannot carry (encode it first, e.g. with encodeURIComponent)`,
      );
    }
    pairs.push([name, value]);
  }
  return pairs;
}

/**
 * The `origin` option of the clients (ws's and faye's name), sent as the
 * `Origin` header: a serialized origin (`https://example.com`,
 * `https://example.com:8443`, `chrome-extension://id`) or `'null'`. Anything
 * else, such as a URL with a path, is a TypeError naming the option.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6454#section-7
 */
export function validateOrigin(value: unknown, option: string): string {
  if (typeof value !== 'string' || !SERIALIZED_ORIGIN.test(value)) {
    throw new TypeError(
      `${option} must be a serialized origin such as 'https://example.com' or 'https://example.com:8443' (scheme, host and port, no path), or 'null'; got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * A header value built from a string a peer chose (an event ID), as Node must
 * be given it: the UTF-8 bytes, each as one Latin-1 character (Node writes
 * header strings as Latin-1, so the bytes on the wire are the UTF-8 encoding,
 * as browsers send them). Undefined when the value holds a character no HTTP
 * field may carry (a control character other than tab; RFC 9110 §5.5), which
 * Node would refuse with an exception.
 */
export function utf8HeaderValue(value: string): string | undefined {
  const bytes = Buffer.from(value, 'utf8').toString('latin1');
  return UNSENDABLE_VALUE.test(bytes) ? undefined : bytes;
}
