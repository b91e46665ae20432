// Public option types and their validation.
//
// References:
// - faye-websocket README, "Initialization options" (the option names kept here)
// - WHATWG WebSockets, binaryType: https://websockets.spec.whatwg.org/#dom-websocket-binarytype

import { constants } from 'node:buffer';
import type { ClientHttp2Session } from 'node:http2';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { BINARY_TYPES, type BinaryType } from './dom/data.js';
import { validateHeaders } from './net/headers.js';
import { defaultMaxFragments } from './protocol/connection.js';
import { type ExtensionConfig, type PerMessageDeflateOptions, resolveExtensions } from './protocol/extensions.js';
import type { ProtocolChooser } from './protocol/handshake.js';

export type { BinaryType, WebBinaryType } from './dom/data.js';
export type { PerMessageDeflateOptions } from './protocol/extensions.js';
export type { ProtocolChooser } from './protocol/handshake.js';

/**
 * A websocket-extensions plugin, such as the default export of
 * `permessage-deflate`.
 */
export interface WebSocketExtension {
  readonly name: string;
  readonly type: string;
}

/** Options both the server socket and the client accept (faye-websocket's names). */
export interface WebSocketOptions<B extends BinaryType = BinaryType> {
  /** Extensions to offer or accept, e.g. `[deflate]` from `permessage-deflate`. */
  extensions?: readonly WebSocketExtension[];
  /** Extra headers for the handshake (response on the server, request on the client). */
  headers?: Readonly<Record<string, string | number>>;
  /** Largest message accepted, in bytes; bigger ones close with 1009. Default 2^26 - 1. */
  maxLength?: number;
  /**
   * Most frames one message may arrive in; past it the connection closes with
   * 1009 'Too many message fragments'. Default `max(16384, floor(maxLength / 64))`
   * (1,048,575 for the default maxLength), so a message in fragments of 64
   * bytes or more is only limited by its size.
   */
  maxFragments?: number;
  /** Seconds between pings; a missing pong by the next ping closes the connection. */
  ping?: number;
  /** Milliseconds to wait for the closing handshake before dropping TCP. Default 30000. */
  closeTimeout?: number;
  /** How binary messages are delivered; see {@link BinaryType}. */
  binaryType?: B;
  /**
   * permessage-deflate (RFC 7692), ws's option: `true`, or its parameters.
   * Off by default on the server; the client offers it by default, as
   * browsers do (`false` turns it off). Inflation stops at maxLength.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** Options of the server-side `WebSocket`. */
export interface ServerOptions extends WebSocketOptions {
  /**
   * Chooses the subprotocol from those the client offered (ws's name); its
   * answer must be one of them, or false for none. Overrides `protocols`.
   */
  handleProtocols?: ProtocolChooser;
  /**
   * Behind a TLS-terminating proxy: let `X-Forwarded-Proto: https` (and the
   * like) make `url` `wss:`, as Express's `trust proxy`. Off by default: the
   * socket decides, and a client cannot.
   */
  trustProxy?: boolean;
}

/**
 * A proxy to tunnel through: an HTTP proxy (CONNECT) or a SOCKS5 proxy
 * (RFC 1928). As in faye-websocket, a proxy without an `origin`
 * (`undefined`, `null`, `''`) means no proxy, whatever else it holds:
 * faye's own client passes `{ origin: undefined, tls }`.
 */
export interface ProxyOptions {
  /**
   * `http://[user:pass@]host:port`, `https://...` (TLS to the proxy),
   * `socks5://[user:pass@]host[:1080]` (the target's name is resolved here
   * and its address sent) or `socks5h://...` (the name is sent, for the
   * proxy to resolve); absent or empty for none. Credentials are
   * percent-decoded and go to the proxy only.
   */
  origin?: string | URL | null | undefined;
  /** Extra headers for the CONNECT request (HTTP proxies only: a SOCKS5 proxy has no request to carry them). */
  headers?: Readonly<Record<string, string | number>> | undefined;
  /** Options for `tls.connect` to an `https:` proxy. */
  tls?: TlsConnectionOptions | undefined;
}

/** Options of `WebSocket.Client` and `EventSource.Client` transport. */
export interface TransportOptions {
  /** Passed to `tls.connect` for `wss:`/`https:` targets; verification stays on unless turned off. */
  tls?: TlsConnectionOptions;
  /** Passed to `net.connect`, e.g. `localAddress` or `family`. */
  net?: { localAddress?: string; family?: number; lookup?: unknown; [key: string]: unknown };
  /** Shorthand for `tls.ca`. */
  ca?: TlsConnectionOptions['ca'];
  /**
   * An explicit proxy: its URL (`'socks5://user:pass@proxy:1080'`,
   * `'http://proxy:3128'`, the same as `{ origin: url }`) or
   * {@link ProxyOptions}; or `'env'` to use HTTPS_PROXY / HTTP_PROXY /
   * ALL_PROXY / NO_PROXY. `undefined`, `null`, `false`, `''` and a proxy
   * without `origin` all mean a direct connection (as in faye-websocket).
   */
  proxy?: ProxyOptions | URL | 'env' | (string & {}) | false | null | undefined;
  /**
   * HTTP/2: `true` opens an HTTP/2 connection for this client (TLS with ALPN
   * `h2` for `wss:`/`https:`, prior knowledge for `ws:`/`http:`) and closes it
   * with the client; a `ClientHttp2Session` from `http2.connect()` is shared,
   * as a browser shares its connection, and left open (`tls`, `ca`, `net` and
   * `proxy` then belong to `http2.connect()`). A WebSocket is opened with an
   * extended CONNECT (RFC 8441) and fails if the server does not enable it.
   * Off by default: HTTP/1.1.
   */
  http2?: boolean | ClientHttp2Session | undefined;
}

/**
 * Options both clients take for the connection attempt and the request (ws's
 * names). `EventSource.Client` takes them; the `WebSocket.Client` reads them
 * through the same `resolveTransport`.
 */
export interface ConnectOptions {
  /** Sent as the `Origin` header: a serialized origin such as `'https://example.com'`, or `'null'`. */
  origin?: string | undefined;
  /**
   * Milliseconds for the connection (TCP, proxy, TLS) and the opening
   * handshake together; past it the attempt fails as a network error would.
   * Default 30000; 0 or `Infinity` for no limit.
   */
  handshakeTimeout?: number | undefined;
  /** Aborting it abandons the connection (for `EventSource.Client`, as `close()` does). */
  signal?: AbortSignal | undefined;
}

/** The keys of {@link ConnectOptions}, for the clients' option validation. */
export const CONNECT_OPTION_KEYS = ['origin', 'handshakeTimeout', 'signal'] as const;

/** Options of `WebSocket.Client`. */
export interface ClientOptions<B extends BinaryType = BinaryType>
  extends WebSocketOptions<B>,
    TransportOptions,
    ConnectOptions {}

/** The default of `maxLength`, as faye-websocket: 2^26 - 1 bytes. */
export const DEFAULT_MAX_LENGTH = 0x3ffffff;

/** The default of `closeTimeout`, in milliseconds. */
export const DEFAULT_CLOSE_TIMEOUT = 30_000;

const SHARED_OPTION_KEYS = [
  'extensions',
  'headers',
  'maxLength',
  'maxFragments',
  'ping',
  'closeTimeout',
  'binaryType',
  'perMessageDeflate',
] as const;

export const SERVER_OPTION_KEYS = [...SHARED_OPTION_KEYS, 'handleProtocols', 'trustProxy'] as const;

export const CLIENT_OPTION_KEYS = [
  ...SHARED_OPTION_KEYS,
  'tls',
  'net',
  'ca',
  'proxy',
  'http2',
  ...CONNECT_OPTION_KEYS,
] as const;

/**
 * Throws a TypeError when `options` has a key not in `validKeys`
 * (faye-websocket's `validateOptions`, with a TypeError).
 */
export function validateOptionKeys(options: unknown, validKeys: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object') {
    throw new TypeError('Options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!validKeys.includes(key)) {
      throw new TypeError(`Unrecognized option: ${JSON.stringify(key)}. Valid options are: ${validKeys.join(', ')}`);
    }
  }
}

/**
 * Option names of ws, faye-websocket and undici that isosocket spells
 * differently or does not have, with what to write instead.
 */
const FOREIGN_OPTIONS: Readonly<Record<string, string>> = {
  rejectUnauthorized: 'tls: { rejectUnauthorized }',
  cert: 'tls: { cert }',
  key: 'tls: { key }',
  pfx: 'tls: { pfx }',
  passphrase: 'tls: { passphrase }',
  servername: 'tls: { servername }',
  checkServerIdentity: 'tls: { checkServerIdentity }',
  family: 'net: { family }',
  localAddress: 'net: { localAddress }',
  lookup: 'net: { lookup }',
  maxPayload: 'maxLength',
  agent: 'proxy: { origin }',
  dispatcher: 'proxy: { origin }',
  timeout: 'handshakeTimeout',
  protocols: 'the protocols argument',
  protocolVersion: 'nothing: only version 13 exists',
  followRedirects: 'nothing: a WebSocket handshake is not redirected, as in browsers',
  maxRedirects: 'nothing: a WebSocket handshake is not redirected, as in browsers',
  autoPong: 'nothing: pongs are always sent',
  skipUTF8Validation: 'nothing: text is always validated',
  allowSynchronousEvents: 'nothing: events are dispatched as browsers do',
  generateMask: 'nothing',
  finishRequest: 'headers',
  createConnection: 'net or proxy',
  // eventsource 4, @microsoft/fetch-event-source, undici's EventSource, reconnecting-eventsource:
  fetch: 'headers, method and body (EventSource.Client) for the request, and tls or proxy for the connection',
  reconnect:
    'nothing: EventSource.Client reconnects as the standard says, and its retry option retries the statuses the standard makes fatal; a WebSocket is never reconnected, as in browsers',
  node: "its options at the top level (proxy, tls, headers); the reconnection time is the stream's retry: field",
  reconnectionTime:
    "nothing: the stream's retry: field sets it (EventSource.Client's retry: { delay } for refused answers)",
  max_retry_time: 'retry: { backoffLimit } (EventSource.Client)',
  maxRetries: 'retry: { limit } (EventSource.Client)',
  credentials: 'withCredentials (EventSource.Client); Node sends no cookies of its own',
  openWhenHidden: 'nothing: Node has no hidden pages, and the stream stays open',
  onopen: "the onopen attribute or addEventListener('open')",
  onmessage: "the onmessage attribute or addEventListener('message')",
  onerror: "the onerror attribute or addEventListener('error')",
  onclose:
    "WebSocket's onclose attribute; an EventSource has no close event (an error event with readyState CLOSED ends it)",
};

/** Words that only an option name would hold (`pingInterval`, `tlsOptions`, `extraHeaders`). */
const OPTION_WORDS = new Set([
  'ping',
  'tls',
  'ssl',
  'proxy',
  'header',
  'headers',
  'origin',
  'timeout',
  'deflate',
  'extension',
  'extensions',
  'handshake',
  'signal',
]);

/**
 * Reads the Node-only options of a browser-shaped constructor the way WebIDL
 * reads a dictionary: a key that is not an option name is ignored, since
 * browser code passes objects and extra arguments that are not ours. A key
 * that looks like an option name and is not one of `validKeys` (a near-typo
 * of one, another library's option name, or a name holding `ping`, `tls`,
 * `proxy`, `headers`, `origin`, `timeout`...) is a TypeError saying what to
 * write, so a mistake in our options never passes silently.
 *
 * @param value The argument: `WebSocket.Client`'s third, `EventSource.Client`'s second.
 * @param nonObject What a value that is not an object means: `'ignore'` for an
 * extra argument (a browser ignores it), `'throw'` for a WebIDL dictionary
 * (a TypeError, as browsers throw).
 * @returns The options among its keys (a new object), or undefined.
 */
export function readBrowserOptions<T extends object>(
  value: unknown,
  validKeys: readonly string[],
  nonObject: 'ignore' | 'throw',
): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') {
    if (nonObject === 'ignore') return undefined;
    throw new TypeError(`Options must be an object, not ${typeof value}`);
  }
  const options: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(value)) {
    if (validKeys.includes(key)) {
      options[key] = option;
      continue;
    }
    const hint = optionHint(key, validKeys);
    if (hint !== undefined) {
      throw new TypeError(
        `Unrecognized option: ${JSON.stringify(key)} (${hint}). Valid options are: ${validKeys.join(', ')}`,
      );
    }
  }
  return options as T;
}

/** What to write instead of `key`, when it looks like an option name; undefined when it does not. */
function optionHint(key: string, validKeys: readonly string[]): string | undefined {
  const near = validKeys.find((name) => resembles(key, name));
  if (near !== undefined) return `did you mean ${near}?`;
  const foreign = Object.hasOwn(FOREIGN_OPTIONS, key) ? FOREIGN_OPTIONS[key] : undefined;
  if (foreign !== undefined) return `another library's name; isosocket takes ${foreign}`;
  const words = key.match(/[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])/g) ?? [];
  const word = words.map((w) => w.toLowerCase()).find((w) => OPTION_WORDS.has(w));
  if (word !== undefined) return `not an option; see the options that mention ${word}`;
  return undefined;
}

/**
 * Whether `key` is `name` misspelt: the same ignoring case, a transposition
 * of a short name (`tsl`), or within 1 (names up to 5 letters) or 2 edits.
 */
function resembles(key: string, name: string): boolean {
  const a = key.toLowerCase();
  const b = name.toLowerCase();
  if (a === b) return true;
  if (b.length <= 3) return a.length === b.length && [...a].sort().join('') === [...b].sort().join('');
  return editDistance(a, b, b.length <= 5 ? 1 : 2) <= (b.length <= 5 ? 1 : 2);
}

/** Optimal string alignment distance (an adjacent transposition is one edit), capped just past `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (before[j - 2] as number) + 1);
      }
      current.push(value);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/** WebSocket options with every default filled in and every value checked. */
export interface ResolvedOptions {
  extensions: ExtensionConfig;
  headers: Array<[string, string]>;
  maxLength: number;
  maxFragments: number;
  ping: number;
  closeTimeout: number;
  binaryType: BinaryType;
}

/** Checks the options both sockets share; throws a TypeError naming the bad one. */
export function resolveOptions(
  options: WebSocketOptions<BinaryType> | undefined,
  validKeys: readonly string[],
  role: 'server' | 'client',
): ResolvedOptions {
  validateOptionKeys(options, validKeys);
  const given = options ?? {};
  const maxLength = positive(given.maxLength, 'maxLength', DEFAULT_MAX_LENGTH, true);
  if (maxLength > constants.MAX_LENGTH) {
    throw new TypeError(`maxLength must be at most ${constants.MAX_LENGTH} bytes (the largest Buffer)`);
  }
  // The client offers permessage-deflate unless told not to, as browsers do,
  // and unless the application gave it in `extensions`.
  const offersDeflate =
    Array.isArray(given.extensions) && given.extensions.some((e) => e?.name === 'permessage-deflate');
  const perMessageDeflate = given.perMessageDeflate ?? (role === 'client' && !offersDeflate ? true : undefined);
  return {
    extensions: resolveExtensions(given.extensions, perMessageDeflate, role, maxLength),
    headers: validateHeaders(given.headers, 'headers'),
    maxLength,
    maxFragments: fragments(given.maxFragments, maxLength),
    ping: positive(given.ping, 'ping', 0, false),
    closeTimeout: positive(given.closeTimeout, 'closeTimeout', DEFAULT_CLOSE_TIMEOUT, false),
    binaryType: binaryType(given.binaryType ?? (role === 'client' ? 'blob' : 'nodebuffer')),
  };
}

/** Checks a binaryType value; throws a TypeError for anything else. */
export function binaryType(value: unknown): BinaryType {
  if (!BINARY_TYPES.includes(value as BinaryType)) {
    throw new TypeError(
      `binaryType must be one of ${BINARY_TYPES.map((t) => `'${t}'`).join(', ')}, not ${String(value)}`,
    );
  }
  return value as BinaryType;
}

/** `maxFragments`: a positive integer, by default one frame per 64 bytes of maxLength (connection.ts). */
function fragments(value: unknown, maxLength: number): number {
  if (value === undefined) return defaultMaxFragments(maxLength);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError('maxFragments must be a positive integer');
  }
  return value;
}

function positive(value: unknown, name: string, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${name} must be a non-negative ${integer ? 'integer' : 'number'}`);
  }
  return value;
}
