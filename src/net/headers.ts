// Validation of header names and values supplied by the application, so that
// no option can split a header or start a new one. A pure module.
//
// References:
// - RFC 9110 §5.1 (field names are tokens), §5.5 (field values)
// - RFC 9112 §2.2: a bare CR or LF must not appear in a field

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 §5.5: field-value = *field-content; no CR, LF or NUL.
const FORBIDDEN_VALUE = /[\r\n\0]/;

/** Whether the string is an RFC 9110 token (a header name, a subprotocol). */
export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/**
 * Checks a headers option and returns it as a list of name/value pairs.
 * Throws a TypeError naming the option when a name is not a token or a value
 * holds CR, LF or NUL (which would let the value inject another header).
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
    pairs.push([name, value]);
  }
  return pairs;
}
