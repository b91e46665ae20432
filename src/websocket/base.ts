// The shared WebSocket core: driver <-> socket wiring, the ready-state
// machine, timers, events, and faye-websocket's stream and emitter aliases.
// The server socket and the client differ only in how they obtain
// `{ driver, socket }`; everything after that lives here.
//
// References:
// - WHATWG WebSockets: https://websockets.spec.whatwg.org/
// - DOM Standard, EventTarget: https://dom.spec.whatwg.org/#interface-eventtarget
// - HTML, event handler attributes: https://html.spec.whatwg.org/multipage/webappapis.html#event-handler-attributes
// - RFC 6455, The WebSocket Protocol: https://www.rfc-editor.org/rfc/rfc6455
// - faye/websocket-driver-node lib/websocket/streams.js (the io contract used here)
//
// Closing, as this module runs it:
//
//   close() / ping timeout        peer's close frame          protocol error
//            |                           |                          |
//   driver.close(): close frame   driver answers, 'close'    driver sends 1002/1007/1009,
//            |                           |                    'error' then 'close'
//            v                           v                          v
//   CLOSING, closeTimeout armed -> socket.end() ------------> socket 'close'
//                                                                   |
//                          CLOSED; error event if not clean; close event (1006 if not clean)

import type { Duplex } from 'node:stream';
import type { Driver } from 'websocket-driver';
import { ABNORMAL_CLOSURE, GOING_AWAY, PROTOCOL_ERROR, validateCloseArguments } from '../dom/close.js';
import { type BinaryType, type Payload, toMessageData, toPayload } from '../dom/data.js';
import { addListener, type EmitterListener, EventHandlers, removeListener, StreamEvents } from '../dom/listeners.js';
import {
  type AddEventListenerOptions,
  CloseEvent,
  ErrorEvent,
  type ErrorEventLike,
  type EventHandler,
  type EventListenerOptions,
  type EventListenerOrEventListenerObject,
  type Listener,
  type WebSocketEventMap,
} from '../events.js';
import { readHeader } from '../net/headers.js';
import { binaryType as checkBinaryType, type ResolvedOptions } from '../options.js';
import { limitExtension } from '../protocol/deflate-limit.js';
import { installDriverPatches } from '../protocol/driver-patches.js';
import { encodeMessage, MaskedFrameDetector } from '../protocol/frame.js';

/**
 * Whether websocket-driver runs our faster mask and message read (see
 * driver-patches.ts): true for the driver versions we checked.
 */
export const DRIVER_PATCHED = installDriverPatches();

/** Why the client fails a connection whose server masked a frame. */
const MASKED_FRAME = 'Received a masked frame from the server (RFC 6455 §5.1)';

/** Largest handshake response head the client reads before failing (bytes). */
export const MAX_HANDSHAKE_RESPONSE = 64 * 1024;

/** The four ready states, as numbers, shared by class and instance. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
export type ReadyStateValue = (typeof ReadyState)[keyof typeof ReadyState];

/** @internal How a subclass configures the shared core. */
export interface CoreConfig {
  role: 'server' | 'client';
  url: string;
  origin: string;
  options: ResolvedOptions;
}

interface CloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
}

/**
 * What the server-side `WebSocket` and `WebSocket.Client` share: the browser
 * `WebSocket` interface, faye-websocket's `on`/`off`/`once` and stream methods.
 * Not constructed directly.
 */
export class WebSocketBase<B extends BinaryType = BinaryType> extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readonly #role: 'server' | 'client';
  readonly #url: string;
  readonly #origin: string;
  readonly #options: ResolvedOptions;

  #readyState: ReadyStateValue = ReadyState.CONNECTING;
  #protocol = '';
  #extensions = '';
  #bufferedAmount = 0;
  #binaryType: BinaryType;

  #driver: Driver | undefined;
  #socket: Duplex | undefined;

  /** Sizes of data frames handed to the driver and not yet seen on io, in order. */
  #pendingSizes: number[] = [];
  /** Messages waiting behind a Blob that is still being read. */
  #sendQueue: Payload[] = [];
  #pumping = false;
  #closeAfterQueue: { code: number | undefined; reason: string } | undefined;
  #pendingClose: { code: number | undefined; reason: string } | undefined;

  #closeInfo: CloseInfo | undefined;
  #failure: { message: string; error: unknown } | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #pingId = 0;
  #awaitingPong = false;
  /** Writes so far in this tick: 0, 1 (the first went straight out), 2 (corked). */
  #tickWrites = 0;
  /** Whether the opening handshake completed. */
  #opened = false;
  /** Client only: frame boundaries in what the server sends, to catch masked frames. */
  #maskWatch: MaskedFrameDetector | undefined;
  #handshakeBytes: Buffer[] | undefined;

  readonly #handlers = new EventHandlers(this);
  readonly #stream = new StreamEvents();

  /** faye's stream flags. */
  readable = true;
  writable = true;

  /** @internal */
  protected constructor(config: CoreConfig) {
    super();
    this.#role = config.role;
    this.#url = config.url;
    this.#origin = config.origin;
    this.#options = config.options;
    this.#binaryType = config.options.binaryType;
  }

  get CONNECTING(): 0 {
    return 0;
  }
  get OPEN(): 1 {
    return 1;
  }
  get CLOSING(): 2 {
    return 2;
  }
  get CLOSED(): 3 {
    return 3;
  }

  /** The URL of the connection: `ws:` or `wss:`. */
  get url(): string {
    return this.#url;
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  get readyState(): ReadyStateValue {
    return this.#readyState;
  }

  /** The subprotocol selected in the handshake, or `''`. */
  get protocol(): string {
    return this.#protocol;
  }

  /** The negotiated `Sec-WebSocket-Extensions` value, or `''`. */
  get extensions(): string {
    return this.#extensions;
  }

  /** Bytes of application data accepted by send() and not yet handed to the OS. */
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /** The protocol version the driver speaks, `'hybi-13'`. */
  get version(): string {
    return this.#driver?.version ?? 'hybi-13';
  }

  /** How binary messages arrive: `'blob'`, `'arraybuffer'` or `'nodebuffer'`. */
  get binaryType(): B {
    return this.#binaryType as B;
  }

  set binaryType(value: B) {
    // WebIDL enum attribute: an unknown value is ignored, not thrown.
    try {
      this.#binaryType = checkBinaryType(value);
    } catch {
      // ignored, as browsers do
    }
  }

  get onopen(): EventHandler<Event> {
    return this.#handlers.get('open');
  }
  set onopen(value: EventHandler<Event>) {
    this.#handlers.set('open', value);
  }
  get onmessage(): EventHandler<MessageEvent> {
    return this.#handlers.get('message');
  }
  set onmessage(value: EventHandler<MessageEvent>) {
    this.#handlers.set('message', value);
  }
  get onerror(): EventHandler<ErrorEventLike> {
    return this.#handlers.get('error');
  }
  set onerror(value: EventHandler<ErrorEventLike>) {
    this.#handlers.set('error', value);
  }
  get onclose(): EventHandler<CloseEvent> {
    return this.#handlers.get('close');
  }
  set onclose(value: EventHandler<CloseEvent>) {
    this.#handlers.set('close', value);
  }

  override addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: Listener<WebSocketEventMap[K]> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (listener) super.addEventListener(type, listener, options);
  }

  override removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: Listener<WebSocketEventMap[K]> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    if (listener) super.removeEventListener(type, listener, options);
  }

  /**
   * Sends a message: a string as text; a Buffer, ArrayBuffer, ArrayBufferView
   * or Blob as binary (Blobs keep their place in the order of messages).
   *
   * @returns false when the socket's buffer is over its high-water mark (wait
   * for `'drain'`) or the socket is closing; true otherwise.
   * @see https://websockets.spec.whatwg.org/#dom-websocket-send
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): boolean {
    const payload = toPayload(data);
    // 1. If this's ready state is CONNECTING, throw an "InvalidStateError" DOMException.
    //    Note: extension, not in the spec: the server socket queues instead, as faye does.
    if (this.#readyState === ReadyState.CONNECTING && this.#role === 'client') {
      throw new DOMException('Still in CONNECTING state.', 'InvalidStateError');
    }
    // 2. ... If the data cannot be sent (the closing handshake has started),
    //    increase the bufferedAmount attribute by the length of data.
    if (this.#readyState >= ReadyState.CLOSING) {
      if (this.#role === 'client') this.#bufferedAmount += payload.size;
      return false;
    }
    this.#bufferedAmount += payload.size;
    if (payload.kind === 'blob' || this.#sendQueue.length > 0) {
      this.#sendQueue.push(payload);
      this.#pumpSendQueue();
    } else {
      this.#frame(payload);
    }
    return this.#socket ? !this.#socket.writableNeedDrain : true;
  }

  /**
   * Sends a ping; `callback` runs when the matching pong arrives.
   * @returns false when the connection is not open (the server socket queues
   * a ping made while CONNECTING).
   */
  ping(data?: string | Buffer, callback?: () => void): boolean {
    // Note: extension, not in the spec. While CONNECTING the server socket
    // queues the ping until the handshake is done, as faye does.
    const queued = this.#readyState === ReadyState.CONNECTING && this.#role === 'server';
    if ((this.#readyState !== ReadyState.OPEN && !queued) || !this.#driver) return false;
    return this.#driver.ping(data === undefined ? '' : data, callback);
  }

  /**
   * Starts the closing handshake.
   *
   * @param code 1000 or 3000-4999, else an `InvalidAccessError` DOMException.
   * @param reason At most 123 UTF-8 bytes, else a `SyntaxError` DOMException.
   * @see https://websockets.spec.whatwg.org/#dom-websocket-close
   */
  close(code?: number, reason?: string): void {
    // 1-2. Validate code and reason (throws).
    const args = validateCloseArguments(code, reason);
    // 3. Run the first matching steps:
    //    If this's ready state is CLOSING (2) or CLOSED (3): do nothing.
    if (this.#readyState >= ReadyState.CLOSING) return;
    //    If the WebSocket connection is not yet established: fail the
    //    WebSocket connection and set this's ready state to CLOSING.
    if (this.#readyState === ReadyState.CONNECTING) {
      if (this.#role === 'server') {
        // Note: extension, not in the spec: the server socket completes the
        // opening handshake it already owes the client, then closes at once.
        this.#pendingClose = args;
        this.#readyState = ReadyState.CLOSING;
        return;
      }
      this._failTheConnection('WebSocket was closed before the connection was established');
      return;
    }
    //    If the closing handshake has not yet been started: start the
    //    WebSocket closing handshake and set this's ready state to CLOSING.
    this.#readyState = ReadyState.CLOSING;
    if (this.#sendQueue.length > 0) {
      this.#closeAfterQueue = args;
    } else {
      this.#startTheClosingHandshake(args.code, args.reason);
    }
  }

  // ---- faye's stream interface -------------------------------------------

  /** faye: same as send(). */
  write(data: string | ArrayBufferLike | ArrayBufferView | Blob): boolean {
    return this.send(data);
  }

  /** faye: sends `data` if given, then closes. */
  end(data?: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (data !== undefined) this.send(data);
    this.close();
  }

  /** Stops reading from the socket until resume(). */
  pause(): void {
    this.#socket?.pause();
  }

  /** Starts reading from the socket again. */
  resume(): void {
    this.#socket?.resume();
  }

  /**
   * Pipes incoming messages into a writable (another socket, or this one for
   * an echo), pausing this socket while the destination is full.
   */
  pipe<T extends NodeJS.WritableStream | WebSocketBase>(destination: T, options?: { end?: boolean }): T {
    const dest = destination as unknown as {
      write(chunk: unknown): boolean;
      end(): void;
      on?(event: string, listener: EmitterListener): unknown;
      removeListener?(event: string, listener: EmitterListener): unknown;
    };
    const ondata = (chunk: unknown): void => {
      if (dest.write(chunk) === false) this.pause();
    };
    const ondrain = (): void => this.resume();
    const onend = (): void => {
      dest.removeListener?.('drain', ondrain);
      if (options?.end !== false) dest.end();
    };
    this.on('data', ondata);
    this.once('end', onend);
    dest.on?.('drain', ondrain);
    return destination;
  }

  // ---- faye's EventEmitter aliases ----------------------------------------

  /**
   * faye: `on('message', fn)` adds a listener for the W3C event; stream events
   * (`data`, `drain`, `end`) are emitted to these listeners with their value.
   */
  on<K extends keyof WebSocketEventMap>(type: K, listener: (event: WebSocketEventMap[K]) => void): this;
  on(type: string, listener: EmitterListener): this;
  on(type: string, listener: EmitterListener): this {
    addListener(this, this.#stream, type, listener, false);
    return this;
  }

  /** Alias of on(). */
  addListener(type: string, listener: EmitterListener): this {
    return this.on(type, listener);
  }

  /** Alias of on(), for Node streams that pipe into this socket. */
  prependListener(type: string, listener: EmitterListener): this {
    return this.on(type, listener);
  }

  /** faye: a listener that runs once. */
  once<K extends keyof WebSocketEventMap>(type: K, listener: (event: WebSocketEventMap[K]) => void): this;
  once(type: string, listener: EmitterListener): this;
  once(type: string, listener: EmitterListener): this {
    addListener(this, this.#stream, type, listener, true);
    return this;
  }

  /** faye: removes a listener added with on() or once(). */
  off(type: string, listener: EmitterListener): this {
    removeListener(this, this.#stream, type, listener);
    return this;
  }

  /** Alias of off(). */
  removeListener(type: string, listener: EmitterListener): this {
    return this.off(type, listener);
  }

  /** Number of emitter listeners for a stream event. */
  listenerCount(type: string): number {
    return this.#stream.count(type);
  }

  /**
   * Emits a stream event (`data`, `drain`, `end`, `pipe`...) to on() listeners.
   * W3C events are dispatched with dispatchEvent(), not emitted.
   */
  emit(type: string, ...args: unknown[]): boolean {
    return this.#stream.emit(type, ...args);
  }

  // ---- what subclasses call ------------------------------------------------

  /**
   * @internal Adds the configured headers and extensions to a driver that
   * has not started yet.
   */
  protected _configureDriver(driver: Driver): void {
    for (const [name, value] of this.#options.headers) driver.setHeader(name, value);
    for (const extension of this.#options.extensions) {
      driver.addExtension(limitExtension(extension, this.#options.maxLength) as Parameters<Driver['addExtension']>[0]);
    }
  }

  /**
   * @internal Wires a driver to its socket. The subclass starts the driver
   * afterwards. A socket that is already closed fails the connection.
   */
  protected _attach(driver: Driver, socket: Duplex): void {
    this.#driver = driver;
    this.#socket = socket;

    driver.io.on('data', this.#writeOut);
    driver.on('open', () => this.#announceTheConnection());
    driver.on('message', (event) => this.#receiveMessage(event.data));
    driver.on('error', (error) => {
      this.#failure ??= { message: error.message, error };
    });
    driver.on('close', (event) => this.#onDriverClose(event.code, event.reason));
    driver.on('pong', () => {
      this.#awaitingPong = false;
    });

    if (this.#role === 'client') {
      this.#maskWatch = new MaskedFrameDetector();
      this.#handshakeBytes = [];
      socket.on('data', (chunk: Buffer) => this.#receiveFromServer(driver, chunk));
    } else {
      socket.on('data', (chunk: Buffer) => driver.parse(chunk));
    }
    socket.on('end', () => {
      // The peer sent FIN: finish our half too, so 'close' follows.
      if (!socket.writableEnded) socket.end();
    });
    socket.on('error', (error: Error) => {
      // A network error before the handshake completes fails the connection;
      // after it, the connection just closes (1006), as in browsers.
      if (this.#readyState === ReadyState.CONNECTING) {
        this.#failure ??= { message: `Network error: ${this.#url}: ${error.message}`, error };
      }
    });
    socket.on('close', () => this.#finalize());
    socket.on('drain', () => this.emit('drain'));

    const tcp = socket as Duplex & { setNoDelay?(on: boolean): void; setTimeout?(ms: number): void };
    tcp.setNoDelay?.(true);
    tcp.setTimeout?.(0);

    socket.resume();

    if (socket.destroyed || !socket.writable || socket.readableEnded) {
      this._failTheConnection('The socket was already closed when the WebSocket was created');
    }
  }

  /** @internal Whether this object still expects its handshake to run. */
  protected get _isConnecting(): boolean {
    return this.#readyState === ReadyState.CONNECTING || this.#pendingClose !== undefined;
  }

  /**
   * @internal Fails the WebSocket connection: records why, drops the TCP
   * connection, and (once it is gone) dispatches error then close 1006.
   * @see https://websockets.spec.whatwg.org/#fail-the-websocket-connection
   */
  protected _failTheConnection(message: string, error?: unknown): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    this.#failure ??= { message, error: error ?? new Error(message) };
    if (this.#readyState < ReadyState.CLOSING) this.#readyState = ReadyState.CLOSING;
    const socket = this.#socket;
    if (socket && !socket.destroyed) {
      socket.destroy();
    } else if (socket === undefined) {
      this._abortConnecting?.();
      setImmediate(() => this.#finalize());
    } else if ((socket as Duplex & { closed?: boolean }).closed) {
      // The socket emitted 'close' before we listened: finish here.
      setImmediate(() => this.#finalize());
    }
  }

  /**
   * @internal Refuses the opening handshake: writes the HTTP response, ends
   * the socket, and (once it is gone) dispatches error then close 1006.
   */
  protected _refuseTheHandshake(response: string, message: string): void {
    this.#failure ??= { message, error: new Error(message) };
    this.#readyState = ReadyState.CLOSING;
    const socket = this.#socket;
    if (socket && !socket.destroyed) {
      socket.end(response, () => socket.destroy());
      this.#armCloseTimer();
    }
  }

  /** @internal Set by a subclass that can cancel a connection in progress. */
  protected _abortConnecting: (() => void) | undefined;

  // ---- the algorithms -----------------------------------------------------

  /** The driver emits bytes to write: handshake, frames. */
  #writeOut = (chunk: Buffer): void => {
    const socket = this.#socket;
    const driver = this.#driver;
    if (!socket || !driver || socket.destroyed) return;
    if (driver.readyState < 1) {
      // Handshake bytes. The server learns the negotiated extensions here.
      if (this.#role === 'server' && chunk.subarray(0, 12).toString('latin1') === 'HTTP/1.1 101') {
        this.#extensions = readHeader(chunk.toString('latin1'), 'Sec-WebSocket-Extensions') ?? '';
      }
      socket.write(chunk);
      return;
    }
    this.#corkForThisTick(socket);
    const opcode = (chunk[0] ?? 0) & 0x0f;
    const size = opcode <= 2 ? this.#pendingSizes.shift() : undefined;
    if (size) {
      socket.write(chunk, () => {
        this.#bufferedAmount -= size;
      });
    } else {
      socket.write(chunk);
    }
  };

  /**
   * Called before each write: the first frame of a tick goes straight out
   * (no added latency); the frames after it in the same tick are corked and
   * leave together in one write when the tick ends.
   */
  #corkForThisTick(socket: Duplex): void {
    if (this.#tickWrites === 0) {
      this.#tickWrites = 1;
      process.nextTick(this.#endTick, socket);
    } else if (this.#tickWrites === 1) {
      this.#tickWrites = 2;
      socket.cork();
    }
  }

  #endTick = (socket: Duplex): void => {
    if (this.#tickWrites === 2) socket.uncork();
    this.#tickWrites = 0;
  };

  #frame(payload: Payload): void {
    const driver = this.#driver;
    if (!driver) return;
    const socket = this.#socket;
    if (this.#extensions === '' && driver.readyState === 1 && socket && !socket.destroyed && payload.kind !== 'blob') {
      // Fast path: no extension to run, so frame the message here and write it
      // without the driver's copy (see frame.ts). Order is kept: everything
      // reaches the socket synchronously.
      this.#corkForThisTick(socket);
      const size = payload.size;
      const buffers = encodeMessage(payload.data, this.#role === 'client', size);
      for (let i = 0; i < buffers.length - 1; i++) socket.write(buffers[i] as Buffer);
      socket.write(buffers[buffers.length - 1] as Buffer, () => {
        this.#bufferedAmount -= size;
      });
      return;
    }
    this.#pendingSizes.push(payload.size);
    if (payload.kind === 'text') {
      driver.text(payload.data);
    } else if (payload.kind === 'binary') {
      // An extension may read the bytes after send() returns: copy views then.
      const data =
        this.#extensions !== '' && payload.data.buffer.byteLength !== payload.data.length
          ? Buffer.from(payload.data)
          : payload.data;
      driver.binary(data);
    }
  }

  #pumpSendQueue(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    const step = (): void => {
      while (this.#sendQueue.length > 0) {
        const head = this.#sendQueue[0] as Payload;
        if (head.kind === 'blob') {
          head.data.arrayBuffer().then(
            (buffer) => {
              this.#sendQueue[0] = { kind: 'binary', data: Buffer.from(buffer), size: head.size };
              step();
            },
            (error: unknown) => {
              this.#sendQueue = [];
              this.#pumping = false;
              this._failTheConnection(`Could not read a Blob passed to send(): ${String(error)}`, error);
            },
          );
          return;
        }
        this.#sendQueue.shift();
        if (this.#readyState <= ReadyState.CLOSING) this.#frame(head);
      }
      this.#pumping = false;
      const close = this.#closeAfterQueue;
      if (close) {
        this.#closeAfterQueue = undefined;
        this.#startTheClosingHandshake(close.code, close.reason);
      }
    };
    step();
  }

  /** @see https://websockets.spec.whatwg.org/#feedback-from-the-protocol */
  #announceTheConnection(): void {
    const driver = this.#driver as Driver;
    // 2. Change the ready state to OPEN (1). (Steps 3-5 set extensions and protocol.)
    if (this.#role === 'client') {
      this.#extensions = driver.headers?.['sec-websocket-extensions'] ?? '';
    }
    this.#protocol = driver.protocol ?? '';
    this.#opened = true;
    const pending = this.#pendingClose;
    if (pending) {
      // close() was called while CONNECTING on the server: close at once.
      this.#pendingClose = undefined;
      this.#startTheClosingHandshake(pending.code, pending.reason);
      return;
    }
    if (this.#readyState !== ReadyState.CONNECTING) return;
    this.#readyState = ReadyState.OPEN;
    this.#startPinging();
    // 6. Fire an event named open at the WebSocket object.
    this.dispatchEvent(new Event('open'));
  }

  /** @see https://websockets.spec.whatwg.org/#feedback-from-the-protocol */
  #receiveMessage(data: string | Buffer): void {
    // 1. If ready state is not OPEN (1), then return.
    if (this.#readyState !== ReadyState.OPEN) return;
    if (this.readable) this.emit('data', data);
    // 2-3. Let dataForEvent be the data, typed by binaryType.
    const value = typeof data === 'string' ? data : toMessageData(data, this.#binaryType);
    // 4. Fire an event named message, using MessageEvent, with the origin
    //    attribute initialized to the serialization of the URL's origin.
    this.dispatchEvent(new MessageEvent('message', { data: value, origin: this.#origin }));
  }

  #startTheClosingHandshake(code: number | undefined, reason: string): void {
    const driver = this.#driver;
    this.#armCloseTimer();
    if (!driver) return;
    // RFC 6455 §7.4.1: 1005 MUST NOT be sent; the driver sends 1000 when no code is given.
    driver.close(reason, code);
  }

  #onDriverClose(code: number, reason: string): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    if (!this.#failure && !this.#closeInfo) {
      // The closing handshake is complete: both close frames have been exchanged.
      this.#closeInfo = { code, reason, wasClean: true };
    }
    if (this.#readyState < ReadyState.CLOSING) this.#readyState = ReadyState.CLOSING;
    this.#stopPinging();
    // RFC 6455 §7.1.1: the server closes TCP first; the client may too after a timeout.
    const socket = this.#socket;
    if (socket && !socket.destroyed) {
      if (this.#failure) socket.end(() => socket.destroy());
      else socket.end();
      this.#armCloseTimer();
    }
  }

  #armCloseTimer(): void {
    if (this.#closeTimer || this.#readyState === ReadyState.CLOSED) return;
    this.#closeTimer = setTimeout(() => {
      // The peer never finished the closing handshake: drop TCP (close 1006).
      this.#closeTimer = undefined;
      this.#socket?.destroy();
    }, this.#options.closeTimeout);
    this.#closeTimer.unref?.();
  }

  #startPinging(): void {
    const seconds = this.#options.ping;
    if (!seconds) return;
    this.#pingTimer = setInterval(() => {
      if (this.#awaitingPong) {
        this.#failWithCode(GOING_AWAY, `No pong received within ${seconds} s of a ping`);
        return;
      }
      this.#awaitingPong = true;
      this.#pingId += 1;
      this.#driver?.ping(String(this.#pingId));
    }, seconds * 1000);
  }

  #stopPinging(): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  /**
   * The client's input path: frames from the server are checked for the MASK
   * bit before the driver sees them (the handshake's own chunk after it).
   */
  #receiveFromServer(driver: Driver, chunk: Buffer): void {
    if (this.#maskWatch === undefined) return;
    const head = this.#handshakeBytes;
    if (head === undefined) {
      if (this.#maskWatch.scan(chunk)) this.#rejectMaskedFrame();
      else driver.parse(chunk);
      return;
    }
    // Still in the handshake: the chunk that ends the response may already
    // hold frames, which are checked before the driver sees any of it.
    head.push(chunk);
    const bytes = head.length === 1 ? chunk : Buffer.concat(head);
    const end = bytes.indexOf('\r\n\r\n');
    if ((end < 0 ? bytes.length : end) > MAX_HANDSHAKE_RESPONSE) {
      this.#maskWatch = undefined;
      this.#handshakeBytes = undefined;
      this._failTheConnection(`The handshake response head is over ${MAX_HANDSHAKE_RESPONSE} bytes`);
      return;
    }
    if (end >= 0) {
      this.#handshakeBytes = undefined;
      if (this.#maskWatch.scan(bytes.subarray(end + 4))) {
        this.#maskWatch = undefined;
        this._failTheConnection(MASKED_FRAME);
        return;
      }
    }
    driver.parse(chunk);
  }

  #rejectMaskedFrame(): void {
    this.#maskWatch = undefined;
    this.#failWithCode(PROTOCOL_ERROR, MASKED_FRAME);
  }

  /** Closes with a code of our own: close frame sent, TCP dropped once it is flushed. */
  #failWithCode(code: number, message: string): void {
    this.#stopPinging();
    this.#failure ??= { message, error: new Error(message) };
    this.#readyState = ReadyState.CLOSING;
    this.#driver?.close(message.slice(0, 123), code);
    const socket = this.#socket;
    if (socket && !socket.destroyed) socket.end(() => socket.destroy());
    this.#armCloseTimer();
  }

  /** @see https://websockets.spec.whatwg.org/#closeWebSocket */
  #finalize(): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    // 1. Change the ready state to CLOSED (3).
    this.#readyState = ReadyState.CLOSED;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.#stopPinging();
    this.#sendQueue = [];
    this.#pendingClose = undefined;

    const clean = this.#closeInfo?.wasClean === true;
    const info: CloseInfo = clean
      ? (this.#closeInfo as CloseInfo)
      : { code: ABNORMAL_CLOSURE, reason: '', wasClean: false };

    if (this.readable) this.emit('end');
    this.readable = this.writable = false;

    // 2. If the user agent was required to fail the WebSocket connection, or
    //    if the WebSocket connection was closed after being flagged as full,
    //    fire an event named error at the WebSocket object.
    //    A connection that closes before its opening handshake completed has
    //    failed; one that drops after it (a reset, a lost peer) has not, and
    //    gets only close 1006, as Chromium does.
    const failure =
      this.#failure ??
      (this.#opened || clean
        ? undefined
        : {
            message: `The connection to ${this.#url} closed before the WebSocket handshake completed`,
            error: undefined,
          });
    if (!clean && failure) {
      this.dispatchEvent(new ErrorEvent('error', { message: failure.message, error: failure.error }));
    }
    // 3. Fire an event named close at the WebSocket object, using CloseEvent.
    this.dispatchEvent(new CloseEvent('close', info));
  }
}
