// Event classes that Node 20 lacks as globals, and the event maps used to type
// listeners.
//
// References:
// - DOM Standard, interface Event and EventTarget: https://dom.spec.whatwg.org/#interface-event
// - WHATWG WebSockets, interface CloseEvent: https://websockets.spec.whatwg.org/#the-closeevent-interface
// - HTML, interface ErrorEvent: https://html.spec.whatwg.org/multipage/webappapis.html#errorevent

/** The DOM's EventInit (Node's types keep theirs private). */
export interface EventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

/** The DOM's AddEventListenerOptions. */
export interface AddEventListenerOptions {
  capture?: boolean;
  once?: boolean;
  passive?: boolean;
  signal?: AbortSignal;
}

/** The DOM's EventListenerOptions. */
export interface EventListenerOptions {
  capture?: boolean;
}

/** The DOM's EventListenerOrEventListenerObject. */
export type EventListenerOrEventListenerObject = ((event: Event) => void) | { handleEvent(event: Event): void };

/** Initialiser for {@link CloseEvent}, as in the WebSockets standard. */
export interface CloseEventInit extends EventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

/**
 * The event dispatched once when a WebSocket connection has closed.
 *
 * @see https://websockets.spec.whatwg.org/#the-closeevent-interface
 * @example
 * ws.addEventListener('close', (event) => console.log(event.code, event.reason, event.wasClean));
 */
export class CloseEvent extends Event {
  readonly #code: number;
  readonly #reason: string;
  readonly #wasClean: boolean;

  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.#code = init.code ?? 0;
    this.#reason = init.reason ?? '';
    this.#wasClean = init.wasClean ?? false;
  }

  /** The close code the peer sent, or 1006 when no close frame arrived. */
  get code(): number {
    return this.#code;
  }

  /** The close reason the peer sent (UTF-8 decoded), or `''`. */
  get reason(): string {
    return this.#reason;
  }

  /** Whether the closing handshake completed. */
  get wasClean(): boolean {
    return this.#wasClean;
  }
}

/** Initialiser for {@link ErrorEvent}, as in HTML. */
export interface ErrorEventInit extends EventInit {
  message?: string;
  error?: unknown;
  filename?: string;
  lineno?: number;
  colno?: number;
}

/**
 * The event dispatched when a connection fails. Browsers dispatch a bare
 * `Event` here; in Node the `message` and `error` say what went wrong.
 *
 * @see https://html.spec.whatwg.org/multipage/webappapis.html#errorevent
 * @example
 * ws.onerror = (event) => console.error(event.message);
 */
export class ErrorEvent extends Event {
  readonly #message: string;
  readonly #error: unknown;
  readonly #filename: string;
  readonly #lineno: number;
  readonly #colno: number;

  constructor(type: string, init: ErrorEventInit = {}) {
    super(type, init);
    this.#message = init.message ?? '';
    this.#error = init.error;
    this.#filename = init.filename ?? '';
    this.#lineno = init.lineno ?? 0;
    this.#colno = init.colno ?? 0;
  }

  get message(): string {
    return this.#message;
  }

  get error(): unknown {
    return this.#error;
  }

  get filename(): string {
    return this.#filename;
  }

  get lineno(): number {
    return this.#lineno;
  }

  get colno(): number {
    return this.#colno;
  }
}

/** The events a WebSocket dispatches, for typed `addEventListener`. */
export interface WebSocketEventMap {
  open: Event;
  message: MessageEvent;
  error: ErrorEvent;
  close: CloseEvent;
}

/** A listener in either of the DOM's two forms. */
export type Listener<E extends Event> = ((event: E) => void) | { handleEvent(event: E): void };
