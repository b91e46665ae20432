// The two lists a handshake carries, read lazily and within bounds: the
// Sec-WebSocket-Extensions list (offers from a client, the answer from a
// server) and the Sec-WebSocket-Protocol list. Pure functions of a string;
// the negotiation that uses them is in extensions.ts and handshake.ts.
//
// Calling contract: each reader walks the header once, left to right, and
// stops at its bound: it never reads past the last element it returns (and
// the separator after it). Whatever it did read must be well formed, or it
// throws a SyntaxError naming the index; what it did not read is not judged.
// The caller decides what a bound reached means: the server ignores the rest
// (an offer it declines, RFC 6455 §9.1), the client fails (an answer it
// cannot accept, §4.1 step 5).
//
// An element is one slice of the header, and only elements the caller can
// use are passed on (to websocket-extensions, which then parses a few short
// offers). Why own this, and the measurements: docs/decisions/handshake-offers.md.
//
// References:
// - RFC 6455 §9.1 (the Sec-WebSocket-Extensions grammar; "the value after
//   quoted-string unescaping MUST conform to the 'token' ABNF"), §4.1 and
//   §11.3.4 (Sec-WebSocket-Protocol: 1#token):
//   https://www.rfc-editor.org/rfc/rfc6455
// - RFC 7692 §5, §7 (permessage-deflate: at most four parameters, none twice):
//   https://www.rfc-editor.org/rfc/rfc7692
// - RFC 9110 §5.6.1.2 (empty list elements), §5.6.2 (token), §5.6.3 (OWS)
// - websockets/ws lib/extension.js and lib/subprotocol.js (the same grammar,
//   one character at a time)

/**
 * Extension offers a server examines in one Sec-WebSocket-Extensions header.
 * Offers after the 16th are declined unread (RFC 6455 §9.1: the server
 * chooses which of the offers it accepts). Browsers send one; clients that
 * send fallbacks send a few (the Autobahn TestSuite, three).
 */
export const MAX_EXTENSION_OFFERS = 16;

/**
 * Parameters read in one extension offer or answer. A permessage-deflate
 * offer has at most four, each once (RFC 7692 §7); an element with more is
 * not read, and neither is the rest of the header (a server declines it, a
 * client fails the connection).
 */
export const MAX_EXTENSION_PARAMS = 16;

/**
 * Subprotocols a server examines in one Sec-WebSocket-Protocol header; the
 * rest are not read, as protocols the server does not support (RFC 6455
 * §4.2.2: the server selects one of the client's, or none).
 */
export const MAX_SUBPROTOCOLS = 64;

/** One extension element of a Sec-WebSocket-Extensions list. */
export interface ExtensionElement {
  /** The extension-token. */
  readonly name: string;
  /** The element as written: from its name to the end of its last parameter. */
  readonly text: string;
}

/** What a reader returns: the elements read, and whether they are the whole header. */
export interface ListRead<T> {
  readonly elements: T[];
  /** `false` when the reader stopped at a bound with more of the header unread. */
  readonly complete: boolean;
}

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
// "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}
const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

const isTchar = (code: number): boolean => code < 128 && TCHAR[code] === 1;

/** Whether the string is an RFC 9110 token (a header name, a subprotocol, a method). */
export function isToken(value: string): boolean {
  if (value === '') return false;
  for (let i = 0; i < value.length; i++) if (!isTchar(value.charCodeAt(i))) return false;
  return true;
}

/** Peer text cut for a message: its first `length` characters, then `…`. */
export function cut(text: string, length = 64): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}

/** A short, quoted piece of peer text for a message: never the whole header. */
export function excerpt(text: string, length = 64): string {
  return JSON.stringify(cut(text, length));
}

/** A cursor over a header: each method reads from `i` and leaves `i` after what it read. */
class Reader {
  readonly #text: string;
  i = 0;

  constructor(text: string) {
    this.#text = text;
  }

  get done(): boolean {
    return this.i >= this.#text.length;
  }

  /** The character code at the cursor (NaN at the end). A method, so that no comparison is narrowed across a move. */
  code(): number {
    return this.#text.charCodeAt(this.i);
  }

  /** RFC 9110 §5.6.3: OWS = *( SP / HTAB ). */
  skipSpace(): void {
    while (this.code() === SP || this.code() === HTAB) this.i++;
  }

  /** token = 1*tchar; returns where it began. */
  token(what: string): number {
    const start = this.i;
    while (isTchar(this.code())) this.i++;
    if (this.i === start) this.fail(what);
    return start;
  }

  /**
   * quoted-string whose content, after unescaping, is a token (RFC 6455 §9.1):
   * a DQUOTE, then tchars or a backslash before a tchar, at least one, then a DQUOTE.
   */
  quoted(): void {
    this.i++;
    const start = this.i;
    for (;;) {
      const code = this.code();
      if (code === DQUOTE && this.i > start) break;
      if (code === BACKSLASH) this.i++;
      if (!isTchar(this.code())) this.fail('a token in the quoted string');
      this.i++;
    }
    this.i++;
  }

  slice(start: number, end: number): string {
    return this.#text.slice(start, end);
  }

  fail(what: string): never {
    if (this.done) throw new SyntaxError(`Unexpected end of the header, expected ${what}`);
    throw new SyntaxError(`Unexpected ${excerpt(this.#text[this.i] as string)} at index ${this.i}, expected ${what}`);
  }
}

/**
 * Reads a Sec-WebSocket-Extensions list (RFC 6455 §9.1), at most
 * `maxElements` elements of at most `maxParams` parameters each:
 *
 *     extension-list = 1#extension
 *     extension      = extension-token *( ";" extension-param )
 *     extension-param = token [ "=" (token | quoted-string) ]
 *
 * Stops (`complete: false`) before an element that would pass either bound;
 * throws a SyntaxError for anything malformed in what it read.
 */
export function readExtensionList(
  header: string,
  maxElements: number,
  maxParams = MAX_EXTENSION_PARAMS,
): ListRead<ExtensionElement> {
  const reader = new Reader(header);
  const elements: ExtensionElement[] = [];
  reader.skipSpace();
  for (;;) {
    if (elements.length === maxElements) return { elements, complete: false };
    const start = reader.token('an extension name');
    const name = reader.slice(start, reader.i);
    let end = reader.i;
    reader.skipSpace();
    let params = 0;
    while (reader.code() === SEMICOLON) {
      if (++params > maxParams) return { elements, complete: false };
      reader.i++;
      reader.skipSpace();
      reader.token('a parameter name');
      end = reader.i;
      reader.skipSpace();
      if (reader.code() === EQUALS) {
        reader.i++;
        reader.skipSpace();
        if (reader.code() === DQUOTE) reader.quoted();
        else reader.token('a parameter value');
        end = reader.i;
        reader.skipSpace();
      }
    }
    elements.push({ name, text: reader.slice(start, end) });
    if (reader.done) return { elements, complete: true };
    if (reader.code() !== COMMA) reader.fail("';', ',' or the end");
    reader.i++;
    reader.skipSpace();
  }
}

/**
 * Reads a comma-separated list of tokens (Sec-WebSocket-Protocol, RFC 6455
 * §4.1: 1#token), at most `maxElements` list elements, empty ones included
 * (RFC 9110 §5.6.1.2: a recipient ignores a reasonable number of them).
 * Stops (`complete: false`) with more unread; throws a SyntaxError for
 * anything but tokens, commas and OWS in what it read.
 */
export function readTokenList(header: string, maxElements: number): ListRead<string> {
  const reader = new Reader(header);
  const elements: string[] = [];
  let seen = 0;
  for (;;) {
    reader.skipSpace();
    if (reader.done) return { elements, complete: true };
    if (seen === maxElements) return { elements, complete: false };
    seen++;
    if (reader.code() !== COMMA) {
      const start = reader.token('a token');
      elements.push(reader.slice(start, reader.i));
      reader.skipSpace();
      if (reader.done) return { elements, complete: true };
      if (reader.code() !== COMMA) reader.fail("',' or the end");
    }
    reader.i++;
  }
}
