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
// References:
// - RFC 8441 §4-5: https://www.rfc-editor.org/rfc/rfc8441
// - faye-websocket README, "Handling WebSocket connections in Node"
// - Node.js http2 documentation, compatibility API ('connect' event)

import type { IncomingMessage } from 'node:http';
import http2, { type Http2ServerRequest, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import {
  alreadyAnswered,
  type Http2Answer,
  isHttp2Headers,
  isHttp2Request,
  isHttp2Response,
  isServerStream,
  openStream,
  respond,
  toHttp2Headers,
} from '../net/http2.js';
import type { ConnectionAttempt, ResolvedTransport } from '../net/transport.js';
import type { ResolvedOptions } from '../options.js';
import {
  type Agreement,
  type ClientHandshake,
  checkExtendedConnect,
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
 * Why the stream cannot be this WebSocket's: another listener (Node's
 * compatibility layer, most often) already answered it. Undefined when free.
 */
export function answeredBefore(peer: Http2Peer): string | undefined {
  return peer.stream.headersSent ? alreadyAnswered(peer.stream) : undefined;
}

/**
 * Checks the extended CONNECT and answers it on the stream: 200 with the
 * agreed subprotocol and extensions and the application's headers, or the
 * refusal's status with a text body. Returns the agreement, or why there is
 * none (a refusal, or a stream that was already answered or is gone).
 */
export function answerExtendedConnect(
  peer: Http2Peer,
  supported: readonly string[] | ProtocolChooser,
  resolved: ResolvedOptions,
): Agreement | { message: string } {
  const { stream, headers } = peer;
  const answered = answeredBefore(peer);
  if (answered !== undefined) return { message: answered };
  if (stream.destroyed || stream.closed) {
    return { message: 'The HTTP/2 stream closed before the WebSocket handshake completed' };
  }
  const refusal = checkExtendedConnect(headers);
  // The chooser gets a request, as over HTTP/1.1: the compatibility API's,
  // made here for a stream (only then, as it listens on the stream).
  const request =
    peer.request ??
    (typeof supported === 'function' ? new http2.Http2ServerRequest(stream, headers, {}, []) : { headers });
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
