// WebSocket.Client: a Node client that behaves like a browser's WebSocket,
// with Node-only options for TLS, proxies and headers (faye's names). The
// client factory over the shared base: it connects (src/net), sends the
// opening handshake through Node's HTTP client, checks the answer, and holds
// the browser's side of the contract (send() throws while CONNECTING and
// returns undefined; close() takes 1000 and 3000-4999 only).
//
// The class users see, `Client`, is a WebIDL interface object over the
// implementation class below (src/dom/webidl.ts says why and how):
// `Client.prototype` holds every attribute, operation and constant itself,
// its prototype is `EventTarget.prototype`, and `String(client)` is
// `[object WebSocket]`.
//
// References:
// - WHATWG WebSockets: https://websockets.spec.whatwg.org/
// - RFC 6455 §4.1, client requirements: https://www.rfc-editor.org/rfc/rfc6455#section-4.1
// - WebIDL, interface objects: https://webidl.spec.whatwg.org/#interface-object
// - faye-websocket README, "Using the WebSocket client"
// - RFC 8441, WebSockets over HTTP/2 (the `http2` option; ./http2.ts)

import http, { type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { validateCloseArguments } from '../dom/close.js';
import type { SendData } from '../dom/data.js';
import { defineInterface, requireArguments } from '../dom/webidl.js';
import { type ConnectingTurn, waitForTurn } from '../net/connecting.js';
import { offersBasic, urlAuthorization } from '../net/credentials.js';
import type { ResolvedTransport } from '../net/options.js';
import { abortError, ConnectionAttempt, connect } from '../net/transport.js';
import { apiBaseUrl, parseWebSocketUrl, validateProtocols } from '../net/url.js';
import {
  type BinaryType,
  type ClientOptions,
  type ResolvedOptions,
  resolveClientOptions,
  type WebBinaryType,
} from '../options.js';
import {
  type Agreement,
  type ClientHandshake,
  checkAnswer,
  clientHandshake,
  joinHeader,
} from '../protocol/handshake.js';
import { ReadyState, WebSocketBase } from './base.js';
import { openWebSocketStream } from './http2.js';

/** Largest handshake response head the client reads before failing (bytes). */
export const MAX_HANDSHAKE_RESPONSE = 64 * 1024;

/**
 * How long (ms) the client waits, once both close frames crossed, for the
 * server to close the transport before dropping it: Chromium's
 * kUnderlyingConnectionCloseTimeoutSeconds, 2 s (net/websockets/websocket_channel.cc).
 */
export const SERVER_CLOSE_WAIT = 2000;

/**
 * The implementation of {@link Client}, which is the class to construct: its
 * type is `Client`'s, its prototype is never seen (objects made through
 * `Client` have `Client.prototype`), and it is not exported from the package.
 */
/** What the steps of one connection attempt (dial, handshake, answer) read. */
interface Connecting {
  readonly target: URL;
  readonly resolved: ResolvedOptions;
  readonly transport: ResolvedTransport;
  readonly protocols: readonly string[];
  /** The headers of every request: the application's, and Origin. */
  readonly headers: Array<[string, string]>;
  /** The URL's credentials, for Fetch's one authentication retry; undefined once used or not to be used. */
  authorization: string | undefined;
  /** The request to send, and the answer to check against it (replaced once, for a 401). */
  handshake: ClientHandshake;
}

/** A handshake answer as both HTTP versions give it: an IncomingMessage, or an HTTP/2 stream's head. */
type AnswerHead = { statusCode?: number | undefined; headers: IncomingHttpHeaders };

export class WebSocketClient<B extends BinaryType = WebBinaryType> extends WebSocketBase<B> {
  #statusCode: number | undefined;
  #headers: Record<string, string> | undefined;
  #attempt: ConnectionAttempt | undefined;
  #onAbort: (() => void) | undefined;
  #request: http.ClientRequest | undefined;
  #pending: Duplex | undefined;
  #turn: ConnectingTurn | undefined;
  /** What the steps of the connection attempt read; let go once it is over (`#settle`). */
  #connecting: Connecting | undefined;

  /**
   * @param url A ws:, wss:, http: or https: URL, absolute or relative to the
   * global origin (see `setGlobalOrigin`); anything else, a fragment, or an
   * unparsable URL is a `SyntaxError` DOMException. No argument is a TypeError.
   * @param protocols Subprotocols to offer; a duplicate (ignoring case) or
   * non-token is a `SyntaxError`.
   * @param options See {@link ClientOptions}. A key that looks like an option
   * name and is not one is a TypeError; other keys, and a value that is not an
   * object, are ignored, as browsers ignore extra arguments.
   */
  constructor(url: string | URL, protocols?: string | readonly string[] | null, options?: ClientOptions<B>) {
    // biome-ignore lint/complexity/noArguments: WebIDL counts the arguments given, not their values.
    requireArguments(arguments.length, 1, "construct 'WebSocket'");
    // Constructor steps 1-9: the URL and the protocols.
    const record = parseWebSocketUrl(url);
    const protocolList = validateProtocols(protocols);
    // Note: extension, not in the spec: Node-only options in a third argument,
    // which browsers ignore.
    const { socket: resolved, transport } = resolveClientOptions(options);
    // Step 10: set this's url to urlRecord.
    super({
      url: record.href,
      origin: record.origin,
      binaryType: resolved.binaryType,
      closeTimeout: resolved.closeTimeout,
      ping: resolved.ping,
    });
    const headers = withOrigin(resolved.headers, transport.origin ?? globalOrigin());
    this.#connecting = {
      target: record,
      resolved,
      transport,
      protocols: protocolList,
      headers,
      // Fetch, HTTP-network-or-cache fetch, 8.21.2 and 8.24: the URL's userinfo
      // answers a 401 once (an authentication fetch), never the first request,
      // and not when the application sends its own Authorization.
      authorization: hasHeader(headers, 'authorization') ? undefined : urlAuthorization(record),
      handshake: clientHandshake(protocolList, resolved.extensions, headers),
    };
    this.#startTheAttempt(transport);
    // Step 12: establish a WebSocket connection, in parallel.
    if (transport.http2 !== undefined) this.#dialHttp2();
    else this.#dial();
  }

  /**
   * One deadline for the connection and the opening handshake together
   * (handshakeTimeout), ended early by the application's signal; after open,
   * aborting the signal closes the connection.
   */
  #startTheAttempt(transport: ResolvedTransport): void {
    const attempt = new ConnectionAttempt(transport);
    this.#attempt = attempt;
    this.#onAbort = () => {
      const reason = abortError(attempt.signal.reason);
      this._fail(undefined, `Could not connect to ${this.url}: ${reason.message}`, reason);
    };
    attempt.signal.addEventListener('abort', this.#onAbort, { once: true });
    // Note: extension, not in the spec: aborting the signal after open closes
    // the connection, as close() would.
    const signal = transport.signal;
    if (signal) {
      const onAbort = (): void => this.#close(undefined, undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      this.addEventListener('close', () => signal.removeEventListener('abort', onAbort), { once: true });
    }
  }

  /**
   * Dial, over HTTP/1.1: RFC 6455 §4.1, requirement 2, behind any connection
   * to the same host and port that is still CONNECTING (src/net/connecting.ts),
   * then the connection (src/net/transport.ts), then the handshake on it.
   */
  #dial(): void {
    const connecting = this.#connecting;
    if (connecting === undefined) return;
    const turn = this.#turn ?? waitForTurn(connecting.target);
    this.#turn = turn;
    turn.ready
      .then(() => {
        const attempt = this.#attempt;
        if (this._readyState !== ReadyState.CONNECTING || attempt === undefined) return undefined;
        return connect(connecting.target, connecting.transport, attempt);
      })
      .then(
        (socket) => this.#handshake(socket),
        (error: Error) => this.#failToConnect(error),
      );
  }

  /**
   * Dial, over HTTP/2. Note: extension, not in the spec: the `http2` option
   * opens the WebSocket on an HTTP/2 stream, with an extended CONNECT (RFC
   * 8441). Streams share one connection, so there is no per-host turn to
   * wait for; the request is the stream's head, and so is the answer.
   */
  #dialHttp2(): void {
    const attempt = this.#attempt;
    const connecting = this.#connecting;
    if (this._readyState !== ReadyState.CONNECTING || attempt === undefined || connecting === undefined) return;
    openWebSocketStream(connecting.target, connecting.transport, attempt, connecting.handshake).then(
      ({ stream, status, headers }) => {
        if (this.#retried(status, headers['www-authenticate'])) {
          stream.destroy();
          this.#dialHttp2();
          return;
        }
        this.#answer(stream, { statusCode: status, headers }, undefined, false);
      },
      (error: Error) => this.#failToConnect(error),
    );
  }

  /**
   * The handshake, over HTTP/1.1 (RFC 6455 §4.1): a GET with the handshake
   * headers on `socket`, through Node's HTTP client, whose parser reads the
   * answer; a 101 goes to `#answer`, anything else fails (or, a 401,
   * retries with the URL's credentials).
   */
  #handshake(socket: Duplex | undefined): void {
    // Failed or closed while it waited for its turn: nothing was started.
    if (socket === undefined) return;
    const connecting = this.#connecting;
    if (this._readyState !== ReadyState.CONNECTING || connecting === undefined) {
      socket.destroy();
      return;
    }
    this.#pending = socket;
    const { target, handshake } = connecting;
    const request = http.request({
      method: 'GET',
      path: `${target.pathname}${target.search}`,
      setHost: false,
      headers: { Host: target.host, ...handshake.headers },
      createConnection: () => socket as Socket,
      maxHeaderSize: MAX_HANDSHAKE_RESPONSE,
    });
    this.#request = request;
    request.on('upgrade', (response: http.IncomingMessage, upgraded: Duplex, head: Buffer) => {
      this.#answer(upgraded, response, head, true);
    });
    request.on('response', (response: http.IncomingMessage) => {
      this.#record(response);
      response.resume();
      if (this.#retried(response.statusCode, response.headers['www-authenticate'])) {
        // The first connection is done with: its errors are no longer ours.
        request.removeAllListeners('error');
        request.on('error', () => {});
        request.destroy();
        socket.destroy();
        this.#dial();
        return;
      }
      this._fail(undefined, `Error during WebSocket handshake: Unexpected response code: ${response.statusCode}`);
    });
    request.on('error', (error: Error) => {
      this._fail(undefined, `Error during WebSocket handshake: ${error.message}`, error);
    });
    request.end();
    // A tunnelled socket arrives paused; the answer can only follow the request.
    socket.resume();
  }

  /**
   * The answer: the server's, over HTTP/1.1 (a 101, `http1`) or HTTP/2 (a
   * 2xx to the extended CONNECT): checked, then the WebSocket opens on `socket`.
   */
  #answer(socket: Duplex, response: AnswerHead, head: Buffer | undefined, http1: boolean): void {
    this.#record(response);
    const connecting = this.#connecting;
    this.#settle();
    if (this._readyState !== ReadyState.CONNECTING || connecting === undefined) {
      socket.destroy();
      return;
    }
    // RFC 8441 §5: over HTTP/2, any 2xx status accepts the WebSocket.
    const status = response.statusCode ?? 0;
    if (!http1 && (status < 200 || status > 299)) {
      socket.destroy();
      this._fail(undefined, `Error during WebSocket handshake: Unexpected response code: ${status}`);
      return;
    }
    let answer: Agreement;
    try {
      answer = checkAnswer(connecting.handshake, response.headers, http1);
    } catch (error) {
      socket.destroy();
      this._fail(undefined, `Error during WebSocket handshake: ${(error as Error).message}`, error);
      return;
    }
    this._attach(socket);
    this._open({
      client: true,
      maxLength: connecting.resolved.maxLength,
      maxFragments: connecting.resolved.maxFragments,
      protocol: answer.protocol,
      extensions: answer.extensions,
      negotiated: answer.negotiated,
      head,
    });
  }

  /**
   * Whether a 401 earns the handshake its one retry with the URL's
   * credentials (a new request, on a new connection as undici's: the server
   * may close the first); if so, the handshake to send next is made. False
   * when the answer stands.
   */
  #retried(status: number | undefined, challenge: string | string[] | undefined): boolean {
    const connecting = this.#connecting;
    const authorization = connecting?.authorization;
    if (status !== 401 || connecting === undefined || authorization === undefined || !offersBasic(challenge)) {
      return false;
    }
    if (this._readyState !== ReadyState.CONNECTING) return false;
    connecting.handshake = clientHandshake(connecting.protocols, connecting.resolved.extensions, [
      ...connecting.headers,
      ['Authorization', authorization],
    ]);
    connecting.authorization = undefined;
    return true;
  }

  #failToConnect(error: Error): void {
    this._fail(undefined, `Could not connect to ${this.url}: ${error.message}`, error);
  }

  /** The handshake response's status code (faye), also after a failed handshake. */
  get statusCode(): number | undefined {
    return this.#statusCode;
  }

  /** The handshake response's headers, lower-cased names (faye). */
  get headers(): Readonly<Record<string, string>> | undefined {
    return this.#headers;
  }

  /**
   * Sends a message: a string as text; a Buffer, ArrayBuffer, ArrayBufferView
   * or Blob as binary (Blobs keep their place in the order of messages).
   *
   * @throws `InvalidStateError` DOMException while CONNECTING.
   * @see https://websockets.spec.whatwg.org/#dom-websocket-send
   */
  send(data: SendData): void {
    // biome-ignore lint/complexity/noArguments: WebIDL counts the arguments given, not their values.
    if (arguments.length === 0) {
      throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
    }
    this._send(data);
  }

  /**
   * Closes the connection, or fails it while CONNECTING.
   *
   * @param code 1000 or 3000-4999, else an `InvalidAccessError` DOMException.
   * Without one, the close frame has no code (the server reports 1005).
   * @param reason At most 123 UTF-8 bytes, else a `SyntaxError` DOMException.
   * @see https://websockets.spec.whatwg.org/#dom-websocket-close
   */
  close(code?: number, reason?: string): void {
    this.#close(code, reason);
  }

  /** @see https://websockets.spec.whatwg.org/#dom-websocket-close */
  #close(code: number | undefined, reason: string | undefined): void {
    // 1-2. Validate code and reason (throws).
    const args = validateCloseArguments(code, reason);
    // 3. If the WebSocket connection is not yet established: fail the
    //    WebSocket connection and set this's ready state to CLOSING (2).
    if (this._readyState === ReadyState.CONNECTING) {
      this._fail(undefined, 'WebSocket was closed before the connection was established');
      return;
    }
    this._close(args.code, args.reason);
  }

  /** faye: same as send(), returning whether the socket's buffer is below its high-water mark. */
  write(data: SendData): boolean {
    if (this._readyState === ReadyState.CONNECTING) return false;
    return this._send(data);
  }

  /** faye: sends `data` if given, then closes. */
  end(data?: SendData): void {
    if (data !== undefined) this.write(data);
    this.close();
  }

  /** @internal send() while CONNECTING. */
  protected override _checkSendWhileConnecting(): void {
    // 1. If this's ready state is CONNECTING, throw an "InvalidStateError" DOMException.
    throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
  }

  /** @internal RFC 6455 §7.1.1: the client waits for the server to close the transport. */
  protected override get _peerCloseWait(): number {
    return SERVER_CLOSE_WAIT;
  }

  /** @internal Stops a connection attempt in progress. */
  protected override _abortConnecting(): void {
    const attempt = this.#attempt;
    const request = this.#request;
    const pending = this.#pending;
    if (attempt && this.#onAbort) attempt.signal.removeEventListener('abort', this.#onAbort);
    attempt?.abort();
    this.#settle();
    request?.destroy();
    pending?.destroy();
  }

  /**
   * The attempt is over (answered, failed or abandoned): its timer and
   * listeners go, and the next connection to the same host may start.
   */
  #settle(): void {
    this.#turn?.leave();
    this.#turn = undefined;
    this.#attempt?.finish();
    this.#attempt = undefined;
    this.#onAbort = undefined;
    this.#request = undefined;
    this.#pending = undefined;
    this.#connecting = undefined;
  }

  #record(response: AnswerHead): void {
    this.#statusCode = response.statusCode;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      const joined = joinHeader(value);
      if (joined !== undefined) headers[name] = joined;
    }
    this.#headers = headers;
  }
}

/**
 * A WebSocket client with the browser's interface, step for step: browser code
 * runs unchanged with `WebSocket.Client` in place of `WebSocket`, down to the
 * WebIDL details (`Client.prototype` holds `url`, `send` and the constants
 * itself, its prototype is `EventTarget.prototype`, `String(ws)` is
 * `[object WebSocket]`, `Client.name` is `'WebSocket'`).
 *
 * `binaryType` is typed as the browser's (`'blob' | 'arraybuffer'`) so the
 * class fits where lib.dom's `WebSocket` is expected; to use Node's
 * `'nodebuffer'`, pass it in the options or write `Client<BinaryType>`.
 * `client instanceof WebSocketBase` is true, as for the server socket.
 *
 * @see https://websockets.spec.whatwg.org/#the-websocket-interface
 * @example
 * const ws = new WebSocket.Client('wss://example.com/chat', ['chat'], { ca: myCa });
 * ws.onopen = () => ws.send('hello');
 * ws.onmessage = (event) => console.log(event.data);
 */
/**
 * The serialized origin of the API base URL (`setGlobalOrigin`, else
 * `globalThis.location`), or undefined without one.
 */
function globalOrigin(): string | undefined {
  const base = apiBaseUrl();
  if (base === undefined) return undefined;
  try {
    return new URL(base).origin;
  } catch {
    return undefined;
  }
}

/** Whether the request headers name `wanted` (lower-case), in any case. */
function hasHeader(headers: ReadonlyArray<readonly [string, string]>, wanted: string): boolean {
  return headers.some(([name]) => name.toLowerCase() === wanted);
}

/**
 * The request headers with Fetch's "append a request `Origin` header": a
 * WebSocket request always carries its client's origin. Node has no
 * document: the origin is the `origin` option (ws's and faye's), else the
 * global origin's (see `setGlobalOrigin`, `globalThis.location`), as undici
 * sends it; with neither, or an Origin among the application's headers, none
 * is added.
 */
function withOrigin(headers: Array<[string, string]>, origin: string | undefined): Array<[string, string]> {
  if (origin !== undefined && !hasHeader(headers, 'origin')) headers.unshift(['Origin', origin]);
  return headers;
}

export const Client = defineInterface(WebSocketClient, EventTarget, {
  name: 'WebSocket',
  length: 1,
  constants: ReadyState,
  members: [
    'url',
    'readyState',
    'bufferedAmount',
    'onopen',
    'onerror',
    'onclose',
    'extensions',
    'protocol',
    'close',
    'onmessage',
    'binaryType',
    'send',
  ],
  lengths: { close: 0, send: 1 },
});
export type Client<B extends BinaryType = WebBinaryType> = WebSocketClient<B>;
