// The browser-facing WebSocket shared by the server socket and the client:
// ready states, events, closing and failing, and faye-websocket's stream and
// emitter aliases. It drives one protocol Connection
// (src/protocol/connection.ts) over one Duplex: a TCP or TLS socket, or an
// HTTP/2 stream. It never sees websocket-driver. What it sends goes through
// its Sender (./sender.ts: the queue, Blobs, bufferedAmount, the per-tick cork).
//
// The server socket and the client are the two factories over it
// (server.ts, client.ts): they make the transport, run the opening handshake,
// and call _open(); the few places where the two roles differ are hooks they
// implement (_checkSendWhileConnecting) or public methods each defines
// (send, close: their contracts differ).
//
// Closing, as this module runs it:
//
//   close()                    peer's close frame              peer breaks the protocol,
//      |                              |                        ping timeout, _fail()
//   close frame sent           our close frame answers it      close frame with the code
//   CLOSING, timer armed              |                               |
//      |  peer's close frame          v                               v
//      +--------------------> TCP ended (FIN) -----------------> TCP ended, then destroyed
//                                     |                               |
//                          socket 'close' -> CLOSED, close event   socket 'close' -> CLOSED,
//                          (clean: the peer's code, 1005 if none)  error then close 1006
//
// A drop (reset, FIN without a close frame, closeTimeout) is close 1006 with
// no error once open, as in Chromium; before open it is a failure. Once both
// close frames crossed, the server ends TCP at once (RFC 6455 §7.1.1); the
// client waits for the server to (_peerCloseWait), then drops it.
//
// Reading: starts at open (bytes before it wait in the transport); stops
// while answers to the peer's pings have put the transport over its
// high-water mark, until 'drain' (#answered); while more than the
// connection's MAX_UNPARSED bytes wait unparsed behind a message that
// permessage-deflate is inflating, until the connection parsed them
// (handler.resume); and while the application has called pause(). Each
// reason is undone only by its own resume.
//
// Memory: an idle connection holds this object, its Connection, and the
// socket's listeners, which are shared functions (the socket points back
// here through a symbol), not closures; queues, handler records and timers
// are made when first needed.
//
// References:
// - WHATWG WebSockets: https://websockets.spec.whatwg.org/
// - DOM Standard, EventTarget: https://dom.spec.whatwg.org/#interface-eventtarget
// - HTML, event handler attributes: https://html.spec.whatwg.org/multipage/webappapis.html#event-handler-attributes
// - RFC 6455 §7, closing the connection: https://www.rfc-editor.org/rfc/rfc6455#section-7
// - websockets/ws lib/websocket.js (close() diagram, socket listeners shared through a symbol)
// - Diagnostics: open, close, error, ping and pong are published to
//   diagnostics_channel (../diagnostics.ts, docs/diagnostics.md) just before
//   the event they describe, only when someone subscribes.

import type { Duplex } from 'node:stream';
import { writeFramed } from '../channel/member.js';
import {
  type DiagnosticsRole,
  publishWebSocketClose,
  publishWebSocketError,
  publishWebSocketOpen,
  publishWebSocketPing,
} from '../diagnostics.js';
import { type BinaryType, type Payload, toMessageData, toPayload } from '../dom/data.js';
import { type FayeFace, installFayeFace, streamEvents } from '../dom/faye-face.js';
import { type EmitterListener, getEventHandler, setEventHandler } from '../dom/listeners.js';
import { installTypedListeners, TypedEventTargetBase } from '../dom/typed-target.js';
import { defineToStringTag } from '../dom/webidl.js';
import {
  CloseEvent,
  ErrorEvent,
  type ErrorEventLike,
  type EventHandler,
  MessageEvent as WebMessageEvent,
  type WebSocketEventMap,
} from '../events.js';
import { binaryType as checkBinaryType } from '../options.js';
import { ABNORMAL_CLOSURE, GOING_AWAY, INTERNAL_ERROR } from '../protocol/codes.js';
import { Connection, type ConnectionHandler } from '../protocol/connection.js';
import type { Negotiated } from '../protocol/extensions.js';
import { type FramePayload, type SendCallback, Sender, type SenderHandler } from './sender.js';

/** The four ready states, as numbers, shared by class and instance. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
export type ReadyStateValue = (typeof ReadyState)[keyof typeof ReadyState];

/** @internal What a factory gives the base. */
export interface BaseConfig {
  url: string;
  origin: string;
  binaryType: BinaryType;
  closeTimeout: number;
  /** Seconds between pings; 0 for none. */
  ping: number;
}

/** @internal What a factory passes once its opening handshake is done. */
export interface OpenConfig {
  client: boolean;
  maxLength: number;
  /** Frames per message; the connection's default (from maxLength) when absent. */
  maxFragments?: number | undefined;
  protocol: string;
  extensions: string;
  negotiated: Negotiated | undefined;
  /** Bytes that came with the handshake, past it. */
  head: Buffer | undefined;
}

const OWNER = Symbol('isosocket.websocket');

/** Reading paused by the application (pause()). */
const PAUSED_BY_APP = 1;
/** Reading paused by the connection until the transport drains (#answered). */
const PAUSED_FOR_DRAIN = 2;
/** Reading paused while the connection holds too many unparsed bytes (Connection#receive false). */
const PAUSED_FOR_BACKLOG = 4;
type Owned = Duplex & { [OWNER]?: WebSocketBase };

/** close() while CONNECTING (the server): the handshake completes, then the connection closes at once. */
const UNTIL_OPEN = 0;
/** close() while messages wait in the send queue: the closing handshake starts once they are sent. */
const UNTIL_FLUSHED = 1;
/** A close() whose closing handshake starts later, and what it waits for. */
interface DeferredClose {
  until: typeof UNTIL_OPEN | typeof UNTIL_FLUSHED;
  code: number | undefined;
  reason: string;
}

let socketListeners: {
  data(this: Owned, chunk: Buffer): void;
  end(this: Owned): void;
  error(this: Owned, error: Error): void;
  close(this: Owned): void;
  drain(this: Owned): void;
};

/**
 * What the server-side `WebSocket` and `WebSocket.Client` share: the browser
 * `WebSocket` interface, faye-websocket's `on`/`off`/`once` and stream methods.
 * Not constructed directly.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: faye's face (../dom/faye-face.ts) is installed on the prototype below
export class WebSocketBase<B extends BinaryType = BinaryType> extends TypedEventTargetBase<WebSocketEventMap> {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readonly #url: string;
  readonly #origin: string;
  readonly #closeTimeout: number;
  readonly #pingSeconds: number;

  #readyState: ReadyStateValue = ReadyState.CONNECTING;
  #protocol = '';
  #extensions = '';
  #binaryType: BinaryType;

  #socket: Duplex | undefined;
  #connection: Connection<WebSocketBase> | undefined;
  /** The send queue, bufferedAmount and writes (./sender.ts), made when first needed. */
  #sender: Sender<WebSocketBase> | undefined;
  /** Why reading is paused: PAUSED_BY_APP, PAUSED_FOR_DRAIN, PAUSED_FOR_BACKLOG, any of them, or 0. */
  #paused = 0;

  #pings: Array<[Buffer, (() => void) | undefined]> | undefined;
  #pongCallbacks: Map<string, () => void> | undefined;
  /** A close() that waits: for the handshake (UNTIL_OPEN) or for the send queue (UNTIL_FLUSHED). */
  #deferredClose: DeferredClose | undefined;

  /** The peer's close frame, once both close frames crossed. */
  #closeFrame: { code: number; reason: string } | undefined;
  #failure: { message: string; error: unknown } | undefined;
  #opened = false;

  #closeTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;

  /** faye's stream flags. */
  readable = true;
  writable = true;

  /**
   * `x instanceof WebSocketBase` is true for a server `WebSocket` and a
   * `WebSocket.Client` alike, by brand: the client's prototype chain is the
   * WebIDL interface's (`Client.prototype`, then `EventTarget.prototype`),
   * not this class's. Subclasses keep the ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `instanceof` may ask a subclass, which keeps the ordinary check
    if (this !== WebSocketBase) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && #url in value;
  }

  /** @internal */
  protected constructor(config: BaseConfig) {
    super();
    this.#url = config.url;
    this.#origin = config.origin;
    this.#binaryType = config.binaryType;
    this.#closeTimeout = config.closeTimeout;
    this.#pingSeconds = config.ping;
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
    return this.#sender?.bufferedAmount ?? 0;
  }

  /** The protocol version, `'hybi-13'` (faye). */
  get version(): string {
    return 'hybi-13';
  }

  /** How binary messages arrive: `'blob'`, `'arraybuffer'` or `'nodebuffer'`. */
  get binaryType(): B {
    return WebSocketBase.#branded(this).#binaryType as B;
  }

  set binaryType(value: B) {
    const ws = WebSocketBase.#branded(this);
    // WebIDL enum attribute: an unknown value is ignored, not thrown.
    try {
      ws.#binaryType = checkBinaryType(value);
    } catch {
      // ignored, as browsers do
    }
  }

  // The handlers live beside the object (src/dom/listeners.ts); the brand
  // check makes these accessors refuse other objects, as WebIDL's do.
  get onopen(): EventHandler<Event> {
    return getEventHandler(WebSocketBase.#branded(this), 'open');
  }
  set onopen(value: EventHandler<Event>) {
    setEventHandler(WebSocketBase.#branded(this), 'open', value);
  }
  get onmessage(): EventHandler<MessageEvent> {
    return getEventHandler(WebSocketBase.#branded(this), 'message');
  }
  set onmessage(value: EventHandler<MessageEvent>) {
    setEventHandler(WebSocketBase.#branded(this), 'message', value);
  }
  get onerror(): EventHandler<ErrorEventLike> {
    return getEventHandler(WebSocketBase.#branded(this), 'error');
  }
  set onerror(value: EventHandler<ErrorEventLike>) {
    setEventHandler(WebSocketBase.#branded(this), 'error', value);
  }
  get onclose(): EventHandler<CloseEvent> {
    return getEventHandler(WebSocketBase.#branded(this), 'close');
  }
  set onclose(value: EventHandler<CloseEvent>) {
    setEventHandler(WebSocketBase.#branded(this), 'close', value);
  }

  /** `object`, when it is a WebSocket; a TypeError otherwise (WebIDL's brand check). */
  static #branded(object: WebSocketBase): WebSocketBase {
    if (!(#url in object)) throw new TypeError('Illegal invocation');
    return object;
  }

  /**
   * Sends a ping; `callback` runs when a pong with the same payload arrives.
   * A ping made while CONNECTING is sent once open (faye).
   *
   * @param data At most 125 bytes (RFC 6455 §5.5), else a RangeError.
   * @returns false when the connection is closing or closed.
   */
  ping(data?: string | Buffer, callback?: () => void): boolean {
    // Note: extension, not in the spec (browsers cannot ping).
    const payload = data === undefined ? Buffer.alloc(0) : Buffer.from(data);
    if (payload.length > 125) throw new RangeError('A ping carries at most 125 bytes (RFC 6455 §5.5)');
    if (this.#readyState === ReadyState.CONNECTING) {
      this.#pings ??= [];
      this.#pings.push([payload, callback]);
      return true;
    }
    const connection = this.#connection;
    if (this.#readyState !== ReadyState.OPEN || !connection) return false;
    if (callback) {
      this.#pongCallbacks ??= new Map();
      this.#pongCallbacks.set(payload.toString('latin1'), callback);
    }
    connection.ping(payload);
    return true;
  }

  /**
   * Drops the connection now, without a closing handshake (ws's name): close
   * 1006 follows, and error too while CONNECTING.
   */
  terminate(): void {
    // Note: extension, not in the spec.
    if (this.#readyState === ReadyState.CLOSED) return;
    if (this.#readyState === ReadyState.CONNECTING && !this.#opened) {
      this._fail(undefined, 'The connection was terminated before it opened');
      return;
    }
    if (this.#readyState < ReadyState.CLOSING) this.#readyState = ReadyState.CLOSING;
    this.#stopPinging();
    this.#connection?.abort();
    const socket = this.#socket;
    if (socket && !socket.destroyed) socket.destroy();
    else setImmediate(() => this.#finalize());
  }

  // ---- faye's stream interface -------------------------------------------

  /** Stops reading from the socket until resume(). */
  pause(): void {
    this.#paused |= PAUSED_BY_APP;
    this.#socket?.pause();
  }

  /**
   * Starts reading from the socket again, unless the connection itself
   * paused it until the peer reads what it was sent (see #answered).
   */
  resume(): void {
    this.#paused &= ~PAUSED_BY_APP;
    if (this.#paused === 0 && this.#opened) this.#socket?.resume();
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
  // on, once, off, removeListener and emit: ../dom/faye-face.ts, installed
  // on the prototype below; these two are the WebSocket's own aliases.

  /** Alias of on(). */
  addListener(type: string, listener: EmitterListener): this {
    return this.on(type, listener);
  }

  /** Alias of on(), for Node streams that pipe into this socket. */
  prependListener(type: string, listener: EmitterListener): this {
    return this.on(type, listener);
  }

  // ---- a channel's hook (src/channel/member.ts) ---------------------------

  /**
   * @internal Writes whole frames a channel built once for all its members
   * (server frames are unmasked: the same bytes for every socket), counted
   * as `size` bytes of application data. False, and nothing written, when
   * they would not keep their place: not OPEN, a client (its frames are
   * masked), or messages of its own still waiting (the send queue, an
   * extension); the channel then sends them as any message.
   */
  [writeFramed](bytes: Buffer, size: number): boolean {
    const connection = this.#connection;
    if (this.#readyState !== ReadyState.OPEN || this._role === 'client' || !connection || connection.pending) {
      return false;
    }
    if (this.#sender?.queued) return false;
    this.#theSender().accept({ kind: 'binary', data: bytes, size });
    this.#write(bytes, size);
    return true;
  }

  // ---- for the factories --------------------------------------------------

  /**
   * @internal Sends a message (the factories' send() run their own steps
   * first). Returns false when the socket's buffer is over its high-water
   * mark (wait for 'drain') or the connection is closing.
   * @see https://websockets.spec.whatwg.org/#dom-websocket-send
   */
  protected _send(data: unknown, callback?: SendCallback): boolean {
    const payload = toPayload(data);
    // 1. If this's ready state is CONNECTING: the client throws; the server
    //    queues the message until open (faye).
    if (this.#readyState === ReadyState.CONNECTING) {
      this._checkSendWhileConnecting();
      const sender = this.#theSender();
      sender.accept(payload);
      if (callback) sender.callback(callback);
      sender.enqueue(payload);
      return true;
    }
    // 2. ... If the data cannot be sent (the closing handshake has started),
    //    increase the bufferedAmount attribute by the length of data.
    const sender = this.#theSender();
    sender.accept(payload);
    if (this.#readyState !== ReadyState.OPEN) {
      // Note: extension, not in the spec: ws's send callback, with ws's message.
      const state = this.#readyState === ReadyState.CLOSING ? 'CLOSING' : 'CLOSED';
      if (callback)
        process.nextTick(callback, new Error(`WebSocket is not open: readyState ${this.#readyState} (${state})`));
      return false;
    }
    if (callback) sender.callback(callback);
    if (payload.kind === 'blob' || sender.queued) {
      sender.enqueue(payload);
      sender.pump();
    } else {
      this.#frame(payload);
    }
    return !(this.#socket?.writableNeedDrain ?? false);
  }

  /** @internal The client throws InvalidStateError; the server lets send() queue. */
  protected _checkSendWhileConnecting(): void {}

  /**
   * @internal Starts the closing handshake with checked arguments; while
   * CONNECTING, the handshake completes first and the connection then closes
   * at once, without open (the server's behaviour; the client fails instead).
   * @see https://websockets.spec.whatwg.org/#dom-websocket-close
   */
  protected _close(code: number | undefined, reason: string): void {
    // 3. If this's ready state is CLOSING (2) or CLOSED (3): do nothing.
    if (this.#readyState >= ReadyState.CLOSING) return;
    if (this.#readyState === ReadyState.CONNECTING) {
      this.#deferredClose = { until: UNTIL_OPEN, code, reason };
      this.#readyState = ReadyState.CLOSING;
      return;
    }
    // If the closing handshake has not yet been started: start it, and set
    // this's ready state to CLOSING.
    this.#readyState = ReadyState.CLOSING;
    if (this.#sender?.queued) this.#deferredClose = { until: UNTIL_FLUSHED, code, reason };
    else this.#startTheClosingHandshake(code, reason);
  }

  /**
   * @internal Fails the WebSocket connection: records why (the first reason
   * wins), sends `code` in a close frame if the connection is open, ends the
   * transport, and once it is gone dispatches error, then close 1006.
   * @see https://websockets.spec.whatwg.org/#fail-the-websocket-connection
   */
  protected _fail(code: number | undefined, message: string, error?: unknown): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    this.#failure ??= { message, error: error ?? new Error(message) };
    if (this.#readyState < ReadyState.CLOSING) this.#readyState = ReadyState.CLOSING;
    this.#stopPinging();
    if (code !== undefined) this.#connection?.fail(code, message);
    const socket = this.#socket;
    if (socket === undefined) {
      this._abortConnecting();
      setImmediate(() => this.#finalize());
    } else if (socket.destroyed) {
      if ((socket as Duplex & { closed?: boolean }).closed) setImmediate(() => this.#finalize());
    } else {
      // Whatever was written (a close frame, a refusal) goes out, then TCP is dropped.
      socket.once('finish', destroyThis);
      socket.end();
      this.#armCloseTimer();
    }
  }

  /** @internal Which end this is, for diagnostics_channel: the server socket says 'server'. */
  protected get _role(): DiagnosticsRole {
    return 'client';
  }

  /** @internal A pong arrived: the server socket dispatches `'pong'` (ws's habit); the client, as browsers, nothing. */
  protected _receivedPong(_payload: Buffer): void {}

  /** @internal The client aborts a connection in progress; the server has none. */
  protected _abortConnecting(): void {}

  /**
   * @internal Once both close frames crossed: 0 to close the transport at
   * once (the server, RFC 6455 §7.1.1), else how long (ms) to wait for the
   * peer to close it before dropping it (the client; at most closeTimeout).
   */
  protected get _peerCloseWait(): number {
    return 0;
  }

  /**
   * @internal Wires the transport. Reading starts at _open(): bytes that
   * arrive before it wait in the transport (bounded by its high-water mark,
   * then TCP's or HTTP/2's flow control), not here. A transport that is
   * already gone fails the connection.
   */
  protected _attach(socket: Duplex): void {
    this.#socket = socket;
    const owned = socket as Owned;
    owned[OWNER] = this;
    socket.on('data', socketListeners.data);
    socket.on('end', socketListeners.end);
    socket.on('error', socketListeners.error);
    socket.on('close', socketListeners.close);
    socket.on('drain', socketListeners.drain);
    // A 'data' listener sets a stream flowing: paused until _open(), so that
    // bytes a peer sends before the handshake completes (a client pipelining
    // frames behind its request) wait in the transport instead of reaching a
    // connection not made yet, where they were lost.
    socket.pause();
    const tcp = socket as Duplex & { setNoDelay?(on: boolean): void; setTimeout?(ms: number): void };
    tcp.setNoDelay?.(true);
    tcp.setTimeout?.(0);
    if (socket.destroyed || !socket.writable || socket.readableEnded) {
      this._fail(undefined, 'The socket was already closed when the WebSocket was created');
    }
  }

  /**
   * @internal The ready state, for the factories: scripts may delete the
   * public `readyState` accessor from the interface's prototype (WebIDL lets
   * them), which must not change what the connection does.
   */
  protected get _readyState(): ReadyStateValue {
    return this.#readyState;
  }

  /** @internal Whether the opening handshake should still run. */
  protected get _handshakePending(): boolean {
    return (
      this.#connection === undefined &&
      (this.#readyState === ReadyState.CONNECTING || this.#deferredClose?.until === UNTIL_OPEN)
    );
  }

  /**
   * @internal The opening handshake is done: makes the connection, parses
   * what came with the handshake, then announces the connection (or, after
   * close() while CONNECTING, closes at once).
   * @see https://websockets.spec.whatwg.org/#feedback-from-the-protocol
   */
  protected _open(config: OpenConfig): void {
    const connection = new Connection<WebSocketBase>(this, WebSocketBase.#handler, {
      client: config.client,
      maxLength: config.maxLength,
      maxFragments: config.maxFragments,
      extensions: config.negotiated,
    });
    this.#connection = connection;
    this.#protocol = config.protocol;
    this.#extensions = config.extensions;
    this.#opened = true;
    const pending = this.#deferredClose;
    if (pending?.until === UNTIL_OPEN) {
      // close() was called while CONNECTING on the server: close at once.
      this.#deferredClose = undefined;
      this.#sender?.drop();
      this.#startTheClosingHandshake(pending.code, pending.reason);
    } else {
      // 2. Change the ready state to OPEN (1). (3-5: extensions and protocol, above.)
      this.#readyState = ReadyState.OPEN;
      // Messages and pings queued while CONNECTING go first (faye).
      const pings = this.#pings;
      this.#pings = undefined;
      if (pings) for (const [payload, callback] of pings) this.ping(payload, callback);
      this.#sender?.pump();
      this.#startPinging();
      publishWebSocketOpen(this, this._role, this.#url, this.#protocol, this.#extensions, this.#socket);
      // 6. Fire an event named open at the WebSocket object.
      this.dispatchEvent(new Event('open'));
    }
    // Frames that came with the handshake follow open, as in Chromium (a
    // close frame in the 101's packet gives open, then close); then the
    // transport's, from where they waited.
    if (config.head && config.head.length > 0 && !connection.receive(config.head)) this.#paused |= PAUSED_FOR_BACKLOG;
    if (this.#paused === 0 && this.#readyState !== ReadyState.CLOSED) this.#socket?.resume();
  }

  // ---- the connection's reports ------------------------------------------

  static readonly #handler: ConnectionHandler<WebSocketBase> = {
    write: (ws, data, completes) => ws.#write(data, completes),
    message: (ws, data) => ws.#receiveMessage(data),
    ping: (ws, payload) => {
      publishWebSocketPing(ws, ws._role, payload, false);
      ws.#answered();
    },
    pong: (ws, payload) => ws.#receivePong(payload),
    closing: (ws, code, reason) => ws.#receiveClose(code, reason),
    failed: (ws, _code, reason) => ws._fail(undefined, reason),
    resume: (ws) => ws.#resumeFor(PAUSED_FOR_BACKLOG),
  };

  static readonly #senderHandler: SenderHandler<WebSocketBase> = {
    frame: (ws, payload) => {
      if (ws.#readyState === ReadyState.OPEN || ws.#deferredClose?.until === UNTIL_FLUSHED) ws.#frame(payload);
    },
    flushed: (ws) => {
      const close = ws.#deferredClose;
      if (close?.until !== UNTIL_FLUSHED) return;
      ws.#deferredClose = undefined;
      ws.#startTheClosingHandshake(close.code, close.reason);
    },
    failed: (ws, error) => {
      ws._fail(INTERNAL_ERROR, `Could not read a Blob passed to send(): ${String(error)}`, error);
    },
  };

  #theSender(): Sender<WebSocketBase> {
    this.#sender ??= new Sender(this, WebSocketBase.#senderHandler);
    return this.#sender;
  }

  // The socket's listeners: one set of functions for every connection, each
  // finding its WebSocket through the socket (as ws does), made here so that
  // they can reach private state.
  static {
    socketListeners = {
      data(this: Owned, chunk: Buffer): void {
        (this[OWNER] as WebSocketBase).#receive(chunk);
      },
      end(this: Owned): void {
        // The peer sent FIN: finish our half too, so 'close' follows.
        if (!this.writableEnded) this.end();
      },
      error(this: Owned, error: Error): void {
        const ws = this[OWNER] as WebSocketBase;
        // A network error before the handshake completes fails the connection;
        // after it, the connection just closes (1006), as in browsers.
        if (ws.#readyState === ReadyState.CONNECTING) {
          ws.#failure ??= { message: `Network error: ${ws.#url}: ${error.message}`, error };
        }
      },
      close(this: Owned): void {
        (this[OWNER] as WebSocketBase).#finalize();
      },
      drain(this: Owned): void {
        const ws = this[OWNER] as WebSocketBase;
        // Everything written was handed to the OS: bufferedAmount says so
        // before any 'drain' listener runs.
        ws.#sender?.drained();
        ws.#resumeFor(PAUSED_FOR_DRAIN);
        ws.emit('drain');
      },
    };
  }

  #receive(chunk: Buffer): void {
    const connection = this.#connection;
    // Past the bytes the connection holds unparsed: stop reading until it
    // parsed them (handler.resume), so that the rest waits at the peer.
    if (connection !== undefined && !connection.receive(chunk) && !(this.#paused & PAUSED_FOR_BACKLOG)) {
      this.#paused |= PAUSED_FOR_BACKLOG;
      this.#socket?.pause();
    }
  }

  /** One reason to stop reading is gone; reading starts again once none is left. */
  #resumeFor(reason: number): void {
    if (!(this.#paused & reason)) return;
    this.#paused &= ~reason;
    if (this.#paused === 0 && this.#readyState !== ReadyState.CLOSED) this.#socket?.resume();
  }

  /**
   * A ping was answered. While the transport is over its high-water mark,
   * the peer is not reading what we send: stop reading from it until
   * 'drain', so that the pongs it asks for wait in its TCP window (or its
   * HTTP/2 stream's), not in our memory. RFC 6455 §10.4: an endpoint bounds
   * what a peer makes it hold. Only answers pause reading, not the
   * application's own sends: two peers that both stopped reading while
   * their sends wait would wait for each other forever (an echo whose
   * client writes a burst before reading is one); send() returning false
   * and 'drain' are the application's backpressure.
   */
  #answered(): void {
    const socket = this.#socket;
    if (socket === undefined || !socket.writableNeedDrain || this.#paused & PAUSED_FOR_DRAIN) return;
    this.#paused |= PAUSED_FOR_DRAIN;
    socket.pause();
  }

  /** @see https://websockets.spec.whatwg.org/#feedback-from-the-protocol */
  #receiveMessage(data: string | Buffer): void {
    // 1. If ready state is not OPEN (1), then return.
    if (this.#readyState !== ReadyState.OPEN) return;
    if (this.readable) streamEvents(this)?.emit('data', data);
    // 2-3. Let dataForEvent be the data, typed by binaryType.
    const value = typeof data === 'string' ? data : toMessageData(data, this.#binaryType);
    // 4. Fire an event named message, using MessageEvent, with the origin
    //    attribute initialized to the serialization of the URL's origin.
    this.dispatchEvent(new WebMessageEvent('message', { data: value, origin: this.#origin }));
  }

  #receivePong(payload: Buffer): void {
    this.#awaitingPong = false;
    publishWebSocketPing(this, this._role, payload, true);
    this._receivedPong(payload);
    const callbacks = this.#pongCallbacks;
    if (callbacks === undefined) return;
    const key = payload.toString('latin1');
    const callback = callbacks.get(key);
    if (callback === undefined) return;
    callbacks.delete(key);
    callback();
  }

  /** The peer's close frame arrived, and ours has crossed it: the closing handshake is done. */
  #receiveClose(code: number, reason: string): void {
    this.#closeFrame = { code, reason };
    if (this.#readyState < ReadyState.CLOSING) this.#readyState = ReadyState.CLOSING;
    this.#stopPinging();
    // The connection holds nothing more: reading goes on, to see the peer's FIN.
    this.#resumeFor(PAUSED_FOR_BACKLOG);
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    const wait = this._peerCloseWait;
    if (wait === 0) {
      // RFC 6455 §7.1.1: "the server MUST close the underlying TCP
      // connection immediately" once both close frames crossed.
      socket.end();
      this.#armCloseTimer();
      return;
    }
    // RFC 6455 §7.1.1: the client "SHOULD wait for the server to close the
    // connection but MAY close the connection at any time after sending and
    // receiving a Close message, e.g. if it has not received a TCP Close
    // from the server in a reasonable time period"; close fires when the
    // transport is gone (§7.1.4, "The WebSocket Connection is Closed"), as
    // in Chromium and undici (WPT Close-delayed.any.js).
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.#armCloseTimer(Math.min(wait, this.#closeTimeout));
  }

  // ---- sending ------------------------------------------------------------

  #write(data: Buffer, completes: number): void {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    this.#theSender().write(socket, data, completes);
  }

  #frame(payload: Payload | FramePayload): void {
    const connection = this.#connection as Connection<WebSocketBase>;
    if (payload.kind === 'text') connection.text(payload.data, payload.size);
    else if (payload.kind === 'binary') connection.binary(payload.data);
  }

  #startTheClosingHandshake(code: number | undefined, reason: string): void {
    this.#stopPinging();
    this.#armCloseTimer();
    this.#connection?.close(code, reason);
  }

  #armCloseTimer(ms = this.#closeTimeout): void {
    if (this.#closeTimer || this.#readyState === ReadyState.CLOSED) return;
    this.#closeTimer = setTimeout(() => {
      // The peer never finished the closing handshake (close 1006), or
      // never closed the transport after it (a clean close): drop it.
      this.#closeTimer = undefined;
      this.#socket?.destroy();
    }, ms);
  }

  #startPinging(): void {
    const seconds = this.#pingSeconds;
    if (!seconds) return;
    let id = 0;
    this.#pingTimer = setInterval(() => {
      if (this.#awaitingPong) {
        this._fail(GOING_AWAY, `No pong received within ${seconds} s of a ping`);
        return;
      }
      this.#awaitingPong = true;
      id += 1;
      this.#connection?.ping(Buffer.from(String(id)));
    }, seconds * 1000);
  }

  #stopPinging(): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  /** @see https://websockets.spec.whatwg.org/#closeWebSocket */
  #finalize(): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    // 1. Change the ready state to CLOSED (3).
    this.#readyState = ReadyState.CLOSED;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.#stopPinging();
    this.#sender?.drop();
    this.#deferredClose = undefined;
    this.#pings = undefined;
    this.#connection?.abort();

    const frame = this.#failure === undefined ? this.#closeFrame : undefined;
    if (this.readable) streamEvents(this)?.emit('end');
    this.readable = this.writable = false;

    // 2. If the user agent was required to fail the WebSocket connection, or
    //    if the WebSocket connection was closed after being flagged as full,
    //    fire an event named error at the WebSocket object.
    //    A connection that closes before its opening handshake completed has
    //    failed; one that drops after it (a reset, a lost peer) has not, and
    //    gets only close 1006, as Chromium does.
    const failure =
      this.#failure ??
      (this.#opened
        ? undefined
        : {
            message: `The connection to ${this.#url} closed before the WebSocket handshake completed`,
            error: undefined,
          });
    if (frame === undefined && failure) {
      publishWebSocketError(this, this._role, this.#url, failure.message, failure.error);
      this.dispatchEvent(new ErrorEvent('error', { message: failure.message, error: failure.error }));
    }
    // 3. Fire an event named close at the WebSocket object, using CloseEvent,
    //    with wasClean true if the connection closed cleanly, code the
    //    connection close code, reason the connection close reason.
    const code = frame ? frame.code : ABNORMAL_CLOSURE;
    const reason = frame ? frame.reason : '';
    const wasClean = frame !== undefined;
    publishWebSocketClose(this, this._role, this.#url, code, reason, wasClean);
    this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
  }
}

// faye's on/once/off/removeListener/emit (../dom/faye-face.ts), and
// addEventListener/removeEventListener typed by the event map (../dom/typed-target.ts).
installFayeFace(WebSocketBase.prototype);
installTypedListeners(WebSocketBase.prototype);
// biome-ignore lint/correctness/noUnusedVariables: a merged declaration repeats the class's type parameters
export interface WebSocketBase<B extends BinaryType = BinaryType> extends FayeFace<WebSocketEventMap> {}

// `String(ws)` is `[object WebSocket]`, for the server socket too.
defineToStringTag(WebSocketBase.prototype, 'WebSocket');

function destroyThis(this: Duplex): void {
  this.destroy();
}
