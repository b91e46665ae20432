// The server-side WebSocket: made inside an HTTP server's 'upgrade' handler
// from (request, socket, head), faye-websocket's constructor, with W3C events;
// over HTTP/2, from the 'connect' event's (request, response) or the 'stream'
// event's (stream, headers) (RFC 8441; the HTTP/2 side is ./http2.ts).
// The server factory over the shared base: it checks and answers the opening
// handshake, and holds the server's side of the contract (send() queues while
// CONNECTING and returns a boolean; close() takes every code an endpoint may
// send).
//
// References:
// - faye-websocket README, "Handling WebSocket connections in Node"
// - WHATWG WebSockets: https://websockets.spec.whatwg.org/
// - RFC 6455 §4.2, server-side requirements: https://www.rfc-editor.org/rfc/rfc6455#section-4.2
// - RFC 8441, WebSockets over HTTP/2: https://www.rfc-editor.org/rfc/rfc8441

import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { DiagnosticsRole } from '../diagnostics.js';
import { validateServerCloseArguments } from '../dom/close.js';
import type { SendData } from '../dom/data.js';
import { validateHeaders } from '../net/headers.js';
import { isHttp2Headers, isHttp2Request, isHttp2Response, isServerStream, respond, streamUrl } from '../net/http2.js';
import { firstHeader, requestUrl } from '../net/request.js';
import {
  type BinaryType,
  resolveOptions,
  SERVER_OPTION_KEYS,
  type ServerOptions,
  validateOptionKeys,
} from '../options.js';
import { NORMAL_CLOSURE } from '../protocol/codes.js';
import {
  type Agreement,
  checkRequest,
  isExtendedConnect,
  isRefusal,
  isWebSocket,
  negotiate,
  refusalResponse,
  switchingProtocols,
} from '../protocol/handshake.js';
import { acceptWebSocket, refusalWhileShuttingDown, shutdown, type WebSocketRegistry } from '../shutdown.js';
import { WebSocketBase } from './base.js';
import { Client } from './client.js';
import { admitStream, answerExtendedConnect, answeredBefore, http2Arguments } from './http2.js';
import { PongEvent } from './pong-event.js';
import type { SendCallback } from './sender.js';

/**
 * A WebSocket connection accepted by an HTTP server, with the browser
 * `WebSocket` interface (server contract: faye-websocket's).
 *
 * @see https://websockets.spec.whatwg.org/#the-websocket-interface
 * @example
 * server.on('upgrade', (request, socket, head) => {
 *   if (!WebSocket.isWebSocket(request)) return socket.destroy();
 *   const ws = new WebSocket(request, socket, head, ['chat'], { ping: 30 });
 *   ws.onmessage = (event) => ws.send(event.data);
 * });
 * // HTTP/2 (RFC 8441), on an http2 server with settings: { enableConnectProtocol: true }:
 * server.on('connect', (request, response) => {
 *   const ws = new WebSocket(request, response, ['chat'], { ping: 30 });
 * });
 */
export class WebSocket extends WebSocketBase<BinaryType> {
  /** The registry of its server's open sockets, for shutdown (../shutdown.ts), until it closes. */
  #registry: WebSocketRegistry | undefined;

  /** The Node client with the browser's interface (faye: `WebSocket.Client`). */
  static readonly Client = Client;

  /**
   * Whether the request asks for a WebSocket: an HTTP/1.1 upgrade (a GET with
   * `Connection: upgrade` and `Upgrade: websocket`), or an HTTP/2 extended
   * CONNECT with `:protocol` `websocket` (RFC 8441), given as the
   * compatibility API's request or as the `'stream'` event's headers.
   */
  static isWebSocket(request: IncomingMessage | Http2ServerRequest | IncomingHttpHeaders): boolean {
    if (isHttp2Headers(request)) return isExtendedConnect(request);
    if (isHttp2Request(request)) return isExtendedConnect(request.headers);
    return isWebSocket(request as IncomingMessage);
  }

  /**
   * Refuses an upgrade with an HTTP status, headers and a body, and closes the
   * connection: for an `upgrade` handler that will not make a WebSocket
   * (authentication, rate limits). Header values with CR, LF or NUL are a
   * TypeError.
   *
   * Over HTTP/2, give the `connect` event's response (or the `stream`
   * event's stream): the refusal answers that stream, and the connection,
   * shared with other streams, stays open.
   *
   * @example
   * if (!authorized(request)) return WebSocket.refuse(socket, 401, { headers: { 'WWW-Authenticate': 'Bearer' } });
   */
  static refuse(
    socket: Duplex | Http2ServerResponse | ServerHttp2Stream,
    status: number,
    options: { headers?: Readonly<Record<string, string | number>>; body?: string } = {},
  ): void {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError(`status must be an HTTP error status (400-599), not ${String(status)}`);
    }
    const headers = validateHeaders(options.headers, 'headers');
    const body = options.body ?? `${STATUS_CODES[status] ?? 'Refused'}\n`;
    // RFC 8441: over HTTP/2 the refusal is the stream's response.
    const stream = isHttp2Response(socket) ? socket.stream : isServerStream(socket) ? socket : undefined;
    if (stream) {
      respond(stream, status, [['content-type', 'text/plain; charset=utf-8'], ...headers], body);
      return;
    }
    socket = socket as Duplex;
    const reason = STATUS_CODES[status] ?? 'Refused';
    socket.on('error', () => {});
    if (!socket.destroyed) socket.end(refusalResponse({ status, reason, headers: Object.fromEntries(headers) }, body));
  }

  /** Closes every WebSocket and event stream a server accepted (see {@link shutdown}). */
  static readonly shutdown = shutdown;

  /** Throws a TypeError when `options` has a key not in `validKeys`. */
  static validateOptions(options: object | undefined, validKeys: readonly string[]): void {
    validateOptionKeys(options, validKeys);
  }

  /**
   * Completes the handshake on `socket` (in a later task, so listeners added
   * now see `open`). Messages sent before then are queued.
   *
   * @param request The `upgrade` event's request (over HTTP/2: the `connect` event's).
   * @param socket The `upgrade` event's socket (over HTTP/2: the `connect` event's response).
   * @param head The `upgrade` event's head: bytes already read past the request (none over HTTP/2).
   * @param protocols Subprotocols this server supports, in order of preference.
   * @param options See {@link ServerOptions}; an unknown key is a TypeError.
   */
  constructor(
    request: IncomingMessage | Http2ServerRequest,
    socket: Duplex | Http2ServerResponse,
    head?: Buffer | null,
    protocols?: string | readonly string[] | null,
    options?: ServerOptions,
  );
  /**
   * Over HTTP/2 (RFC 8441), from the compatibility API's `connect` event:
   * answers the extended CONNECT on the response's stream.
   *
   * @example
   * server.on('connect', (request, response) => new WebSocket(request, response, ['chat']));
   */
  constructor(
    request: Http2ServerRequest,
    response: Http2ServerResponse,
    protocols?: string | readonly string[] | null,
    options?: ServerOptions,
  );
  /**
   * Over HTTP/2 (RFC 8441), from the core API's `stream` event (on a server
   * without a `request` listener; with one, use the `connect` event).
   *
   * @example
   * server.on('stream', (stream, headers) => {
   *   if (WebSocket.isWebSocket(headers)) new WebSocket(stream, headers, ['chat']);
   * });
   */
  constructor(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    protocols?: string | readonly string[] | null,
    options?: ServerOptions,
  );
  constructor(
    request: IncomingMessage | Http2ServerRequest | ServerHttp2Stream,
    socket: Duplex | Http2ServerResponse | IncomingHttpHeaders,
    head?: Buffer | string | readonly string[] | null,
    protocols?: string | readonly string[] | ServerOptions | null,
    options?: ServerOptions,
  ) {
    // RFC 8441: from an HTTP/2 server, the arguments name a stream (./http2.ts).
    const h2 = http2Arguments([request, socket, head, protocols, options]);
    if (h2) {
      protocols = h2.protocols as typeof protocols;
      options = h2.options as typeof options;
    } else if (request === null || typeof request !== 'object' || typeof (socket as Duplex)?.write !== 'function') {
      throw new TypeError(
        'new WebSocket(request, socket, head) is the server socket, for an HTTP upgrade handler; ' +
          'to connect to a server, use new WebSocket.Client(url)',
      );
    }
    if (protocols !== undefined && protocols !== null && typeof protocols !== 'string' && !Array.isArray(protocols)) {
      throw new TypeError(
        'protocols (the fourth argument) must be a string or an array of strings; options go in the fifth: ' +
          'new WebSocket(request, socket, head, [], options)',
      );
    }
    const resolved = resolveOptions(options, SERVER_OPTION_KEYS, 'server');
    const trustProxy = options?.trustProxy ?? false;
    if (typeof trustProxy !== 'boolean') throw new TypeError('trustProxy must be true or false');
    const chooser = options?.handleProtocols;
    if (chooser !== undefined && typeof chooser !== 'function') {
      throw new TypeError('handleProtocols must be a function (offered protocols, request) => protocol | false');
    }
    const supported =
      chooser ?? (typeof protocols === 'string' ? [protocols] : [...((protocols as readonly string[] | null) ?? [])]);
    const http1 = request as IncomingMessage;
    const transport = h2 ? h2.peer.stream : (socket as Duplex);
    super({
      url: h2
        ? streamUrl(h2.peer.stream, h2.peer.headers, { plain: 'ws:', secure: 'wss:' }, trustProxy)
        : requestUrl(http1, { plain: 'ws:', secure: 'wss:' }, trustProxy),
      origin: firstHeader((h2 ? h2.peer.headers : http1.headers).origin),
      binaryType: resolved.binaryType,
      closeTimeout: resolved.closeTimeout,
      ping: resolved.ping,
    });
    // A stream another listener already answered is not this socket's to
    // use; one past its session's limit of WebSocket streams is refused.
    const taken = h2 ? (answeredBefore(h2.peer) ?? admitStream(h2.peer)) : undefined;
    // Its server's shutdown closes it; once begun, it refuses it with 503 (../shutdown.ts).
    const shuttingDown = taken === undefined ? refusalWhileShuttingDown(transport) : undefined;
    if (taken === undefined && shuttingDown === undefined) this.#registry = acceptWebSocket(this, transport);
    if (taken === undefined) this._attach(transport);
    else this._fail(undefined, taken);

    // The handshake runs as a task of its own, as a browser's would, so that
    // listeners added after an await still see open.
    setImmediate(() => {
      if (!this._handshakePending || transport.destroyed) return;
      let agreement: Agreement | { message: string };
      if (h2) {
        // RFC 8441: the extended CONNECT is checked and answered on its stream.
        agreement = answerExtendedConnect(h2.peer, supported, resolved, shuttingDown);
      } else {
        const answer =
          shuttingDown ?? checkRequest(http1.method, http1.headers) ?? negotiate(http1, supported, resolved.extensions);
        transport.write(
          isRefusal(answer) ? refusalResponse(answer) : switchingProtocols(http1, answer, resolved.headers),
        );
        agreement = answer;
      }
      if (!('negotiated' in agreement)) {
        this._fail(undefined, agreement.message);
        return;
      }
      this._open({
        client: false,
        maxLength: resolved.maxLength,
        maxFragments: resolved.maxFragments,
        protocol: agreement.protocol,
        extensions: agreement.extensions,
        negotiated: agreement.negotiated,
        head: h2 ? undefined : (head as Buffer | undefined),
      });
    });
  }

  /**
   * Sends a message: a string as text; a Buffer, ArrayBuffer, ArrayBufferView
   * or Blob as binary (Blobs keep their place in the order of messages).
   * Messages sent while CONNECTING are queued until open (faye).
   *
   * `callback` (ws's habit) runs once the message was handed to the OS, or
   * with an Error if the connection closes first or is not open.
   *
   * @returns false when the socket's buffer is over its high-water mark (wait
   * for `'drain'`) or the connection is closing; true otherwise (faye).
   * @see https://websockets.spec.whatwg.org/#dom-websocket-send
   */
  send(data: SendData, callback?: SendCallback): boolean {
    // Note: extension, not in the spec: ws's send(data, cb); ws's options object is not taken.
    if (callback !== undefined && typeof callback !== 'function') {
      throw new TypeError(
        "send(data, callback): the second argument must be a function; ws's options ({ binary, compress, fin, mask }) are not taken (a string is sent as text, bytes as binary)",
      );
    }
    return this._send(data, callback);
  }

  /**
   * Starts the closing handshake. While CONNECTING, the handshake completes
   * first and the connection then closes at once, without open.
   *
   * @param code Any code an endpoint may send (RFC 6455 §7.4): 1000-1003,
   * 1007-1014 or 3000-4999, else an `InvalidAccessError` DOMException.
   * Without one, 1000 is sent (faye).
   * @param reason At most 123 UTF-8 bytes, else a `SyntaxError` DOMException.
   */
  close(code?: number, reason?: string): void {
    // Note: extension, not in the spec: the WHATWG limits (1000, 3000-4999)
    // bind a browser's script, not a server, which may say 1001 (going away),
    // 1008 (policy) or 1011 (internal error).
    const args = validateServerCloseArguments(code, reason);
    // Without a code, faye's server sends 1000 (a browser's script sends none).
    this._close(args.code ?? NORMAL_CLOSURE, args.reason);
  }

  /** @internal ws's `'pong'` event, on the server socket only (./pong-event.ts). */
  protected override _receivedPong(payload: Buffer): void {
    // Note: extension, not in the spec (browsers have no pong event).
    this.dispatchEvent(new PongEvent('pong', { data: payload }));
  }

  /**
   * @internal Once CLOSED (at its error and close events), it leaves its
   * server's registry: a call here, not a 'close' listener, which would cost
   * each idle connection more (docs/decisions/shutdown-registry.md).
   */
  override dispatchEvent(event: Event): boolean {
    const dispatched = super.dispatchEvent(event);
    if (this.#registry !== undefined && this._readyState === WebSocket.CLOSED) {
      this.#registry.release(this);
      this.#registry = undefined;
    }
    return dispatched;
  }

  /** @internal diagnostics_channel's role (../diagnostics.ts). */
  protected override get _role(): DiagnosticsRole {
    return 'server';
  }

  /** faye: same as send(). */
  write(data: SendData): boolean {
    return this.send(data);
  }

  /** faye: sends `data` if given, then closes. */
  end(data?: SendData): void {
    if (data !== undefined) this.send(data);
    this.close();
  }
}
