// WebSockets over HTTP/2 (RFC 8441), both factories' side of it: how the
// server socket reads its constructor's arguments when they come from an
// HTTP/2 server and answers the extended CONNECT, and how the client opens
// its stream. The transport itself is src/net/http2.ts; the checks and the
// negotiation are the opening handshake's (src/protocol/handshake.ts),
// shared with HTTP/1.1. Past the handshake the WebSocket runs on the stream
// as on a TCP connection (RFC 8441 §5): the same base, the same Connection.
//
// Why the server constructor takes the event's own arguments (and not a
// factory of its own): a faye-websocket application makes its sockets with
// `new WebSocket(request, socket, head, protocols, options)` from the
// `'upgrade'` event's arguments. Over HTTP/2 the same line takes the
// `'connect'` event's (request, response), or the `'stream'` event's
// (stream, headers): one class, one `instanceof`, and one handler can serve
// `'upgrade'` and `'connect'` alike.
//
// One session, many WebSockets: a client may open any number of extended
// CONNECT streams on one TCP connection (Node's default
// SETTINGS_MAX_CONCURRENT_STREAMS is 2^32 - 1), so a per-IP connection limit
// in front of the server bounds nothing. admitStream() counts the WebSocket
// streams of each session and refuses those past the session's limit: the
// server's own `settings.maxConcurrentStreams` when the application set one,
// else DEFAULT_MAX_WEBSOCKET_STREAMS. A refused stream is reset with
// REFUSED_STREAM, not answered with an HTTP status: RFC 9113 §5.1.2 names it
// for a stream over a concurrency limit, §8.7 guarantees the client it was
// not processed (so it may retry, on a new connection), and it is what
// nghttp2 itself sends past SETTINGS_MAX_CONCURRENT_STREAMS: a client sees
// the same refusal whichever limit it met.
//
// References:
// - RFC 8441 §4-5: https://www.rfc-editor.org/rfc/rfc8441
// - RFC 9113 §5.1.2 (stream concurrency), §6.5.2 (SETTINGS_MAX_CONCURRENT_STREAMS),
//   §8.7 (REFUSED_STREAM): https://www.rfc-editor.org/rfc/rfc9113
// - faye-websocket README, "Handling WebSocket connections in Node"
// - Node.js http2 documentation, compatibility API ('connect' event)

import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import {
  alreadyAnswered,
  type Http2Answer,
  isHttp2Headers,
  isHttp2Request,
  isHttp2Response,
  isServerStream,
  loadHttp2,
  openStream,
  REFUSED_STREAM,
  raiseWindows,
  respond,
  toHttp2Headers,
} from '../net/http2.js';
import type { ResolvedTransport } from '../net/options.js';
import type { ConnectionAttempt } from '../net/transport.js';
import type { ResolvedOptions } from '../options.js';
import {
  type Agreement,
  type ClientHandshake,
  checkExtendedConnect,
  type HandshakeRefusal,
  isRefusal,
  negotiate,
  type ProtocolChooser,
} from '../protocol/handshake.js';

/** The HTTP/2 request a server-side WebSocket answers. */
export interface Http2Peer {
  stream: ServerHttp2Stream;
  headers: IncomingHttpHeaders;
  /** The compatibility API's request, when the WebSocket was made from one. */
  request: Http2ServerRequest | undefined;
}

/**
 * The server constructor's arguments read as HTTP/2's: `(request, response)`
 * of the compatibility API or `(stream, headers)` of the `'stream'` event,
 * then `protocols, options`; a handler shared with `'upgrade'` may pass a
 * head third (a Buffer, or nothing before protocols), which HTTP/2 has none
 * of. Undefined for HTTP/1.1's `(request, socket, head)`.
 */
export function http2Arguments(
  args: readonly unknown[],
): { peer: Http2Peer; protocols: unknown; options: unknown } | undefined {
  const [first, second, ...rest] = args;
  let peer: Http2Peer;
  if (isHttp2Request(first) && isHttp2Response(second)) {
    peer = { stream: second.stream, headers: first.headers, request: first };
  } else if (isServerStream(first) && isHttp2Headers(second)) {
    peer = { stream: first, headers: second, request: undefined };
  } else {
    return undefined;
  }
  const [third, fourth, fifth] = rest;
  const isProtocols = (value: unknown): boolean => typeof value === 'string' || Array.isArray(value);
  const headSlot =
    Buffer.isBuffer(third) || ((third === undefined || third === null) && (fifth !== undefined || isProtocols(fourth)));
  return headSlot ? { peer, protocols: fourth, options: fifth } : { peer, protocols: third, options: fourth };
}

/**
 * WebSocket streams one HTTP/2 session may hold open at once when the server
 * sets no `settings.maxConcurrentStreams` of its own: RFC 9113 §6.5.2's
 * recommended floor for SETTINGS_MAX_CONCURRENT_STREAMS.
 */
export const DEFAULT_MAX_WEBSOCKET_STREAMS = 100;

/** Node's SETTINGS_MAX_CONCURRENT_STREAMS when the server sets none: no limit. */
const UNLIMITED_STREAMS = 2 ** 32 - 1;

/** WebSocket streams open per session. */
const openStreams = new WeakMap<Http2Session, number>();
/** The session a counted stream belongs to (`stream.session` is gone once it closes). */
const SESSION = Symbol('isosocket.session');
type CountedStream = ServerHttp2Stream & { [SESSION]?: Http2Session | undefined };

/** How many WebSocket streams `session` may hold open at once. */
export function maxWebSocketStreams(session: Http2Session): number {
  const advertised = session.localSettings?.maxConcurrentStreams;
  return advertised !== undefined && advertised < UNLIMITED_STREAMS ? advertised : DEFAULT_MAX_WEBSOCKET_STREAMS;
}

/** How many WebSocket streams `session` holds open. */
export function webSocketStreams(session: Http2Session): number {
  return openStreams.get(session) ?? 0;
}

/**
 * Counts the peer's stream as one of its session's WebSockets until it
 * closes; past the session's limit (maxWebSocketStreams), resets it with
 * REFUSED_STREAM and says why. Undefined when admitted.
 */
export function admitStream(peer: Http2Peer): string | undefined {
  const stream = peer.stream as CountedStream;
  const session = stream.session as Http2Session | undefined;
  if (session === undefined) return undefined;
  const count = openStreams.get(session) ?? 0;
  const limit = maxWebSocketStreams(session);
  if (count >= limit) {
    if (!stream.destroyed && !stream.closed) {
      // Node reports a stream closed with an error code as an 'error' on it:
      // nobody else listens to this one.
      stream.on('error', ignore);
      stream.close(REFUSED_STREAM);
    }
    return (
      `Refused an HTTP/2 WebSocket stream (REFUSED_STREAM): its session already holds ${count} ` +
      `(the limit is the server's settings.maxConcurrentStreams, else ${DEFAULT_MAX_WEBSOCKET_STREAMS})`
    );
  }
  openStreams.set(session, count + 1);
  raiseWindows(session);
  stream[SESSION] = session;
  stream.once('close', releaseStream);
  return undefined;
}

function ignore(): void {}

/** A counted stream closed: its place on the session is free. Shared by every stream. */
function releaseStream(this: CountedStream): void {
  const session = this[SESSION];
  if (session === undefined) return;
  this[SESSION] = undefined;
  const count = (openStreams.get(session) ?? 1) - 1;
  if (count > 0) openStreams.set(session, count);
  else openStreams.delete(session);
}

/**
 * Why the stream cannot be this WebSocket's: another listener (Node's
 * compatibility layer, most often) already answered it. Undefined when free.
 */
export function answeredBefore(peer: Http2Peer): string | undefined {
  return peer.stream.headersSent ? alreadyAnswered(peer.stream) : undefined;
}

/**
 * Checks the extended CONNECT and answers it on the stream: 200 with the
 * agreed subprotocol and extensions and the application's headers, or the
 * refusal's status with a text body (`refused`'s, when given: a server
 * shutting down). Returns the agreement, or why there is
 * none (a refusal, or a stream that was already answered or is gone).
 */
export function answerExtendedConnect(
  peer: Http2Peer,
  supported: readonly string[] | ProtocolChooser,
  resolved: ResolvedOptions,
  refused?: HandshakeRefusal,
): Agreement | { message: string } {
  const { stream, headers } = peer;
  const answered = answeredBefore(peer);
  if (answered !== undefined) return { message: answered };
  if (stream.destroyed || stream.closed) {
    return { message: 'The HTTP/2 stream closed before the WebSocket handshake completed' };
  }
  const refusal = refused ?? checkExtendedConnect(headers);
  // The chooser gets a request, as over HTTP/1.1: the compatibility API's,
  // made here for a stream (only then, as it listens on the stream).
  const request =
    peer.request ??
    (typeof supported === 'function' ? new (loadHttp2().Http2ServerRequest)(stream, headers, {}, []) : { headers });
  const agreement = refusal ?? negotiate(request as unknown as IncomingMessage, supported, resolved.extensions);
  if (isRefusal(agreement)) {
    respond(
      stream,
      agreement.status,
      [['content-type', 'text/plain; charset=utf-8'], ...Object.entries(agreement.headers)],
      `${agreement.message}\n`,
    );
    return { message: agreement.message };
  }
  // RFC 8441 §5: the 2xx answer carries Sec-WebSocket-Protocol and
  // Sec-WebSocket-Extensions as RFC 6455's 101 does; no Upgrade, Connection
  // or Sec-WebSocket-Accept.
  const fields: Array<readonly [string, string]> = [...resolved.headers];
  if (agreement.protocol) fields.push(['sec-websocket-protocol', agreement.protocol]);
  if (agreement.extensions) fields.push(['sec-websocket-extensions', agreement.extensions]);
  if (!respond(stream, 200, fields)) {
    return { message: 'The HTTP/2 stream closed before the WebSocket handshake completed' };
  }
  return agreement;
}

/**
 * Opens a client WebSocket's stream: an extended CONNECT carrying the
 * opening handshake's headers, less those HTTP/2 does without (Upgrade,
 * Connection, Sec-WebSocket-Key: RFC 8441 §5).
 */
export function openWebSocketStream(
  target: URL,
  transport: ResolvedTransport,
  attempt: ConnectionAttempt,
  handshake: ClientHandshake,
): Promise<Http2Answer> {
  const pairs = Object.entries(handshake.headers).filter(([name]) => name.toLowerCase() !== 'sec-websocket-key');
  return openStream(target, transport, attempt, { protocol: 'websocket', headers: toHttp2Headers(pairs, 'request') });
}
