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
 * An HTTP proxy to tunnel through with CONNECT. As in faye-websocket, a proxy
 * without an `origin` (`undefined`, `null`, `''`) means no proxy, whatever
 * else it holds: faye's own client passes `{ origin: undefined, tls }`.
 */
export interface ProxyOptions {
  /** `http://[user:pass@]host:port` or `https://...` (TLS to the proxy); absent or empty for none. */
  origin?: string | URL | null | undefined;
  /** Extra headers for the CONNECT request. */
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
   * An explicit proxy, or `'env'` to use HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
   * `undefined`, `null`, `false`, `''` and a proxy without `origin` all mean a
   * direct connection (as in faye-websocket).
   */
  proxy?: ProxyOptions | 'env' | '' | false | null | undefined;
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

/** WebSocket options with every default filled in and every value checked. */
export interface ResolvedOptions {
  extensions: ExtensionConfig;
  headers: Array<[string, string]>;
  maxLength: number;
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

function positive(value: unknown, name: string, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${name} must be a non-negative ${integer ? 'integer' : 'number'}`);
  }
  return value;
}
