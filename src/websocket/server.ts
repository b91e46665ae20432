// The server-side WebSocket: made inside an HTTP server's 'upgrade' handler
// from (request, socket, head), faye-websocket's constructor, with W3C events.
//
// References:
// - faye-websocket README, "Handling WebSocket connections in Node"
// - WHATWG WebSockets: https://websockets.spec.whatwg.org/
// - RFC 6455 §4.2, server-side requirements: https://www.rfc-editor.org/rfc/rfc6455#section-4.2

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import websocketDriver from 'websocket-driver';
import { firstHeader, requestUrl } from '../net/request.js';
import {
  type BinaryType,
  resolveOptions,
  SERVER_OPTION_KEYS,
  type ServerOptions,
  validateOptionKeys,
} from '../options.js';
import { releaseHandshakeRequest } from '../protocol/driver-patches.js';
import { checkHandshake, refusalResponse } from '../protocol/handshake.js';
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
    return websocketDriver.isWebSocket(request);
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
    const resolved = resolveOptions(options, SERVER_OPTION_KEYS, 'nodebuffer');
    super({
      role: 'server',
      url: requestUrl(request, { plain: 'ws:', secure: 'wss:' }),
      origin: firstHeader(request.headers.origin),
      options: resolved,
    });

    const driver = websocketDriver.http(request, {
      maxLength: resolved.maxLength,
      ...(protocols ? { protocols: typeof protocols === 'string' ? [protocols] : protocols } : {}),
    });
    this._configureDriver(driver);
    this._attach(driver, socket);

    // The handshake runs as a task of its own, as a browser's would, so that
    // listeners added after an await still see open.
    setImmediate(() => {
      if (!this._isConnecting || socket.destroyed) return;
      const refusal = checkHandshake(request.method, request.headers);
      if (refusal) {
        this._refuseTheHandshake(refusalResponse(refusal), refusal.message);
        return;
      }
      driver.start();
      releaseHandshakeRequest(driver);
      if (head && head.length > 0) driver.parse(head);
    });
  }
}
