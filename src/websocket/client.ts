// WebSocket.Client: a Node client that behaves like a browser's WebSocket,
// with Node-only options for TLS, proxies and headers (faye's names).
//
// References:
// - WHATWG WebSockets: https://websockets.spec.whatwg.org/
// - RFC 6455 §4.1, client requirements: https://www.rfc-editor.org/rfc/rfc6455#section-4.1
// - faye-websocket README, "Using the WebSocket client"

import websocketDriver from 'websocket-driver';
import { connect, resolveTransport } from '../net/transport.js';
import { parseWebSocketUrl, validateProtocols } from '../net/url.js';
import {
  type BinaryType,
  CLIENT_OPTION_KEYS,
  type ClientOptions,
  resolveOptions,
  type WebBinaryType,
} from '../options.js';
import { WebSocketBase } from './base.js';

/**
 * A WebSocket client with the browser's interface, step for step: browser code
 * runs unchanged with `WebSocket.Client` in place of `WebSocket`.
 *
 * `binaryType` is typed as the browser's (`'blob' | 'arraybuffer'`) so the
 * class fits where lib.dom's `WebSocket` is expected; to use Node's
 * `'nodebuffer'`, pass it in the options or write `Client<BinaryType>`.
 *
 * @see https://websockets.spec.whatwg.org/#the-websocket-interface
 * @example
 * const ws = new WebSocket.Client('wss://example.com/chat', ['chat'], { ca: myCa });
 * ws.onopen = () => ws.send('hello');
 * ws.onmessage = (event) => console.log(event.data);
 */
export class Client<B extends BinaryType = WebBinaryType> extends WebSocketBase<B> {
  #statusCode: number | undefined;
  #headers: Record<string, string> | undefined;

  /**
   * @param url A ws:, wss:, http: or https: URL; anything else, a fragment, or
   * an unparsable URL is a `SyntaxError` DOMException.
   * @param protocols Subprotocols to offer; a duplicate or non-token is a `SyntaxError`.
   * @param options See {@link ClientOptions}; an unknown key is a TypeError.
   */
  constructor(url: string | URL, protocols?: string | readonly string[] | null, options?: ClientOptions<B>) {
    // Constructor steps 1-9: the URL and the protocols.
    const record = parseWebSocketUrl(url);
    const protocolList = validateProtocols(protocols);
    const resolved = resolveOptions(options, CLIENT_OPTION_KEYS, 'blob');
    const transport = resolveTransport(options);
    // Step 10: set this's url to urlRecord.
    super({ role: 'client', url: record.href, origin: record.origin, options: resolved });

    const driver = websocketDriver.client(record.href, {
      maxLength: resolved.maxLength,
      protocols: protocolList,
    });
    this._configureDriver(driver);
    const recordResponse = (): void => {
      this.#statusCode = driver.statusCode;
      this.#headers = driver.headers;
    };
    driver.on('open', recordResponse);
    driver.on('error', recordResponse);

    // Step 12: establish a WebSocket connection, in parallel.
    const controller = new AbortController();
    this._abortConnecting = () => controller.abort();
    connect(record, transport, controller.signal).then(
      (socket) => {
        this._abortConnecting = undefined;
        if (this.readyState !== WebSocketBase.CONNECTING) {
          socket.destroy();
          return;
        }
        this._attach(driver, socket);
        driver.start();
      },
      (error: Error) => {
        this._failTheConnection(`Could not connect to ${record.href}: ${error.message}`, error);
      },
    );
  }

  /** The handshake response's status code (faye), also after a failed handshake. */
  get statusCode(): number | undefined {
    return this.#statusCode;
  }

  /** The handshake response's headers, lower-cased names (faye). */
  get headers(): Readonly<Record<string, string>> | undefined {
    return this.#headers;
  }
}
