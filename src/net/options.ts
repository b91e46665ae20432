// The transport options of both clients (WebSocket.Client, EventSource.Client):
// their types, their keys, and `resolveTransport`, which checks them once and
// gives src/net/transport.ts a ResolvedTransport to connect with.
//
// Calling contract:
//   const transport = resolveTransport(options); // synchronous; a bad option is a TypeError
//   // ...then ConnectionAttempt and connect() (./transport.ts)
//
// References:
// - faye-websocket lib/faye/websocket/client.js: a `proxy` without `origin` is no proxy
// - ws `handshakeTimeout`; DOM Standard, AbortSignal: https://dom.spec.whatwg.org/#interface-AbortSignal
// - RFC 1928 §3 (SOCKS5) and RFC 1929 §2 (its credentials, at most 255 bytes each)

import type { ClientHttp2Session } from 'node:http2';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { validateHeaders, validateOrigin } from './headers.js';

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

/** The keys of {@link TransportOptions}, for the clients' option validation. */
export const TRANSPORT_OPTION_KEYS = ['tls', 'net', 'ca', 'proxy', 'http2'] as const;

/** The keys of {@link ConnectOptions}, for the clients' option validation. */
export const CONNECT_OPTION_KEYS = ['origin', 'handshakeTimeout', 'signal'] as const;

/**
 * The default `handshakeTimeout`, in milliseconds: 30 s, for the connection
 * (TCP, proxy, TLS) and the opening handshake together. Why 30 s:
 * docs/decisions/handshake-timeout.md.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT = 30_000;

/** The longest delay Node's timers take (2^31 - 1 ms); longer ones fire at once. */
export const MAX_TIMER_DELAY = 0x7fffffff;

/** An explicit proxy, checked and parsed. */
export interface ResolvedProxy {
  /** An http:, https:, socks5: or socks5h: URL, credentials (percent-encoded) included. */
  origin: URL;
  headers: Array<[string, string]>;
  tls: TlsConnectionOptions;
}

/** The transport options with each shape checked, ready to connect with. */
export interface ResolvedTransport {
  tls: TlsConnectionOptions;
  net: Record<string, unknown>;
  /** `undefined` is a direct connection. */
  proxy: ResolvedProxy | 'env' | undefined;
  /** Milliseconds for connection and opening handshake; 0 for no limit. */
  handshakeTimeout: number;
  /** The application's signal: aborting it abandons the attempt. */
  signal: AbortSignal | undefined;
  /** The `Origin` header value to send, if any. */
  origin: string | undefined;
  /**
   * HTTP/2 (src/net/http2.ts): `true` for a session of the client's own, the
   * application's session to share, `undefined` for HTTP/1.1.
   */
  http2: true | ClientHttp2Session | undefined;
}

/**
 * Checks the transport and connect options; throws a TypeError naming the bad one.
 *
 * As in faye-websocket, a proxy without an origin means a direct connection:
 * `proxy` may be `undefined`, `null`, `false`, `''`, `{}` or
 * `{ origin: undefined, tls: {...} }` (faye's own client passes the last).
 */
export function resolveTransport(options: (TransportOptions & ConnectOptions) | undefined): ResolvedTransport {
  const given = options ?? {};
  for (const key of ['tls', 'net'] as const) {
    const value = given[key];
    if (value !== undefined && (value === null || typeof value !== 'object')) {
      throw new TypeError(`${key} must be an object of options for ${key}.connect()`);
    }
  }
  const tlsOptions: TlsConnectionOptions = { ...(given.tls ?? {}) };
  if (given.ca !== undefined && tlsOptions.ca === undefined) tlsOptions.ca = given.ca;
  const proxy = resolveProxy(given.proxy);
  return {
    tls: tlsOptions,
    net: { ...(given.net ?? {}) },
    proxy,
    handshakeTimeout: resolveHandshakeTimeout(given.handshakeTimeout),
    signal: resolveSignal(given.signal),
    origin: given.origin === undefined ? undefined : validateOrigin(given.origin, 'origin'),
    http2: resolveHttp2(given.http2, given, proxy),
  };
}

/**
 * `http2`: false or absent for HTTP/1.1, true for a session of the client's
 * own, or a `ClientHttp2Session` to share. A shared session's connection is
 * already made, so the options that shape a connection cannot apply to it.
 */
function resolveHttp2(
  value: unknown,
  given: TransportOptions,
  proxy: ResolvedProxy | 'env' | undefined,
): true | ClientHttp2Session | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return true;
  if (!isClientSession(value)) {
    throw new TypeError('http2 must be true, false, or a ClientHttp2Session from http2.connect()');
  }
  const shaping: string[] = (['tls', 'ca', 'net'] as const).filter((key) => given[key] !== undefined);
  if (proxy !== undefined) shaping.push('proxy');
  if (shaping.length > 0) {
    throw new TypeError(
      `${shaping.join(', ')} shape a new connection and cannot apply to the HTTP/2 session given in http2: pass them to http2.connect() instead`,
    );
  }
  return value;
}

/** Whether `value` can be used as a client session (`http2.connect()`'s). */
export function isClientSession(value: unknown): value is ClientHttp2Session {
  const candidate = value as Partial<ClientHttp2Session> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.request === 'function' &&
    typeof candidate.ping === 'function' &&
    typeof candidate.settings === 'function'
  );
}

const PROXY_SHAPES =
  "proxy must be a proxy URL string (http://, https://, socks5://, socks5h://), { origin, headers?, tls? } or 'env'";

function resolveProxy(proxy: unknown): ResolvedProxy | 'env' | undefined {
  // faye: `var proxy = options.proxy || {}` and `if (proxy.origin) ...`.
  if (proxy === 'env') return 'env';
  if (proxy === undefined || proxy === null || proxy === false || proxy === '') return undefined;
  // Note: extension, not in faye: a proxy URL on its own is `{ origin: url }`.
  // (A URL object is taken whole: its own `origin` property is 'null' for socks5:.)
  if (typeof proxy === 'string' || proxy instanceof URL) {
    return { origin: parseProxyOrigin(String(proxy), 'proxy', TypeError), headers: [], tls: {} };
  }
  if (typeof proxy !== 'object') throw new TypeError(PROXY_SHAPES);
  const { origin, headers, tls: proxyTls } = proxy as ProxyOptions;
  if (origin === undefined || origin === null || origin === '') return undefined;
  if (typeof origin !== 'string' && !(origin instanceof URL)) {
    throw new TypeError(
      'proxy.origin must be a URL string such as http://proxy.example:3128 or socks5://proxy.example:1080',
    );
  }
  const parsed = parseProxyOrigin(String(origin), 'proxy.origin', TypeError);
  const headerPairs = validateHeaders(headers, 'proxy.headers');
  if (isSocks(parsed) && headerPairs.length > 0) {
    throw new TypeError(
      `proxy.headers go with an HTTP CONNECT; a ${parsed.protocol} proxy has no request to carry them`,
    );
  }
  return { origin: parsed, headers: headerPairs, tls: checkTlsOptions(proxyTls, 'proxy.tls') };
}

/** Whether the proxy speaks SOCKS5 (socks5: resolves the target here, socks5h: at the proxy). */
export function isSocks(origin: URL): boolean {
  return origin.protocol === 'socks5:' || origin.protocol === 'socks5h:';
}

/** A proxy URL as it may go into a message: whatever precedes an `@` in the authority is hidden. */
function redact(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

/**
 * Parses an http:, https:, socks5: or socks5h: proxy URL; throws `Failure`
 * with a message naming `what`, and never quoting the credentials.
 */
export function parseProxyOrigin(value: string, what: string, Failure: new (message: string) => Error): URL {
  let origin: URL;
  try {
    origin = new URL(value);
  } catch {
    throw new Failure(`${what} is not a valid URL: ${redact(value)}`);
  }
  const { protocol } = origin;
  if (protocol !== 'http:' && protocol !== 'https:' && !isSocks(origin)) {
    const hint = /^socks4a?:$|^socks:$/.test(protocol) ? ' (SOCKS4 is not supported: use socks5: or socks5h:)' : '';
    throw new Failure(`${what} must be an http:, https:, socks5: or socks5h: URL, not ${protocol}${hint}`);
  }
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(origin.username);
    password = decodeURIComponent(origin.password);
  } catch {
    throw new Failure(`${what} has credentials that are not valid percent-encoding`);
  }
  if (isSocks(origin)) {
    if (origin.hostname === '') throw new Failure(`${what} names no host: ${redact(value)}`);
    // RFC 1929 §2: UNAME and PASSWD are at most 255 bytes each.
    if (Buffer.byteLength(username) > 255 || Buffer.byteLength(password) > 255) {
      throw new Failure(`${what} has a user or password over 255 bytes, more than SOCKS5 can send (RFC 1929)`);
    }
  }
  return origin;
}

function checkTlsOptions(value: unknown, name: string): TlsConnectionOptions {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object')
    throw new TypeError(`${name} must be an object of options for tls.connect()`);
  return value as TlsConnectionOptions;
}

function resolveHandshakeTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_HANDSHAKE_TIMEOUT;
  if (value === Number.POSITIVE_INFINITY) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_DELAY) {
    throw new TypeError(
      `handshakeTimeout must be a number of milliseconds from 0 to ${MAX_TIMER_DELAY} (0 or Infinity for no limit)`,
    );
  }
  return value;
}

function resolveSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  const candidate = value as Partial<AbortSignal> | null;
  if (
    !(value instanceof AbortSignal) &&
    (candidate === null ||
      typeof candidate !== 'object' ||
      typeof candidate.aborted !== 'boolean' ||
      typeof candidate.addEventListener !== 'function' ||
      typeof candidate.removeEventListener !== 'function')
  ) {
    throw new TypeError('signal must be an AbortSignal');
  }
  return value as AbortSignal;
}
