// What the server-side classes read off an incoming HTTP request, shared by
// the WebSocket server socket and the EventSource endpoint.
//
// References:
// - RFC 9110 §7.2 (Host), RFC 9113 §8.3.1 (:authority over HTTP/2), and the
//   de facto X-Forwarded-Proto of TLS-terminating proxies (honoured when the
//   application says it is behind one, as Express's `trust proxy`)

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { isSecureRequest } from '../protocol/handshake.js';

/** The first value of a request header, or `''`. */
export function firstHeader(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

/**
 * The URL the client asked for: the secure scheme when the socket is TLS, or,
 * when `trustProxy` says a TLS-terminating proxy is in front, when it says the
 * request came over TLS (`X-Forwarded-Proto: https` and the like); then host
 * and path. Without `trustProxy` a client cannot choose the scheme.
 */
export function requestUrl(
  request: IncomingMessage,
  schemes: { plain: string; secure: string },
  trustProxy = false,
): string {
  const secure =
    (request.socket as Partial<TLSSocket> | undefined)?.encrypted === true || (trustProxy && isSecureRequest(request));
  // RFC 9113 §8.3.1: over HTTP/2 (the compatibility API's request), :authority replaces Host.
  const host = firstHeader(request.headers.host) || firstHeader(request.headers[':authority']) || 'localhost';
  return `${secure ? schemes.secure : schemes.plain}//${host}${request.url ?? '/'}`;
}
