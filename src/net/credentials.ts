// URL credentials for the opening handshake: `wss://user:pass@host/` answers
// a 401 Basic challenge once, as fetch does for a WebSocket request (its
// use-URL-credentials flag is set), and is never sent unasked. Pure functions;
// the client (src/websocket/client.ts) decides when to retry.
//
// References:
// - WHATWG Fetch, HTTP-network-or-cache fetch, steps 8.21.2 (an `Authorization`
//   value from the URL, on an authentication fetch only) and 8.24 (a 401 retries):
//   https://fetch.spec.whatwg.org/#http-network-or-cache-fetch
// - WHATWG WebSockets, establish a WebSocket connection: "use-URL-credentials flag is set"
// - RFC 7617, the Basic scheme (user-id ":" password, UTF-8, base64)
// - RFC 9110 §11.6.1, WWW-Authenticate: a list of challenges, each a scheme token first
// - undici lib/web/fetch/index.js (the same retry, for its WebSocket)

/**
 * The `Authorization` value for `url`'s userinfo, or undefined when the URL
 * has none. The URL keeps its userinfo percent-encoded; it is decoded to bytes
 * first, as Chromium does (undici sends it still encoded), so
 * `wss://a%40b:p%3Ass@host/` authenticates as `a@b` with password `p:ss`.
 */
export function urlAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const userPass = Buffer.concat([percentDecode(url.username), Buffer.from(':'), percentDecode(url.password)]);
  return `Basic ${userPass.toString('base64')}`;
}

/**
 * Whether a `WWW-Authenticate` field value offers the Basic scheme (RFC 9110
 * §11.6.1; scheme names are case-insensitive). A challenge for another scheme
 * alone does not get the URL's password.
 */
export function offersBasic(value: string | readonly string[] | undefined): boolean {
  if (value === undefined) return false;
  const fields = typeof value === 'string' ? [value] : value;
  // A scheme is a token at the start of the field or after a comma, followed
  // by whitespace, a comma or the end; auth-params (`realm="a, basic"`) are
  // name=value pairs and never match.
  return fields.some((field) => /(?:^|,)[ \t]*basic(?:[ \t]|,|$)/i.test(field));
}

/** WHATWG URL percent-decode: `%XX` to its byte, everything else as UTF-8. */
function percentDecode(text: string): Buffer {
  const input = Buffer.from(text, 'utf8');
  const output = Buffer.alloc(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] as number;
    if (byte === 0x25 && i + 2 < input.length && isHex(input[i + 1] as number) && isHex(input[i + 2] as number)) {
      output[length++] = Number.parseInt(input.toString('latin1', i + 1, i + 3), 16);
      i += 2;
    } else {
      output[length++] = byte;
    }
  }
  return output.subarray(0, length);
}

function isHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}
