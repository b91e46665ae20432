// The opening handshake, both ends, as functions of headers: the server's
// checks on a request, the negotiation of subprotocol and extensions (shared
// by HTTP/1.1 and HTTP/2), the HTTP/1.1 101 answer (written by
// websocket-driver), the client's request headers and its checks on the
// answer.
//
// websocket-driver (loaded on first use, vendor.cts) writes the server's 101
// and is dropped right after; it is shown only the request headers its 101
// needs, with the subprotocol already chosen. The client reads the server's
// answer with Node's own HTTP parser (an `upgrade` response of http.request).
// Why, and the measurement: docs/decisions/server-101-by-the-driver.md.
//
// Both lists a peer sends are read by offers.ts, lazily and within bounds
// (MAX_SUBPROTOCOLS, MAX_EXTENSION_OFFERS, MAX_EXTENSION_PARAMS), and a
// peer's text is quoted in a message only as a short excerpt.
//
// References:
// - RFC 6455 §4.1 (client requirements), §4.2.1-4.2.2 (reading the client's
//   handshake, sending the server's), §4.4 (versions), §11.3.4 (subprotocols):
//   https://www.rfc-editor.org/rfc/rfc6455
// - RFC 8441 §4-5, the extended CONNECT that opens a WebSocket on an HTTP/2
//   stream, with the same Sec-WebSocket-* headers:
//   https://www.rfc-editor.org/rfc/rfc8441
// - RFC 9110 §15.6.2, 501 Not Implemented (an unknown :protocol)
// - faye/websocket-driver-node lib/websocket/driver/hybi.js (the constructor's
//   protocol choice, _handshakeResponse) and driver/server.js (Server.http:
//   what it reads of the request)

import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { acceptExtensions, type ExtensionConfig, type Negotiated, offerExtensions } from './extensions.js';
import { cut, excerpt, MAX_SUBPROTOCOLS, readTokenList } from './offers.js';
import lazy from './vendor.cjs';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Why a handshake is refused: the HTTP status, its headers, and a message. */
export interface HandshakeRefusal {
  status: number;
  reason: string;
  headers: Record<string, string>;
  message: string;
}

function refuse(message: string, status = 400, reason = 'Bad Request'): HandshakeRefusal {
  return { status, reason, headers: {}, message };
}

/** Whether the Connection header's comma-separated tokens include `Upgrade`, in any case (RFC 9110 §7.6.1). */
function hasUpgradeToken(headers: IncomingHttpHeaders): boolean {
  return String(headers.connection ?? '')
    .toLowerCase()
    .split(',')
    .some((token) => token.trim() === 'upgrade');
}

/** Whether the request asks for a WebSocket upgrade (websocket-driver's test). */
export function isWebSocket(request: IncomingMessage): boolean {
  return lazy.websocketDriver().isWebSocket(request);
}

/** Whether a TLS-terminating proxy says the request came over TLS (X-Forwarded-Proto and the like). */
export function isSecureRequest(request: IncomingMessage): boolean {
  return lazy.websocketDriver().isSecureRequest(request);
}

/** `Sec-WebSocket-Accept` for a key: base64 of SHA-1 of the key and the GUID (§4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** Returns why an HTTP/1.1 request cannot be upgraded, or undefined when it can (§4.2.1). */
export function checkRequest(method: string | undefined, headers: IncomingHttpHeaders): HandshakeRefusal | undefined {
  // 1. An HTTP/1.1 or higher GET request.
  if (method !== 'GET') return refuse(`A WebSocket handshake must be a GET request, not ${method ?? 'none'}`);
  // 3. An |Upgrade| header field containing the value "websocket".
  if (String(headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    return refuse("The Upgrade header must be 'websocket'");
  }
  // 4. A |Connection| header field that includes the token "Upgrade".
  if (!hasUpgradeToken(headers)) return refuse("The Connection header must include 'Upgrade'");
  // 5. A |Sec-WebSocket-Key| header field with a base64-encoded value that,
  //    when decoded, is 16 bytes in length.
  const key = headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY.test(key.trim())) {
    return refuse('Missing or malformed Sec-WebSocket-Key (16 bytes, base64)');
  }
  return checkVersion(headers);
}

/** §4.2.1 step 6, and §4.4: a version other than 13 gets 426 with the one supported. */
export function checkVersion(headers: IncomingHttpHeaders): HandshakeRefusal | undefined {
  if (headers['sec-websocket-version'] === '13') return undefined;
  return {
    status: 426,
    reason: 'Upgrade Required',
    headers: { 'Sec-WebSocket-Version': '13' },
    message: `Unsupported Sec-WebSocket-Version: ${String(headers['sec-websocket-version'] ?? 'none')} (13 is supported)`,
  };
}

/**
 * Whether HTTP/2 request headers (the `'stream'` event's, or an
 * `Http2ServerRequest`'s) are an extended CONNECT for a WebSocket (RFC 8441 §4).
 */
export function isExtendedConnect(headers: IncomingHttpHeaders): boolean {
  return headers[':method'] === 'CONNECT' && String(headers[':protocol'] ?? '').toLowerCase() === 'websocket';
}

/**
 * Returns why an HTTP/2 request cannot open a WebSocket, or undefined when it
 * can (RFC 8441 §4-5): 400 for a request that is not an extended CONNECT or
 * lacks a pseudo-header, 501 for a `:protocol` other than `websocket`, 426 for
 * a version other than 13. There is no key to check: HTTP/2 has no
 * Sec-WebSocket-Key or Sec-WebSocket-Accept.
 */
export function checkExtendedConnect(headers: IncomingHttpHeaders): HandshakeRefusal | undefined {
  const method = headers[':method'];
  // RFC 8441 §4: the :method pseudo-header field is set to CONNECT.
  if (method !== 'CONNECT') {
    return refuse(`A WebSocket over HTTP/2 is opened with an extended CONNECT, not ${method ?? 'no method'}`);
  }
  // RFC 8441 §4: a new pseudo-header field :protocol ... indicating the
  // desired protocol to be spoken on the tunnel created by CONNECT. Without
  // it, CONNECT asks for a TCP tunnel (RFC 9113 §8.5), which this is not.
  const protocol = headers[':protocol'];
  if (protocol === undefined || protocol === '') {
    return refuse('A CONNECT without :protocol asks for a tunnel, not a WebSocket (RFC 8441 §4)');
  }
  // RFC 9110 §15.6.2: the server does not support the functionality required.
  if (String(protocol).toLowerCase() !== 'websocket') {
    return refuse(
      `Unsupported :protocol ${JSON.stringify(String(protocol).slice(0, 100))}; this endpoint speaks websocket`,
      501,
      'Not Implemented',
    );
  }
  // RFC 8441 §4: on requests that contain the :protocol pseudo-header field,
  // the :scheme and :path pseudo-header fields of the target URI MUST also be
  // included; and :authority, as on every CONNECT (RFC 9113 §8.5).
  for (const name of [':scheme', ':path', ':authority'] as const) {
    const value = headers[name];
    if (typeof value !== 'string' || value === '') return refuse(`The extended CONNECT has no ${name}`);
  }
  // RFC 8441 §5: Sec-WebSocket-Version is used as in RFC 6455 (§4.4: 426 with 13).
  return checkVersion(headers);
}

/**
 * The HTTP/1.1 response that refuses a handshake, or (through
 * `WebSocket.refuse`) an upgrade the application will not take: the status,
 * `Connection: close`, the refusal's headers and a text body, by default
 * the message.
 */
export function refusalResponse(
  refusal: Pick<HandshakeRefusal, 'status' | 'reason' | 'headers'> & { message?: string },
  body = `${refusal.message ?? ''}\n`,
): string {
  const lines = [
    `HTTP/1.1 ${refusal.status} ${refusal.reason}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(refusal.headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Chooses a subprotocol from those the client offered, or returns none. It
 * is given the first {@link MAX_SUBPROTOCOLS} the client listed, in order.
 */
export type ProtocolChooser = (offered: string[], request: IncomingMessage) => string | false | null | undefined;

/** What the server agreed to: its answer, as it sends it and as the client reads it. */
export interface Agreement {
  /** The subprotocol chosen, or `''`. */
  protocol: string;
  /** The Sec-WebSocket-Extensions response, or `''`. */
  extensions: string;
  negotiated: Negotiated | undefined;
}

/**
 * The server's side of the negotiation, for HTTP/1.1 and HTTP/2 alike:
 * chooses the subprotocol (the first the client offers that the server
 * supports, or the application's chooser) and answers the extension offer.
 * Returns a refusal for a malformed Sec-WebSocket-Protocol or
 * Sec-WebSocket-Extensions header, or a chooser that picks what was not offered.
 *
 * Reads at most {@link MAX_SUBPROTOCOLS} entries of the protocol list and
 * {@link MAX_EXTENSION_OFFERS} extension offers; the rest are not read, and
 * are as protocols and extensions the server does not support.
 */
export function negotiate(
  request: IncomingMessage,
  protocols: readonly string[] | ProtocolChooser,
  extensions: ExtensionConfig,
): Agreement | HandshakeRefusal {
  const header = request.headers['sec-websocket-protocol'];
  let offered: string[] = [];
  if (header !== undefined) {
    // RFC 6455 §4.1: 1#token; HTTP/2 may give several fields, read as one list.
    try {
      offered = readTokenList(String(header), MAX_SUBPROTOCOLS).elements;
    } catch (error) {
      return refuse(`Malformed Sec-WebSocket-Protocol header: ${(error as Error).message}`);
    }
  }
  let protocol = '';
  if (typeof protocols === 'function') {
    if (offered.length > 0) {
      const chosen = protocols([...offered], request);
      if (typeof chosen === 'string' && chosen !== '') {
        if (!offered.includes(chosen)) {
          return refuse(
            `The server chose the subprotocol '${chosen}', which the client did not offer`,
            500,
            'Internal Server Error',
          );
        }
        protocol = chosen;
      }
    }
  } else {
    // §4.2.2: the first of the client's, in its order of preference, that the server supports.
    protocol = offered.find((candidate) => protocols.includes(candidate)) ?? '';
  }
  let agreed: ReturnType<typeof acceptExtensions>;
  try {
    agreed = acceptExtensions(extensions, joinHeader(request.headers['sec-websocket-extensions']));
  } catch (error) {
    return refuse(`Malformed Sec-WebSocket-Extensions header: ${cut((error as Error).message, 200)}`);
  }
  return { protocol, extensions: agreed?.header ?? '', negotiated: agreed?.negotiated };
}

/** A header's values as one list (RFC 9110 §5.3: fields of one name combine with commas). */
export function joinHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Whether `negotiate` refused the handshake. */
export function isRefusal(value: Agreement | HandshakeRefusal): value is HandshakeRefusal {
  return 'status' in value;
}

/**
 * The HTTP/1.1 101 answer to a checked request, written by websocket-driver
 * with the agreed subprotocol and extensions and the application's headers.
 */
export function switchingProtocols(
  request: IncomingMessage,
  agreement: Agreement,
  headers: ReadonlyArray<readonly [string, string]>,
): Buffer {
  // What Server.http, the Hybi driver and its 101 read of a request, and
  // nothing more: the subprotocol list is the one chosen, and there is no
  // extension offer (ours is answered below), so the driver parses neither.
  const given = request.headers;
  const view = {
    method: request.method,
    url: request.url,
    headers: {
      host: given.host,
      upgrade: given.upgrade,
      connection: given.connection,
      'sec-websocket-key': given['sec-websocket-key'],
      'sec-websocket-version': given['sec-websocket-version'],
      ...(agreement.protocol ? { 'sec-websocket-protocol': agreement.protocol } : {}),
    },
  };
  const driver = lazy.websocketDriver().http(view, { protocols: agreement.protocol ? [agreement.protocol] : [] });
  const written: Buffer[] = [];
  driver.io.on('data', (chunk: Buffer) => written.push(chunk));
  // The driver's own 'error' (a request it will not answer) must reach no one.
  driver.on('error', () => {});
  for (const [name, value] of headers) driver.setHeader(name, value);
  if (agreement.extensions) driver.setHeader('Sec-WebSocket-Extensions', agreement.extensions);
  driver.start();
  return written.length === 1 ? (written[0] as Buffer) : Buffer.concat(written);
}

/** What a client sends, and what it must check in the answer. */
export interface ClientHandshake {
  /** Request headers: Upgrade, Connection, key, version, protocols, extensions, the application's. */
  headers: Record<string, string>;
  readonly key: string;
  readonly protocols: readonly string[];
  readonly offer: ReturnType<typeof offerExtensions>;
}

/** §4.1: the client's opening handshake request headers. */
export function clientHandshake(
  protocols: readonly string[],
  extensions: ExtensionConfig,
  extra: ReadonlyArray<readonly [string, string]>,
): ClientHandshake {
  const key = randomBytes(16).toString('base64');
  const offer = offerExtensions(extensions);
  const headers: Record<string, string> = {};
  for (const [name, value] of extra) headers[name] = value;
  headers.Upgrade = 'websocket';
  headers.Connection = 'Upgrade';
  headers['Sec-WebSocket-Key'] = key;
  headers['Sec-WebSocket-Version'] = '13';
  if (protocols.length > 0) headers['Sec-WebSocket-Protocol'] = protocols.join(', ');
  if (offer?.header) headers['Sec-WebSocket-Extensions'] = offer.header;
  return { headers, key, protocols, offer };
}

/**
 * §4.1, the client's checks on the server's answer to the upgrade, after a
 * 101 (HTTP/1.1: `upgrade` and `accept` are checked) or a 2xx to an extended
 * CONNECT (HTTP/2: they are absent, RFC 8441 §5). Throws an Error saying what
 * is wrong.
 */
export function checkAnswer(handshake: ClientHandshake, headers: IncomingHttpHeaders, http1: boolean): Agreement {
  if (http1) {
    // 2-3. |Upgrade| "websocket" and |Connection| "Upgrade", case-insensitively.
    if (String(headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      throw new Error("The handshake answer's Upgrade header is not 'websocket'");
    }
    if (!hasUpgradeToken(headers)) throw new Error("The handshake answer's Connection header is not 'Upgrade'");
    // 4. |Sec-WebSocket-Accept| is base64 of SHA-1 of the key and the GUID.
    if (headers['sec-websocket-accept'] !== acceptFor(handshake.key)) {
      throw new Error('The handshake answer has a wrong Sec-WebSocket-Accept');
    }
  }
  // 6. A subprotocol the client did not offer fails the connection.
  const protocol = joinHeader(headers['sec-websocket-protocol'])?.trim() ?? '';
  if (protocol !== '' && !handshake.protocols.includes(protocol)) {
    throw new Error(`The server chose the subprotocol '${cut(protocol)}', which was not offered`);
  }
  // 5. An extension the client did not offer fails the connection.
  const extensions = joinHeader(headers['sec-websocket-extensions']) ?? '';
  let negotiated: Negotiated | undefined;
  if (extensions !== '') {
    if (!handshake.offer) {
      throw new Error(`The server answered with extensions that were not offered: ${excerpt(extensions)}`);
    }
    negotiated = handshake.offer.activate(extensions);
  }
  return { protocol, extensions, negotiated };
}
