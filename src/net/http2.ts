// HTTP/2 for both ends: the node:http2 pieces that WebSockets over HTTP/2
// (RFC 8441's extended CONNECT) and event streams over HTTP/2 need. Client
// side: a session (the application's, or one opened here over connect(), so
// TLS options, proxies and handshakeTimeout apply), the wait for the
// server's SETTINGS, and one request whose stream is the Duplex the caller
// reads and writes. Server side: telling an HTTP/2 stream or the
// compatibility API's request and response apart from HTTP/1.1's arguments,
// the URL a stream asked for, and answering a stream without throwing.
//
// Client calling contract:
//   const attempt = new ConnectionAttempt(transport);           // handshakeTimeout, signal
//   const answer = await openStream(url, transport, attempt, { protocol: 'websocket', headers });
//   attempt.finish();
//   answer.stream;  answer.status;  answer.headers              // the Duplex and the response head
// A session opened here (`http2: true`) belongs to that one stream and is
// closed when the stream closes; a session the application gave is shared
// and never closed here. Errors never escape: each rejects the promise with
// an Error that says what happened.
//
// node:http2 itself is loaded when first needed (loadHttp2()), not when
// isosocket is imported: an HTTP/1.1 application never pays for it, and the
// checks below tell HTTP/2's objects apart without it (an object that holds
// an HTTP/2 stream comes from an application that loaded node:http2).
//
// Flow control: a session that carries a WebSocket raises its receive
// windows (raiseWindows(): the server's when it admits an extended CONNECT,
// the client's before it sends one), as RFC 9113's 65,535 bytes make a
// 64 KiB message wait a round trip for WINDOW_UPDATE. A window the
// application chose (`settings.initialWindowSize`) is kept.
//
// References:
// - RFC 9113, HTTP/2: https://www.rfc-editor.org/rfc/rfc9113 (§3.4 the
//   server's SETTINGS come first, §8.2.2 connection-specific fields, §8.3.1
//   pseudo-headers, §8.5 CONNECT, §6.5.2 and §6.9 flow control)
// - RFC 8441, Bootstrapping WebSockets with HTTP/2: https://www.rfc-editor.org/rfc/rfc8441
//   (§3 SETTINGS_ENABLE_CONNECT_PROTOCOL, §4 the extended CONNECT)
// - RFC 7301, ALPN (`h2`): https://www.rfc-editor.org/rfc/rfc7301
// - Node.js http2 documentation, "Extended CONNECT protocol" and the
//   compatibility API: https://nodejs.org/api/http2.html

import type * as Http2 from 'node:http2';
import type {
  ClientHttp2Session,
  ClientHttp2Stream,
  Http2ServerRequest,
  Http2ServerResponse,
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
  Settings,
} from 'node:http2';
import { createRequire } from 'node:module';
import type { TLSSocket } from 'node:tls';
import { isClientSession, type ResolvedTransport } from './options.js';
import { firstHeader } from './request.js';
import { abortError, type ConnectionAttempt, connect } from './transport.js';
import { endpointOf } from './url.js';

/** HTTP/2's error codes by number (RFC 9113 §7), for messages. */
const ERROR_CODES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/** RFC 9113 §8.2.2: fields an HTTP/2 message must not carry (Node throws on them). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** RFC 9113 §7: the stream was not processed; the client may retry it. */
export const REFUSED_STREAM = 0x7;
/** RFC 9113 §7: the stream is no longer needed. */
const CANCEL = 0x8;

function ignore(): void {}

/** RFC 9113 §6.9.2: SETTINGS_INITIAL_WINDOW_SIZE's initial value, Node's default. */
export const DEFAULT_HTTP2_WINDOW = 65_535;

/**
 * The receive window a session carrying WebSockets gives each stream
 * (SETTINGS_INITIAL_WINDOW_SIZE), unless the application set its own: with
 * RFC 9113's 65,535 bytes a 64 KiB message waits a round trip for
 * WINDOW_UPDATE. A window is a promise to buffer that much on a stream whose
 * reader paused (Node stops returning its window, not the connection's), so
 * a session's worst case is its WebSocket stream limit times this window.
 */
export const WEBSOCKET_STREAM_WINDOW = 256 * 1024;

/** The connection-level receive window of a session carrying WebSockets (RFC 9113 §6.9.1). */
export const WEBSOCKET_SESSION_WINDOW = 1024 * 1024;

/** Sessions whose windows were already raised (once each, however many WebSockets). */
const raised = new WeakSet<Http2.Http2Session>();

/**
 * Raises the receive windows of a session that carries a WebSocket: each
 * stream's (SETTINGS_INITIAL_WINDOW_SIZE, RFC 9113 §6.5.2, §6.9.2) to
 * WEBSOCKET_STREAM_WINDOW when the application left it at the default, and
 * the connection's (a WINDOW_UPDATE on stream 0, §6.9.1) to at least
 * WEBSOCKET_SESSION_WINDOW. Never lowers a window the application chose.
 */
export function raiseWindows(session: Http2.Http2Session): void {
  if (raised.has(session) || session.destroyed || session.closed) return;
  raised.add(session);
  applyWindows(session);
}

function applyWindows(session: Http2.Http2Session): void {
  if (session.destroyed || session.closed) return;
  // The application's own SETTINGS take effect once acknowledged: until then
  // localSettings still reads the defaults, which are not its choice.
  if (session.pendingSettingsAck) {
    session.once('localSettings', () => applyWindows(session));
    return;
  }
  try {
    const local = session.localSettings?.initialWindowSize ?? DEFAULT_HTTP2_WINDOW;
    const stream = local === DEFAULT_HTTP2_WINDOW ? WEBSOCKET_STREAM_WINDOW : local;
    if (stream !== local) session.settings({ initialWindowSize: stream });
    const connection = Math.max(WEBSOCKET_SESSION_WINDOW, stream);
    if ((session.state.effectiveLocalWindowSize ?? DEFAULT_HTTP2_WINDOW) < connection) {
      session.setLocalWindowSize(connection);
    }
  } catch {
    // Too many SETTINGS awaiting acknowledgement, or the session is closing:
    // the windows stay as they were, which only costs speed.
  }
}

let http2: typeof Http2 | undefined;

/** node:http2, loaded on first use. */
export function loadHttp2(): typeof Http2 {
  http2 ??= (
    typeof process.getBuiltinModule === 'function'
      ? process.getBuiltinModule('node:http2')
      : // Node 20 before 20.16: a require that resolves built-ins (any base path does).
        createRequire(`${process.cwd()}/`)('node:http2')
  ) as typeof Http2;
  return http2;
}

/** Whether `value` holds an HTTP/2 server stream (the compatibility API's request and response do). */
function holdsServerStream(value: unknown): boolean {
  return typeof value === 'object' && value !== null && isServerStream((value as { stream?: unknown }).stream);
}

// ---- server side -----------------------------------------------------------

/** Whether `value` is a server-side HTTP/2 stream (the `'stream'` event's first argument). */
export function isServerStream(value: unknown): value is ServerHttp2Stream {
  const candidate = value as Partial<ServerHttp2Stream> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.respond === 'function' &&
    typeof candidate.pushStream === 'function'
  );
}

/** Whether `value` is the compatibility API's request (`'request'` and `'connect'` events over HTTP/2). */
export function isHttp2Request(value: unknown): value is Http2ServerRequest {
  return holdsServerStream(value) && value instanceof loadHttp2().Http2ServerRequest;
}

/** Whether `value` is the compatibility API's response. */
export function isHttp2Response(value: unknown): value is Http2ServerResponse {
  return holdsServerStream(value) && value instanceof loadHttp2().Http2ServerResponse;
}

/** Whether `value` looks like HTTP/2 request headers (the `'stream'` event's second argument). */
export function isHttp2Headers(value: unknown): value is IncomingHttpHeaders {
  return typeof value === 'object' && value !== null && typeof (value as IncomingHttpHeaders)[':method'] === 'string';
}

/**
 * The URL an HTTP/2 request asked for: `:authority` and `:path`, with the
 * secure scheme when the connection is TLS or, when `trustProxy` says a
 * TLS-terminating proxy is in front, when `:scheme` says `https`. As over
 * HTTP/1.1, a client alone cannot make a cleartext connection look secure.
 */
export function streamUrl(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  schemes: { plain: string; secure: string },
  trustProxy: boolean,
): string {
  const secure = stream.session?.encrypted === true || (trustProxy && firstHeader(headers[':scheme']) === 'https');
  const authority = firstHeader(headers[':authority']) || firstHeader(headers.host) || 'localhost';
  return `${secure ? schemes.secure : schemes.plain}//${authority}${firstHeader(headers[':path']) || '/'}`;
}

/**
 * Header pairs as HTTP/2 fields: lower-case names; a request's `Host` becomes
 * `:authority` (RFC 9113 §8.3.1); connection-specific fields, which HTTP/2
 * forbids and HTTP/1.1 options may hold, are left out (RFC 9113 §8.2.2).
 */
export function toHttp2Headers(
  pairs: Iterable<readonly [string, string]>,
  role: 'request' | 'response',
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    if (key === 'host') {
      if (role === 'request') headers[':authority'] = value;
      continue;
    }
    // RFC 9113 §8.2.2: TE may be sent, with no value other than "trailers".
    if (CONNECTION_SPECIFIC.has(key) || (key === 'te' && value.trim().toLowerCase() !== 'trailers')) continue;
    headers[key] = value;
  }
  return headers;
}

/**
 * Answers a request on a stream: the status and headers, then, when `body` is
 * given, the body and the end of the stream. Returns false, and writes
 * nothing, when the stream was already answered or is gone.
 */
export function respond(
  stream: ServerHttp2Stream,
  status: number,
  headers: Iterable<readonly [string, string]>,
  body?: string,
): boolean {
  if (stream.destroyed || stream.closed || stream.headersSent) return false;
  try {
    stream.respond({ ...toHttp2Headers(headers, 'response'), ':status': status }, { endStream: false });
  } catch {
    // The session went away in between (ERR_HTTP2_INVALID_STREAM): nothing to answer.
    return false;
  }
  if (body !== undefined) stream.end(body);
  return true;
}

/**
 * Why a stream handed to a WebSocket was already answered. Node's
 * compatibility layer answers every CONNECT with 405 when the server has a
 * `'request'` listener and no `'connect'` listener, before or after the
 * application's `'stream'` listener runs: the message says what to do.
 */
export function alreadyAnswered(stream: ServerHttp2Stream): string {
  const status = stream.sentHeaders?.[':status'];
  const server = (stream.session as ServerHttp2Session | undefined)?.server;
  if (
    Number(status) === 405 &&
    server !== undefined &&
    server.listenerCount('request') > 0 &&
    server.listenerCount('connect') === 0
  ) {
    return (
      "Node's HTTP/2 compatibility layer answered this CONNECT with 405 because the server has a 'request' " +
      "listener and no 'connect' listener: accept WebSockets in server.on('connect', (request, response) => " +
      'new WebSocket(request, response)) instead of the stream event'
    );
  }
  return `The HTTP/2 stream was already answered (status ${String(status ?? 'unknown')}) before the WebSocket could answer it`;
}

// ---- client side -----------------------------------------------------------

/** The response to a request on an HTTP/2 stream. */
export interface Http2Answer {
  /** The stream: the response body to read, the request body (a WebSocket's frames) to write. */
  stream: ClientHttp2Stream;
  /** `:status`. */
  status: number;
  /** The response's fields, pseudo-headers left out. */
  headers: Record<string, string | string[]>;
}

function secureTarget(target: URL): boolean {
  return endpointOf(target).secure;
}

/** The origin of `target` as HTTP/2 names it (`https:` for `wss:`). */
function httpOrigin(target: URL): string {
  return `${secureTarget(target) ? 'https' : 'http'}://${target.host}`;
}

/**
 * Opens a request on an HTTP/2 stream to `target`: on the application's
 * session (`transport.http2` is one), or on a session opened for it over
 * connect() (`transport.http2` is true), closed when the stream closes. With
 * `protocol`, the request is an extended CONNECT (RFC 8441 §4), sent only
 * once the server's SETTINGS enable it; without, a GET.
 */
export async function openStream(
  target: URL,
  transport: ResolvedTransport,
  attempt: ConnectionAttempt,
  head: { protocol?: string; headers: OutgoingHttpHeaders },
): Promise<Http2Answer> {
  const given = transport.http2;
  const problem = sessionProblem(given, target);
  if (problem !== undefined) throw new Error(problem);
  const session = isClientSession(given) ? given : await openSession(target, transport, attempt);
  const owned = session !== given;
  try {
    const pseudo: OutgoingHttpHeaders = {
      ':scheme': secureTarget(target) ? 'https' : 'http',
      ':authority': target.host,
      ':path': `${target.pathname}${target.search}`,
    };
    let headers: OutgoingHttpHeaders;
    if (head.protocol === undefined) {
      headers = { ...pseudo, ...head.headers, ':method': 'GET' };
    } else {
      // RFC 8441 §3: a sender MUST NOT send a :protocol pseudo-header unless
      // it has received SETTINGS_ENABLE_CONNECT_PROTOCOL with a value of 1.
      const settings = await remoteSettings(session, attempt.signal);
      if (settings.enableConnectProtocol !== true) {
        throw new Error(
          `${target.host} does not accept WebSockets over HTTP/2: its SETTINGS do not enable the extended CONNECT protocol (RFC 8441 §3)`,
        );
      }
      headers = { ...pseudo, ...head.headers, ':method': 'CONNECT', ':protocol': head.protocol };
    }
    if (head.protocol === 'websocket') raiseWindows(session);
    const answer = await request(session, headers, head.protocol === undefined, attempt.signal);
    if (owned) answer.stream.once('close', () => session.close());
    return answer;
  } catch (error) {
    if (owned) session.destroy();
    throw error;
  }
}

/**
 * Why the application's session (the `http2` option) cannot carry a request
 * to `target`, or undefined when it can, or when the option is not a session.
 */
export function sessionProblem(given: ResolvedTransport['http2'], target: URL): string | undefined {
  if (!isClientSession(given)) return undefined;
  if (given.closed || given.destroyed) return 'the HTTP/2 session given in the http2 option is closed';
  // A TLS session knows the origins it may serve (RFC 8336's origin set);
  // a request for another would go to the wrong server.
  const origins = given.originSet;
  const origin = httpOrigin(target);
  if (origins !== undefined && origins.length > 0 && !origins.includes(origin)) {
    return `the HTTP/2 session given in the http2 option serves ${origins.join(', ')}, not ${origin}`;
  }
  return undefined;
}

/**
 * Connects (TLS with ALPN `h2` for a secure target; HTTP/2 with prior
 * knowledge over cleartext) and starts an HTTP/2 session on the connection.
 */
async function openSession(
  target: URL,
  transport: ResolvedTransport,
  attempt: ConnectionAttempt,
): Promise<ClientHttp2Session> {
  const secure = secureTarget(target);
  // http/1.1 is offered too, as browsers do: a server without HTTP/2 then
  // picks it, and the error below says so, rather than a TLS alert
  // (no_application_protocol) that names nothing.
  const socket = await connect(
    target,
    secure ? { ...transport, tls: { ...transport.tls, ALPNProtocols: ['h2', 'http/1.1'] } } : transport,
    attempt,
  );
  const alpn = secure ? (socket as TLSSocket).alpnProtocol : 'h2';
  if (alpn !== 'h2') {
    socket.destroy();
    throw new Error(
      `${target.host} did not agree to HTTP/2 in the TLS handshake (ALPN: ${alpn || 'none'}); it may speak HTTP/1.1 only`,
    );
  }
  const session = loadHttp2().connect(httpOrigin(target), {
    createConnection: () => socket,
    settings: { enablePush: false },
  });
  // A session's errors reach its streams; the session itself must not throw them.
  session.on('error', ignore);
  return session;
}

/** One wait per session for its server's SETTINGS, however many streams wait on it. */
const settling = new WeakMap<ClientHttp2Session, Promise<Settings>>();

/**
 * Resolves with the server's settings once its first SETTINGS frame has
 * arrived (RFC 9113 §3.4: the first frame a server sends). On a session
 * already running, a PING's acknowledgement proves it: the server's SETTINGS
 * came before it. Streams that wait together share one wait (one set of
 * listeners on the session).
 */
export function remoteSettings(session: ClientHttp2Session, signal: AbortSignal): Promise<Settings> {
  if (signal.aborted) return Promise.reject(abortError(signal.reason));
  if (session.remoteSettings.enableConnectProtocol === true) return Promise.resolve(session.remoteSettings);
  let pending = settling.get(session);
  if (pending === undefined) {
    pending = waitForSettings(session);
    settling.set(session, pending);
    const forget = (): void => {
      settling.delete(session);
    };
    pending.then(forget, forget);
  }
  const settled = pending;
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    settled.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function waitForSettings(session: ClientHttp2Session): Promise<Settings> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      cleanup();
      resolve(session.remoteSettings);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('The HTTP/2 connection closed before the server sent its SETTINGS'));
    };
    const cleanup = (): void => {
      session.off('remoteSettings', settle);
      session.off('close', onClose);
    };
    if (session.closed || session.destroyed) {
      onClose();
      return;
    }
    session.once('remoteSettings', settle);
    session.once('close', onClose);
    if (!session.connecting) {
      try {
        session.ping((error) => {
          if (error === null) settle();
        });
      } catch {
        // Too many pings in flight, or the session is closing: 'remoteSettings' or 'close' decides.
      }
    }
  });
}

function errorName(code: number | undefined): string {
  return code === undefined ? 'unknown' : (ERROR_CODES[code] ?? `error ${code}`);
}

/** Sends one request and resolves with the stream once the response head arrives. */
function request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  endStream: boolean,
  signal: AbortSignal,
): Promise<Http2Answer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal.reason));
      return;
    }
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream });
    } catch (error) {
      // A session that is closing (GOAWAY) or gone, or out of stream ids.
      reject(new Error(`The HTTP/2 session could not open a stream: ${(error as Error).message}`, { cause: error }));
      return;
    }
    // The caller listens once it has the stream; until then, and after, no
    // stream error may go unhandled.
    stream.on('error', ignore);
    let failure: Error | undefined;
    const onError = (error: Error): void => {
      failure ??= error;
    };
    const onResponse = (head: IncomingHttpHeaders): void => {
      cleanup();
      const fields: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(head)) {
        if (!name.startsWith(':') && value !== undefined) fields[name] = value;
      }
      resolve({ stream, status: Number(head[':status']), headers: fields });
    };
    const onClose = (): void => {
      cleanup();
      const reason =
        failure?.message ??
        (stream.rstCode === REFUSED_STREAM
          ? 'the server refused the stream (REFUSED_STREAM: it has as many streams open on this connection as it allows; retry on a new connection, RFC 9113 §8.7)'
          : `the server reset the stream (${errorName(stream.rstCode)})`);
      reject(new Error(`No response on the HTTP/2 stream: ${reason}`, { cause: failure }));
    };
    const onAbort = (): void => {
      cleanup();
      stream.close(CANCEL);
      reject(abortError(signal.reason));
    };
    const cleanup = (): void => {
      stream.off('response', onResponse);
      stream.off('error', onError);
      stream.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    stream.once('response', onResponse);
    stream.on('error', onError);
    stream.once('close', onClose);
    signal.addEventListener('abort', onAbort);
  });
}
