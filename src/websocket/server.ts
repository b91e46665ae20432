// The server-side WebSocket: made inside an HTTP server's 'upgrade' handler
// from (request, socket, head), faye-websocket's constructor, with W3C events.
// The server factory over the shared base: it checks and answers the opening
// handshake, and holds the server's side of the contract (send() queues while
// CONNECTING and returns a boolean; close() takes every code an endpoint may
// send).
//
// References:
// - faye-websocket README, "Handling WebSocket connections in Node"
// - WHATWG WebSockets: https://websockets.spec.whatwg.org/
// - RFC 6455 §4.2, server-side requirements: https://www.rfc-editor.org/rfc/rfc6455#section-4.2

import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { validateServerCloseArguments } from '../dom/close.js';
import type { SendData } from '../dom/data.js';
import { validateHeaders } from '../net/headers.js';
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
  checkRequest,
  isRefusal,
  isWebSocket,
  negotiate,
  refusalResponse,
  switchingProtocols,
} from '../protocol/handshake.js';
import { EventSource } from '../sse/endpoint.js';
import { WebSocketBase } from './base.js';
import { Client } from './client.js';

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
 */
export class WebSocket extends WebSocketBase<BinaryType> {
  /** The Node client with the browser's interface (faye: `WebSocket.Client`). */
  static readonly Client = Client;

  /** The server-sent events endpoint (faye: `WebSocket.EventSource`); its client is `EventSource.Client`. */
  static readonly EventSource = EventSource;

  /**
   * Whether the request asks for a WebSocket upgrade (a GET with
   * `Connection: upgrade` and `Upgrade: websocket`).
   */
  static isWebSocket(request: IncomingMessage): boolean {
    return isWebSocket(request);
  }

  /**
   * Refuses an upgrade with an HTTP status, headers and a body, and closes the
   * connection: for an `upgrade` handler that will not make a WebSocket
   * (authentication, rate limits). Header values with CR, LF or NUL are a
   * TypeError.
   *
   * @example
   * if (!authorized(request)) return WebSocket.refuse(socket, 401, { headers: { 'WWW-Authenticate': 'Bearer' } });
   */
  static refuse(
    socket: Duplex,
    status: number,
    options: { headers?: Readonly<Record<string, string | number>>; body?: string } = {},
  ): void {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError(`status must be an HTTP error status (400-599), not ${String(status)}`);
    }
    const headers = validateHeaders(options.headers, 'headers');
    const body = options.body ?? `${STATUS_CODES[status] ?? 'Refused'}\n`;
    const head = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Refused'}`,
      'Connection: close',
      'Content-Type: text/plain; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...headers.map(([name, value]) => `${name}: ${value}`),
    ];
    socket.on('error', () => {});
    if (!socket.destroyed) socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  }

  /** Throws a TypeError when `options` has a key not in `validKeys`. */
  static validateOptions(options: object | undefined, validKeys: readonly string[]): void {
    validateOptionKeys(options, validKeys);
  }

  /**
   * Completes the handshake on `socket` (in a later task, so listeners added
   * now see `open`). Messages sent before then are queued.
   *
   * @param request The `upgrade` event's request.
   * @param socket The `upgrade` event's socket.
   * @param head The `upgrade` event's head: bytes already read past the request.
   * @param protocols Subprotocols this server supports, in order of preference.
   * @param options See {@link ServerOptions}; an unknown key is a TypeError.
   */
  constructor(
    request: IncomingMessage,
    socket: Duplex,
    head?: Buffer,
    protocols?: string | readonly string[] | null,
    options?: ServerOptions,
  ) {
    if (request === null || typeof request !== 'object' || typeof socket?.write !== 'function') {
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
    const supported = chooser ?? (typeof protocols === 'string' ? [protocols] : [...(protocols ?? [])]);
    super({
      url: requestUrl(request, { plain: 'ws:', secure: 'wss:' }, trustProxy),
      origin: firstHeader(request.headers.origin),
      binaryType: resolved.binaryType,
      closeTimeout: resolved.closeTimeout,
      ping: resolved.ping,
    });
    this._attach(socket);

    // The handshake runs as a task of its own, as a browser's would, so that
    // listeners added after an await still see open.
    setImmediate(() => {
      if (!this._handshakePending || socket.destroyed) return;
      const refusal = checkRequest(request.method, request.headers);
      const agreement = refusal ?? negotiate(request, supported, resolved.extensions);
      if (isRefusal(agreement)) {
        socket.write(refusalResponse(agreement));
        this._fail(undefined, agreement.message);
        return;
      }
      socket.write(switchingProtocols(request, agreement, resolved.headers));
      this._open({
        client: false,
        maxLength: resolved.maxLength,
        protocol: agreement.protocol,
        extensions: agreement.extensions,
        negotiated: agreement.negotiated,
        head,
      });
    });
  }

  /**
   * Sends a message: a string as text; a Buffer, ArrayBuffer, ArrayBufferView
   * or Blob as binary (Blobs keep their place in the order of messages).
   * Messages sent while CONNECTING are queued until open (faye).
   *
   * @returns false when the socket's buffer is over its high-water mark (wait
   * for `'drain'`) or the connection is closing; true otherwise (faye).
   * @see https://websockets.spec.whatwg.org/#dom-websocket-send
   */
  send(data: SendData): boolean {
    return this._send(data);
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
