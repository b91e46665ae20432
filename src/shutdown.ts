// Graceful shutdown: everything a server accepted, closed in one call.
// `server.close()` stops new connections and `closeAllConnections()` drops
// HTTP ones, but an upgraded socket is the application's, not the server's:
// until now the application kept a Set of its WebSockets to close them.
// Here the server WebSocket (HTTP/1.1 upgrade or HTTP/2 extended CONNECT)
// and the server EventSource register themselves when they are made, in a
// Set and a Map per server (a WeakMap keyed by the http, https or http2 server that
// accepted the connection), and leave them when they close: the application
// keeps no registry, and a server that is gone takes its entry with it.
//
// Calling contract:
// - refusalWhileShuttingDown() + acceptWebSocket() and acceptEventStream()
//   are the constructors' hooks: they register the new socket or stream with
//   its server, or, once that server is shutting down, refuse it with 503
//   (through the WebSocket handshake's own refusal, or the event stream's
//   response). A server WebSocket calls its registry's release() once CLOSED;
//   an event stream leaves when its response closes.
// - shutdown(server, { timeout }) marks the server as shutting down (from
//   then on every new WebSocket and event stream on it is refused), sends
//   close 1001 (Going Away) to every open WebSocket and ends every event
//   stream, sends GOAWAY on the HTTP/2 sessions they came on (an HTTP/2
//   connection outlives its streams: without it `server.close()` would wait
//   for the client to hang up), waits until all have closed or `timeout` ms
//   have passed, then terminates what is left. It resolves once nothing is
//   left; it never rejects, and a second call returns the first call's
//   promise.
// - It does not close the server or plain HTTP connections: that is the HTTP
//   side's, `server.close()` and `closeIdleConnections()` (or
//   http-terminator), run beside it.
//
// References:
// - RFC 6455 §7.4.1: 1001 indicates that an endpoint is "going away", such as
//   a server going down: https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1
// - RFC 9113 §6.8, GOAWAY: https://www.rfc-editor.org/rfc/rfc9113#section-6.8
// - RFC 9110 §15.6.4, 503 Service Unavailable: https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4
// - HTML, server-sent events (a stream that ends is reconnected; a non-200 answer is not)
// - Node.js http: server.close(), server.closeIdleConnections()
// Why a registry per server, and why a WebSocket leaves it by a call rather
// than a listener: docs/decisions/shutdown-registry.md

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2';
import type { Duplex } from 'node:stream';
import { validateOptionKeys } from './options.js';
import { GOING_AWAY } from './protocol/codes.js';
import type { HandshakeRefusal } from './protocol/handshake.js';

/** Options of {@link shutdown}. */
export interface ShutdownOptions {
  /**
   * Milliseconds to wait for the closing handshakes and the event streams'
   * ends before terminating what is left. Default 5000.
   */
  timeout?: number;
}

/** What {@link shutdown} closed. */
export interface ShutdownResult {
  /** WebSockets and event streams that closed within the timeout. */
  closed: number;
  /** Those still open at the timeout, then terminated. */
  terminated: number;
}

/** The default of `timeout`, in milliseconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 5000;

/** A server WebSocket, as shutdown sees it. */
interface AcceptedWebSocket {
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** A server EventSource, as shutdown sees it. */
interface AcceptedEventStream {
  close(): boolean;
}

type Response = ServerResponse | Http2ServerResponse;

const SHUTTING_DOWN: HandshakeRefusal = {
  status: 503,
  reason: 'Service Unavailable',
  headers: {},
  message: 'The server is shutting down (503 Service Unavailable)',
};

/** Everything one server accepted that is still open. */
class Accepted {
  readonly webSockets = new Set<AcceptedWebSocket>();
  readonly eventStreams = new Map<Response, AcceptedEventStream>();
  /** The HTTP/2 sessions those came on, until they close. */
  readonly sessions = new Set<Http2Session>();
  /** Set by shutdown(): its promise, for a second call. */
  done: Promise<ShutdownResult> | undefined;
  #drained: (() => void) | undefined;

  /**
   * A WebSocket of this server closed. The server socket calls it once it
   * is CLOSED, not through a 'close' listener, which costs each idle
   * connection several times the Set entry (docs/decisions/shutdown-registry.md).
   */
  release(ws: AcceptedWebSocket): void {
    this.webSockets.delete(ws);
    this.#check();
  }

  /** One listener for every event stream of this server (`this` is the response). */
  readonly releaseEventStream = ((accepted: Accepted) =>
    function (this: Response): void {
      accepted.eventStreams.delete(this);
      accepted.#check();
    })(this);

  /** One listener for every such session (`this` is the session). */
  readonly releaseSession = ((accepted: Accepted) =>
    function (this: Http2Session): void {
      accepted.sessions.delete(this);
    })(this);

  /** Registers the HTTP/2 session `transport` (a stream) belongs to, if it is one. */
  addSession(transport: Duplex): void {
    const session = (transport as { session?: Http2Session }).session;
    if (session === undefined || this.sessions.has(session)) return;
    this.sessions.add(session);
    session.once('close', this.releaseSession);
  }

  get size(): number {
    return this.webSockets.size + this.eventStreams.size;
  }

  /** Resolves when nothing is left open. */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.#drained = resolve;
      this.#check();
    });
  }

  #check(): void {
    if (this.#drained === undefined || this.size > 0) return;
    const drained = this.#drained;
    this.#drained = undefined;
    drained();
  }
}

const servers = new WeakMap<object, Accepted>();

/** The server that accepted `transport`: a net socket's `server`, an HTTP/2 stream's session's. */
function serverOf(transport: Duplex | undefined): object | undefined {
  const carrier = transport as { server?: unknown; session?: { server?: unknown } } | undefined;
  const server = carrier?.server ?? carrier?.session?.server;
  return typeof server === 'object' && server !== null ? server : undefined;
}

function acceptedBy(server: object): Accepted {
  let accepted = servers.get(server);
  if (accepted === undefined) {
    accepted = new Accepted();
    servers.set(server, accepted);
  }
  return accepted;
}

/** The registry a server WebSocket is in until it closes (it calls `release(this)` then). */
export type WebSocketRegistry = Pick<Accepted, 'release'>;

/**
 * @internal The server WebSocket constructor's hook: the 503 refusal to
 * answer the handshake with, when the server that accepted `transport` (the
 * upgraded socket, or the HTTP/2 stream) is shutting down.
 */
export function refusalWhileShuttingDown(transport: Duplex): HandshakeRefusal | undefined {
  const server = serverOf(transport);
  return server !== undefined && servers.get(server)?.done !== undefined ? SHUTTING_DOWN : undefined;
}

/**
 * @internal The server WebSocket constructor's hook: registers `ws` with the
 * server that accepted `transport`; returns the registry, which `ws` calls
 * `release(ws)` on once CLOSED.
 */
export function acceptWebSocket(ws: AcceptedWebSocket, transport: Duplex): WebSocketRegistry | undefined {
  const server = serverOf(transport);
  if (server === undefined) return undefined;
  const accepted = acceptedBy(server);
  accepted.webSockets.add(ws);
  accepted.addSession(transport);
  return accepted;
}

/**
 * @internal The server EventSource constructor's hook: registers the stream
 * with its server until the response closes, and returns true. Once that
 * server is shutting down, answers the request with 503 and returns false.
 */
export function acceptEventStream(
  es: AcceptedEventStream,
  request: IncomingMessage | Http2ServerRequest,
  response: Response,
): boolean {
  const http2 = 'stream' in request;
  const transport = http2 ? request.stream : request.socket;
  const server = serverOf(transport);
  if (server === undefined) return true;
  const accepted = acceptedBy(server);
  if (accepted.done !== undefined) {
    // HTTP/2 has no Connection header (RFC 9113 §8.2.2); over HTTP/1.1 the
    // connection closes, so the client's next request reaches a new one.
    const connection: Record<string, string> = http2 ? {} : { connection: 'close' };
    (response as ServerResponse)
      .writeHead(SHUTTING_DOWN.status, { 'content-type': 'text/plain; charset=utf-8', ...connection })
      .end(`${SHUTTING_DOWN.message}\n`);
    return false;
  }
  accepted.eventStreams.set(response, es);
  response.on('close', accepted.releaseEventStream);
  accepted.addSession(transport);
  return true;
}

/**
 * Closes everything `server` accepted through isosocket: close 1001 (Going
 * Away) to every server WebSocket, over HTTP/1.1 and HTTP/2, and the end of
 * every event stream; waits for the closing handshakes up to `timeout`
 * milliseconds, then terminates what is left. From the call on, new
 * WebSockets and event streams on `server` are refused with 503.
 *
 * It does not close `server` itself: call `server.close()` (and
 * `closeIdleConnections()`, or use http-terminator) beside it.
 *
 * @param server The http, https or http2 server whose `upgrade`, `connect`,
 * `stream` or `request` handlers made the WebSockets and event streams.
 * @returns What was closed and what had to be terminated; never rejects.
 * @see https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1
 * @example
 * process.once('SIGTERM', async () => {
 *   server.close();
 *   server.closeIdleConnections();
 *   await shutdown(server, { timeout: 5000 });
 * });
 */
export function shutdown(server: object, options?: ShutdownOptions): Promise<ShutdownResult> {
  if (typeof server !== 'object' || server === null || typeof (server as { listen?: unknown }).listen !== 'function') {
    throw new TypeError(
      'shutdown(server): server must be the http, https or http2 server whose handlers made the WebSockets and event streams',
    );
  }
  validateOptionKeys(options, ['timeout']);
  const timeout = options?.timeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new TypeError('timeout must be a non-negative number of milliseconds (Infinity waits for every peer)');
  }
  const accepted = acceptedBy(server);
  accepted.done ??= closeAll(accepted, timeout);
  return accepted.done;
}

async function closeAll(accepted: Accepted, timeout: number): Promise<ShutdownResult> {
  const total = accepted.size;
  // RFC 6455 §7.4.1: 1001, the server is going away.
  for (const ws of accepted.webSockets) ws.close(GOING_AWAY);
  for (const es of accepted.eventStreams.values()) es.close();
  // RFC 9113 §6.8: GOAWAY, so a client opens no new stream on a session that
  // carried one; Node closes each once its last stream is done.
  for (const session of accepted.sessions) if (!session.closed) session.close();
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([
    accepted.drained().then(() => false),
    ...(Number.isFinite(timeout)
      ? [new Promise<boolean>((resolve) => (timer = setTimeout(resolve, timeout, true)))]
      : []),
  ]);
  clearTimeout(timer);
  let terminated = 0;
  if (late) {
    // The peers that never answered the close, or never read the end.
    terminated = accepted.size;
    for (const ws of accepted.webSockets) ws.terminate();
    for (const response of accepted.eventStreams.keys()) response.destroy();
    await accepted.drained();
  }
  return { closed: total - terminated, terminated };
}
