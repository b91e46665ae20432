// WebSocketStream: a WebSocket as a pair of WHATWG streams, with backpressure
// both ways, and its WebSocketError. Over the shared implementation, never a
// copy of it: a `new WebSocketStream(url)` drives a `WebSocket.Client` (the
// same handshake, transport, options and connection serialization), and
// `WebSocketStream.from(ws)` adopts a server `WebSocket` (or a client), so
// that `for await (const message of readable)` reads either end.
//
// How the streams meet the socket (all through its public surface):
//   readable  <- the socket's raw messages (faye's 'data': a string, or a
//                Buffer whatever binaryType says), copied into Uint8Arrays;
//                when the queue is past its high-water mark the socket is
//                paused (TCP backpressure reaches the peer), and a read that
//                brings it under resumes it
//   writable  -> write() on the socket; a write resolves at once while the
//                socket's buffer is under its high-water mark, else on
//                'drain', so the WritableStream waits as the socket does
//   close     -> the socket's close(); its close event settles `closed`
//
// Departures from Chromium 156, which WPT and the explainer decide for us:
// binary messages are Uint8Arrays (Chromium still gives ArrayBuffers), the
// close code is [EnforceRange] (a TypeError out of 0-65535; Chromium clamps),
// and duplicate protocols are compared ignoring case (Chromium: exactly).
//
// References:
// - WHATWG WebSockets PR 48 (WebSocketStream), https://github.com/whatwg/websockets/pull/48
// - The WebSocketStream explainer: https://github.com/ricea/websocketstream-explainer
// - WPT websockets/stream/tentative/*.any.js (the contract's tests)
// - WHATWG Streams: https://streams.spec.whatwg.org/
// - undici lib/web/websocket/stream/websocketstream.js (the same steps in Node)

import { checkClientCloseCode } from '../dom/close.js';
import { isSharedArrayBuffer, toArrayBuffer } from '../dom/data.js';
import { requireArguments, shapeInterface, toDOMString } from '../dom/webidl.js';
import type { CloseEvent, ErrorEvent } from '../events.js';
import { parseWebSocketUrl, validateProtocols } from '../net/url.js';
import { CLIENT_OPTION_KEYS, type ClientOptions, readBrowserOptions } from '../options.js';
import { MAX_REASON_BYTES } from '../protocol/codes.js';
import { ReadyState, WebSocketBase } from './base.js';
import { Client } from './client.js';

/**
 * How many bytes (string: UTF-16 code units) of received messages the
 * readable stream holds before the socket is paused. One message larger than
 * this is still delivered whole.
 */
export const READABLE_HIGH_WATER_MARK = 64 * 1024;

/** The options of `new WebSocketStream(url, options)`: the spec's two, and the client's Node-only ones. */
export interface WebSocketStreamOptions extends Omit<ClientOptions<'nodebuffer'>, 'binaryType' | 'signal'> {
  /** Subprotocols to offer: a sequence (a string alone is a TypeError, as in browsers). */
  protocols?: readonly string[];
  /**
   * Aborting it before the connection is established fails it and rejects
   * `opened` and `closed` with the signal's reason; afterwards it does
   * nothing (unlike `WebSocket.Client`'s `signal`, which then closes).
   */
  signal?: AbortSignal | null;
}

/** What `close()` and `WebSocketError` take. */
export interface WebSocketCloseInfo {
  /** 1000 or 3000-4999; without one but with a reason, 1000. */
  closeCode?: number;
  /** At most 123 UTF-8 bytes. */
  reason?: string;
}

/** What `closed` resolves to after a clean close. */
export interface WebSocketClosedInfo {
  /** The peer's close code: 1005 when its close frame had none. */
  closeCode: number;
  reason: string;
}

/** A message read from a WebSocketStream: text as a string, binary as a Uint8Array. */
export type WebSocketStreamMessage = string | Uint8Array;

/** What can be written: a string (text), or an ArrayBuffer or view (binary, copied). */
export type WebSocketStreamChunk = string | ArrayBuffer | ArrayBufferView;

/** What `opened` resolves to. */
export interface WebSocketOpenInfo {
  /** The negotiated `Sec-WebSocket-Extensions`, or `''`. */
  extensions: string;
  /** The subprotocol the server chose, or `''`. */
  protocol: string;
  readable: ReadableStream<WebSocketStreamMessage>;
  writable: WritableStream<WebSocketStreamChunk>;
}

/** The options `new WebSocketStream()` reads: the spec's and the client's, but binaryType and signal. */
const STREAM_OPTION_KEYS = [
  'protocols',
  'signal',
  ...CLIENT_OPTION_KEYS.filter((key) => key !== 'binaryType' && key !== 'signal'),
] as const;

const CLOSED_MESSAGE = 'Cannot write to a closed WebSocketStream.';

/** What a stream uses of a socket: the base, and the send and close both factories define. */
type StreamSocket = WebSocketBase & {
  write(data: string | Buffer): boolean;
  close(code?: number, reason?: string): void;
};

/** The socket `WebSocketStream.from()` is adopting, for the constructor. */
let adopting: StreamSocket | undefined;
// Set by WebSocketError's static block: its brand check and its unchecked factory.
let isWebSocketError: (value: unknown) => value is WebSocketError;
let createWebSocketError: (message: string, closeCode: number | null, reason: string, cause: unknown) => WebSocketError;

/**
 * The error a WebSocketStream's promises and streams reject with when the
 * connection fails or does not close cleanly; also what `writable.abort()`
 * and `readable.cancel()` take to close with a code and reason.
 *
 * @see https://github.com/whatwg/websockets/pull/48
 * @example
 * await writable.abort(new WebSocketError('bye', { closeCode: 4000, reason: 'done' }));
 */
export class WebSocketError extends DOMException {
  #closeCode: number | null;
  #reason: string;

  /**
   * @param message The DOMException message.
   * @param init `closeCode` (1000 or 3000-4999, else `InvalidAccessError`)
   * and `reason` (at most 123 UTF-8 bytes, else `SyntaxError`); a reason
   * without a code means 1000.
   */
  constructor(message = '', init: WebSocketCloseInfo = {}) {
    const text = toDOMString(message, "Failed to construct 'WebSocketError'");
    const info = toCloseInfo(init, "Failed to construct 'WebSocketError'");
    super(text, 'WebSocketError');
    // 3-8. Validate close code and reason; a reason without a code is 1000.
    const checked = validateCloseInfo(info);
    this.#closeCode = checked.code ?? null;
    this.#reason = checked.reason;
  }

  /** The close code, or null. */
  get closeCode(): number | null {
    return this.#closeCode;
  }

  /** The close reason, or `''`. */
  get reason(): string {
    return this.#reason;
  }

  /** Whether `value` is a WebSocketError (a brand check, not the prototype chain). */
  static #is(value: unknown): value is WebSocketError {
    return typeof value === 'object' && value !== null && #closeCode in value;
  }

  /** @internal An error with any code (1006 too), and the Node error behind it as `cause`. */
  static #create(message: string, closeCode: number | null, reason: string, cause: unknown): WebSocketError {
    const error = new WebSocketError(message);
    error.#closeCode = closeCode;
    error.#reason = reason;
    // Note: extension, not in the spec: what Node saw (a refused connection, a
    // non-101 answer) rides along as the standard `cause`.
    if (cause !== undefined) {
      Object.defineProperty(error, 'cause', { value: cause, writable: true, enumerable: false, configurable: true });
    }
    return error;
  }

  static {
    isWebSocketError = WebSocketError.#is;
    createWebSocketError = WebSocketError.#create;
  }
}

shapeInterface(WebSocketError, { name: 'WebSocketError', length: 0, members: ['closeCode', 'reason'] });

/**
 * A WebSocket as a readable and a writable stream, with backpressure:
 * messages are read as fast as the application reads them, and writes wait
 * while the socket's buffer is full. `opened` gives the streams; `closed`
 * settles when the connection does.
 *
 * `new WebSocketStream(url, options)` is the browser's client, with the
 * Node-only options of `WebSocket.Client`. `WebSocketStream.from(ws)` wraps a
 * server `WebSocket` the same way.
 *
 * @see https://github.com/ricea/websocketstream-explainer
 * @example
 * const wss = new WebSocketStream('wss://example.com/chat', { protocols: ['chat'] });
 * const { readable, writable } = await wss.opened;
 * const writer = writable.getWriter();
 * await writer.write('hello');
 * for await (const message of readable) console.log(message);
 * const { closeCode, reason } = await wss.closed;
 */
export class WebSocketStream {
  readonly #url: string;
  readonly #opened: Promise<WebSocketOpenInfo>;
  readonly #closed: Promise<WebSocketClosedInfo>;
  #resolveOpened: (info: WebSocketOpenInfo) => void = () => {};
  #rejectOpened: (reason: unknown) => void = () => {};
  #resolveClosed: (info: WebSocketClosedInfo) => void = () => {};
  #rejectClosed: (reason: unknown) => void = () => {};

  #socket: StreamSocket | undefined;
  /** Made by from(), over a socket the application made. */
  #adopted = false;
  #wasOpened = false;
  #handshakeAborted = false;
  #cause: unknown;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  #readController: ReadableStreamDefaultController<WebSocketStreamMessage> | undefined;
  #readableDone = false;
  #paused = false;
  /** This side started the closing handshake (close(), the writable's close or abort, cancel). */
  #closeRequested = false;
  #writeController: WritableStreamDefaultController | undefined;
  #pendingWrite: { resolve: () => void; reject: (reason: unknown) => void } | undefined;

  /**
   * @param url A ws:, wss:, http: or https: URL, absolute or relative to the
   * global origin (see `setGlobalOrigin`); anything else is a `SyntaxError`.
   * @param options `protocols` (a sequence), `signal`, and the Node-only
   * options of `WebSocket.Client` but `binaryType` and `signal`. A value that
   * is not an object, or a key that looks like an option name and is not
   * one, is a TypeError; other keys are ignored, as browsers ignore them.
   */
  constructor(url: string | URL, options?: WebSocketStreamOptions) {
    const adopted = adopting;
    adopting = undefined;
    this.#opened = new Promise((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    this.#closed = new Promise((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    // A rejection nobody awaits must not end the process (Node's default for
    // unhandled rejections); whoever awaits them still sees it.
    this.#opened.catch(ignore);
    this.#closed.catch(ignore);
    if (adopted !== undefined) {
      this.#url = adopted.url;
      this.#adopted = true;
      this.#adopt(adopted);
      return;
    }

    // biome-ignore lint/complexity/noArguments: WebIDL counts the arguments given, not their values.
    requireArguments(arguments.length, 1, "construct 'WebSocketStream'");
    // 1-2. Let urlRecord be the result of getting a URL record given url and
    //      the API base URL (http: and https: become ws: and wss:).
    const record = parseWebSocketUrl(url);
    const given = readBrowserOptions<WebSocketStreamOptions>(options, STREAM_OPTION_KEYS, 'throw') ?? {};
    const { protocols: protocolsOption, signal: signalOption, ...nodeOptions } = given;
    // 3. Let protocols be options["protocols"] if it exists, otherwise an empty sequence.
    // 4. If any of the values in protocols occur more than once or otherwise
    //    fail to match the requirements for elements of `Sec-WebSocket-Protocol`,
    //    throw a "SyntaxError" DOMException.
    const protocols = validateProtocols(toSequence(protocolsOption));
    const signal = toSignal(signalOption);
    // 5. Set this's url to urlRecord.
    this.#url = record.href;
    // 8. If options["signal"] exists: if it is aborted, reject this's opened
    //    promise and closed promise with its abort reason, and return.
    if (signal?.aborted) {
      this.#handshakeAborted = true;
      this.#rejectOpened(signal.reason);
      this.#rejectClosed(signal.reason);
      return;
    }
    // 10. Establish a WebSocket connection given urlRecord and protocols.
    const socket = new Client<'nodebuffer'>(record, protocols, { ...nodeOptions, binaryType: 'nodebuffer' });
    this.#adopt(socket);
    if (signal !== undefined) {
      // 8.3. Add the following abort steps to signal.
      this.#signal = signal;
      this.#onAbort = () => this.#abortTheHandshake();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /**
   * Node-only: a server `WebSocket` (or a `WebSocket.Client`) as a
   * WebSocketStream, so that both ends read with `for await`. `opened`
   * resolves when the socket opens (at once if it is open); `close()`
   * follows the socket's own rules (the server's takes 1001, 1011... and
   * sends 1000 when given no code). Messages from then on go to the
   * readable stream, whatever `binaryType` says.
   *
   * @throws `InvalidStateError` DOMException when the socket is closing or closed.
   * @example
   * server.on('upgrade', async (request, socket, head) => {
   *   const { readable, writable } = await WebSocketStream.from(new WebSocket(request, socket, head)).opened;
   *   const writer = writable.getWriter();
   *   for await (const message of readable) await writer.write(message);
   * });
   */
  static from(socket: WebSocketBase): WebSocketStream {
    if (!(socket instanceof WebSocketBase)) {
      throw new TypeError('WebSocketStream.from() takes an isosocket WebSocket or WebSocket.Client');
    }
    if (socket.readyState >= ReadyState.CLOSING) {
      throw new DOMException('The WebSocket is already closing or closed.', 'InvalidStateError');
    }
    adopting = socket as StreamSocket;
    try {
      return new WebSocketStream(socket.url);
    } finally {
      adopting = undefined;
    }
  }

  /** The URL of the connection, serialized. */
  get url(): string {
    return this.#url;
  }

  /** Resolves with the streams once the connection is established; rejects if it never is. */
  get opened(): Promise<WebSocketOpenInfo> {
    // WebIDL: a promise-typed attribute's brand check rejects, it does not throw.
    if (!(#opened in this)) return Promise.reject(new TypeError('Illegal invocation'));
    return this.#opened;
  }

  /**
   * Resolves with the close code and reason after a clean close; rejects with
   * a {@link WebSocketError} otherwise (1006 for a lost connection; the
   * server's code when it closed while a write was still unsent).
   */
  get closed(): Promise<WebSocketClosedInfo> {
    if (!(#closed in this)) return Promise.reject(new TypeError('Illegal invocation'));
    return this.#closed;
  }

  /**
   * Closes the connection (while connecting, fails it).
   *
   * @param closeInfo `closeCode` (1000 or 3000-4999, else `InvalidAccessError`;
   * out of 0-65535 a TypeError) and `reason` (at most 123 UTF-8 bytes, else
   * `SyntaxError`). Without either, the close frame is empty (the peer sees 1005).
   */
  close(closeInfo?: WebSocketCloseInfo): void {
    const info = toCloseInfo(closeInfo, "Failed to execute 'close' on 'WebSocketStream'");
    // 1-3. Close the WebSocket with this, closeInfo's closeCode and reason.
    // Note: extension, not in the spec: over an adopted server socket, the
    // socket's own close() checks the code, with the server's rules.
    const { code, reason } = validateCloseInfo(info, !this.#adopted);
    this.#closeTheWebSocket(code, reason);
  }

  // ---- the socket's feedback ---------------------------------------------

  #adopt(socket: StreamSocket): void {
    this.#socket = socket;
    socket.on('data', (data: string | Buffer) => this.#receive(data));
    socket.on('drain', () => this.#drained());
    socket.addEventListener('error', (event) => {
      this.#cause ??= (event as ErrorEvent).error;
    });
    socket.addEventListener('close', (event) => this.#closedFromTheProtocol(event as CloseEvent), { once: true });
    if (socket.readyState === ReadyState.OPEN) queueMicrotask(() => this.#establish());
    else socket.addEventListener('open', () => this.#establish(), { once: true });
  }

  /** The connection is established: the streams are made and `opened` resolves. */
  #establish(): void {
    const socket = this.#socket as StreamSocket;
    if (this.#handshakeAborted || this.#wasOpened || socket.readyState !== ReadyState.OPEN) return;
    this.#wasOpened = true;
    this.#forgetSignal();
    // 5-8. A readable stream whose pull releases backpressure and whose cancel
    //      closes using the reason.
    const readable = new ReadableStream<WebSocketStreamMessage>(
      {
        start: (controller) => {
          this.#readController = controller;
        },
        pull: () => this.#releaseBackpressure(),
        cancel: (reason) => {
          this.#readableDone = true;
          this.#closeUsingReason(reason);
        },
      },
      { highWaterMark: READABLE_HIGH_WATER_MARK, size: messageSize },
    );
    // 9-13. A writable stream that writes, closes, and aborts using the reason.
    const writable = new WritableStream<WebSocketStreamChunk>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: (chunk) => this.#write(chunk),
      close: () => {
        this.#closeTheWebSocket(undefined, '');
        // The writer's close() settles when the closing handshake is done.
        return this.#closed.then(ignore);
      },
      abort: (reason) => this.#closeUsingReason(reason),
    });
    // Resolve opened with «[ extensions, protocol, readable, writable ]».
    this.#resolveOpened({ extensions: socket.extensions, protocol: socket.protocol, readable, writable });
  }

  /** A message arrived: enqueued, and the socket paused once the queue is full. */
  #receive(data: string | Buffer): void {
    const controller = this.#readController;
    if (controller === undefined || this.#readableDone) return;
    // 2. A string for text; for binary, a new Uint8Array whose contents are data.
    const chunk = typeof data === 'string' ? data : new Uint8Array(toArrayBuffer(data));
    // 3. Enqueue chunk into stream's readable stream.
    controller.enqueue(chunk);
    // 4. Apply backpressure to the WebSocket.
    if ((controller.desiredSize ?? 0) <= 0 && !this.#paused) {
      this.#paused = true;
      this.#socket?.pause();
    }
  }

  /** A read made room: the socket reads again. */
  #releaseBackpressure(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#socket?.resume();
  }

  /** @see https://github.com/whatwg/websockets/pull/48 (the WebSocket connection is closed) */
  #closedFromTheProtocol(event: CloseEvent): void {
    this.#forgetSignal();
    // 2. If stream's handshake aborted is true, then return.
    if (this.#handshakeAborted) return;
    const cause = this.#cause;
    // 3. If stream's was ever connected is false, reject the opened promise.
    if (!this.#wasOpened) {
      this.#rejectOpened(createWebSocketError('WebSocket closed before handshake complete.', null, '', cause));
    }
    // 4-5. The connection close code and reason.
    const { code, reason } = event;
    const readController = this.#readController;
    const writeController = this.#writeController;
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    // Note: a close with messages still unsent is not clean, whatever the
    // closing handshake did: a write waits for buffer space, or bytes
    // written are not yet handed to the transport (Chromium; WPT
    // remote-close.any.js "close with unwritten data should not be considered
    // clean" and write.any.js "a write that was incomplete at close time
    // should reject"). Closed rejects with the peer's code and reason; the
    // write and the writable stream fail with an InvalidStateError.
    const unwritten = pending !== undefined || (this.#socket?.bufferedAmount ?? 0) > 0;
    if (event.wasClean && unwritten) {
      const error = createWebSocketError('WebSocket closed with data not yet sent.', code, reason, cause);
      if (readController !== undefined && !this.#readableDone) {
        this.#readableDone = true;
        readController.error(error);
      }
      const notSent = new DOMException(CLOSED_MESSAGE, 'InvalidStateError');
      writeController?.error(notSent);
      pending?.reject(notSent);
      this.#rejectClosed(error);
    } else if (event.wasClean) {
      // 6. Close the readable stream, error the writable stream with an
      //    "InvalidStateError" DOMException, resolve closed with the code and reason.
      if (readController !== undefined && !this.#readableDone) {
        this.#readableDone = true;
        readController.close();
      }
      const error = new DOMException(CLOSED_MESSAGE, 'InvalidStateError');
      writeController?.error(error);
      pending?.reject(error);
      this.#resolveClosed({ closeCode: code, reason });
    } else {
      // 7. Error both streams with a WebSocketError carrying the code and
      //    reason, and reject closed with it.
      const error = createWebSocketError('WebSocket was not cleanly closed.', code, reason, cause);
      if (readController !== undefined && !this.#readableDone) {
        this.#readableDone = true;
        readController.error(error);
      }
      writeController?.error(error);
      pending?.reject(error);
      this.#rejectClosed(error);
    }
  }

  #drained(): void {
    // A write that completes after the peer's close frame arrived was not
    // complete at close time: the peer discards data after its close frame
    // (RFC 6455 §5.5.1), so it stays pending and fails with the close.
    const socket = this.#socket;
    if (socket !== undefined && socket.readyState !== ReadyState.OPEN && !this.#closeRequested) return;
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    pending?.resolve();
  }

  // ---- the application's side ---------------------------------------------

  /** @see https://github.com/whatwg/websockets/pull/48 (write chunk to stream) */
  #write(chunk: WebSocketStreamChunk): Promise<void> {
    const socket = this.#socket as StreamSocket;
    let data: string | Buffer;
    try {
      data = toMessage(chunk);
    } catch (error) {
      return Promise.reject(error);
    }
    // 6.2. If the closing handshake has not yet started, send the message.
    // Note: once the peer's close frame has arrived (the closing handshake
    // started, not by this side) the message is unwritten data: it waits for
    // the close and fails with it, as in Chromium (WPT remote-close.any.js).
    if (socket.readyState !== ReadyState.OPEN) {
      if (this.#closeRequested || socket.readyState !== ReadyState.CLOSING || this.#pendingWrite !== undefined) {
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        this.#pendingWrite = { resolve, reject };
      });
    }
    // 6.1. Wait until there is sufficient buffer space in stream to send the message.
    if (socket.write(data)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#pendingWrite = { resolve, reject };
    });
  }

  /** @see https://github.com/whatwg/websockets/pull/48 (close using reason) */
  #closeUsingReason(reason: unknown): void {
    // 1-3. The code and reason of a WebSocketError; nothing from anything else.
    let code: number | undefined;
    let text = '';
    if (isWebSocketError(reason)) {
      code = reason.closeCode ?? undefined;
      text = reason.reason;
    }
    // 4. Close the WebSocket with them; if that throws, close it without them.
    try {
      this.#closeTheWebSocket(code, text);
    } catch {
      this.#closeTheWebSocket(undefined, '');
    }
  }

  /** @see https://websockets.spec.whatwg.org/#dom-websocket-close (steps 3-5, on the socket) */
  #closeTheWebSocket(code: number | undefined, reason: string): void {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState >= ReadyState.CLOSING) return;
    this.#closeRequested = true;
    // Messages after this are not delivered: let the peer's close frame in.
    this.#releaseBackpressure();
    socket.close(code, reason);
  }

  /** The signal aborted: before the connection is established, it fails. */
  #abortTheHandshake(): void {
    const signal = this.#signal;
    const socket = this.#socket;
    this.#forgetSignal();
    // 8.3.1. If the WebSocket connection is not yet established:
    if (signal === undefined || socket === undefined || this.#wasOpened) return;
    if (socket.readyState !== ReadyState.CONNECTING) return;
    // Fail the connection, set handshake aborted, reject opened and closed
    // with the signal's abort reason.
    this.#handshakeAborted = true;
    this.#rejectOpened(signal.reason);
    this.#rejectClosed(signal.reason);
    socket.terminate();
  }

  #forgetSignal(): void {
    if (this.#signal !== undefined && this.#onAbort !== undefined) {
      this.#signal.removeEventListener('abort', this.#onAbort);
    }
    this.#signal = undefined;
    this.#onAbort = undefined;
  }
}

shapeInterface(WebSocketStream, {
  name: 'WebSocketStream',
  length: 1,
  members: ['url', 'opened', 'closed', 'close'],
  lengths: { close: 0 },
});

function ignore(): void {}

/** The queuing size of a received message. */
function messageSize(chunk: WebSocketStreamMessage): number {
  return typeof chunk === 'string' ? chunk.length : chunk.byteLength;
}

/** WebIDL: `sequence<USVString>`; a string or another non-iterable is a TypeError. */
function toSequence(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as Iterable<unknown>)[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(
      "Failed to construct 'WebSocketStream': protocols must be a sequence of strings, such as ['chat'].",
    );
  }
  return [...(value as Iterable<unknown>)].map((protocol) => toDOMString(protocol, 'protocols'));
}

function toSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined || value === null) return undefined;
  if (!(value instanceof AbortSignal)) {
    throw new TypeError("Failed to construct 'WebSocketStream': signal must be an AbortSignal.");
  }
  return value;
}

/** WebIDL: the `WebSocketCloseInfo` dictionary; a value that is not an object is a TypeError. */
function toCloseInfo(value: unknown, what: string): { closeCode: number | undefined; reason: string } {
  if (value === undefined || value === null) return { closeCode: undefined, reason: '' };
  if (typeof value !== 'object' && typeof value !== 'function') {
    throw new TypeError(`${what}: The provided value is not of type 'WebSocketCloseInfo'.`);
  }
  const { closeCode, reason } = value as { closeCode?: unknown; reason?: unknown };
  return {
    closeCode: closeCode === undefined ? undefined : enforceRange(closeCode, what),
    reason: reason === undefined ? '' : toDOMString(reason, what),
  };
}

/** WebIDL: `[EnforceRange] unsigned short`. */
function enforceRange(value: unknown, what: string): number {
  const number = Number(value);
  if (!Number.isFinite(number)) throw new TypeError(`${what}: closeCode is not a finite number.`);
  const integer = Math.trunc(number);
  if (integer < 0 || integer > 0xffff) {
    throw new TypeError(`${what}: closeCode is outside the range of an unsigned short (0 to 65535).`);
  }
  return integer;
}

/**
 * Validate close code and reason: the WebSocket client's rules (unless
 * `checkCode` is false: the socket checks it), and a reason without a code
 * means 1000.
 */
function validateCloseInfo(
  info: { closeCode: number | undefined; reason: string },
  checkCode = true,
): { code: number | undefined; reason: string } {
  const code = info.closeCode;
  // 1. If code is not null, but is neither 1000 nor in 3000-4999, throw an "InvalidAccessError".
  if (checkCode && code !== undefined) checkClientCloseCode(code);
  // 2-3. If reason is longer than 123 UTF-8 bytes, throw a "SyntaxError".
  if (Buffer.byteLength(info.reason, 'utf8') > MAX_REASON_BYTES) {
    throw new DOMException(`The close reason must not be greater than ${MAX_REASON_BYTES} UTF-8 bytes.`, 'SyntaxError');
  }
  // If reason is non-empty but code is null, then set code to 1000 ("Normal Closure").
  return { code: code ?? (info.reason === '' ? undefined : 1000), reason: info.reason };
}

/** WebIDL: `(BufferSource or USVString)`; the bytes are copied. Shared and resizable buffers are a TypeError. */
function toMessage(chunk: unknown): string | Buffer {
  if (ArrayBuffer.isView(chunk)) {
    checkBuffer(chunk.buffer);
    return Buffer.from(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  if (chunk instanceof ArrayBuffer || isSharedArrayBuffer(chunk)) {
    checkBuffer(chunk as ArrayBufferLike);
    return Buffer.from(new Uint8Array(chunk as ArrayBuffer));
  }
  return toDOMString(chunk, "Failed to execute 'write' on 'WritableStreamDefaultWriter'");
}

function checkBuffer(buffer: ArrayBufferLike): void {
  if (isSharedArrayBuffer(buffer)) throw new TypeError('A WebSocketStream cannot send from a SharedArrayBuffer.');
  if ((buffer as ArrayBuffer & { resizable?: boolean }).resizable === true) {
    throw new TypeError('A WebSocketStream cannot send from a resizable ArrayBuffer.');
  }
}
