// Event classes that Node 20 lacks as globals, and the event maps used to type
// listeners. Their attributes are WebIDL's: accessors on the prototype that
// throw a TypeError on an object that is not one of theirs.
//
// References:
// - DOM Standard, interface Event and EventTarget: https://dom.spec.whatwg.org/#interface-event
// - WHATWG WebSockets, interface CloseEvent: https://websockets.spec.whatwg.org/#the-closeevent-interface
// - HTML, interface ErrorEvent: https://html.spec.whatwg.org/multipage/webappapis.html#errorevent
// - HTML, interface MessageEvent: https://html.spec.whatwg.org/multipage/comms.html#messageevent
// - WebIDL, attributes (the getter's brand check): https://webidl.spec.whatwg.org/#es-attributes

import { defineToStringTag, requireArguments, shapeInterface } from './dom/webidl.js';

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
  constructor(type: string, init: CloseEventInit = {}) {
    // biome-ignore lint/complexity/noArguments: WebIDL counts the arguments given, not their values.
    requireArguments(arguments.length, 1, "construct 'CloseEvent'");
    super(type, init);
    closeState.set(this, { code: init.code ?? 0, reason: init.reason ?? '', wasClean: init.wasClean ?? false });
  }

  /** The close code the peer sent, or 1006 when no close frame arrived. */
  get code(): number {
    return stateOf(closeState, this).code;
  }

  /** The close reason the peer sent (UTF-8 decoded), or `''`. */
  get reason(): string {
    return stateOf(closeState, this).reason;
  }

  /** Whether the closing handshake completed. */
  get wasClean(): boolean {
    return stateOf(closeState, this).wasClean;
  }
}

shapeInterface(CloseEvent, { name: 'CloseEvent', length: 1, members: ['wasClean', 'code', 'reason'] });

// Attribute values live outside the instances, so the classes stay
// structurally identical to lib.dom's (no private fields in their types).
// An object that has none is not one of ours: its getters throw, as WebIDL's do.
function stateOf<K extends object, V>(states: WeakMap<K, V>, object: K): V {
  const state = states.get(object);
  if (state === undefined) throw new TypeError('Illegal invocation');
  return state;
}

const closeState = new WeakMap<CloseEvent, { code: number; reason: string; wasClean: boolean }>();
const errorState = new WeakMap<
  ErrorEvent,
  { message: string; error: unknown; filename: string; lineno: number; colno: number }
>();
const statusState = new WeakMap<EventSourceErrorEvent, number | undefined>();

/** Initialiser for {@link ErrorEvent}, as in HTML. */
export interface ErrorEventInit extends EventInit {
  message?: string;
  error?: unknown;
  filename?: string;
  lineno?: number;
  colno?: number;
}

/**
 * The event a WebSocket dispatches when its connection fails. Browsers
 * dispatch a bare `Event` here; in Node the `message` and `error` say what
 * went wrong (as ws's error event does). It has HTML's ErrorEvent members
 * and nothing more, so code that copies events by their properties (and
 * takes any event with a `code` for a close event) sees an error.
 *
 * @see https://html.spec.whatwg.org/multipage/webappapis.html#errorevent
 * @example
 * ws.onerror = (event) => console.error(event.message);
 */
export class ErrorEvent extends Event {
  constructor(type: string, init: ErrorEventInit = {}) {
    // biome-ignore lint/complexity/noArguments: WebIDL counts the arguments given, not their values.
    requireArguments(arguments.length, 1, "construct 'ErrorEvent'");
    super(type, init);
    errorState.set(this, {
      message: init.message ?? '',
      error: init.error,
      filename: init.filename ?? '',
      lineno: init.lineno ?? 0,
      colno: init.colno ?? 0,
    });
  }

  get message(): string {
    return stateOf(errorState, this).message;
  }

  get error(): unknown {
    return stateOf(errorState, this).error;
  }

  get filename(): string {
    return stateOf(errorState, this).filename;
  }

  get lineno(): number {
    return stateOf(errorState, this).lineno;
  }

  get colno(): number {
    return stateOf(errorState, this).colno;
  }
}

/** Initialiser for {@link EventSourceErrorEvent}: HTML's, plus the Node-only `status`. */
export interface EventSourceErrorEventInit extends ErrorEventInit {
  /** Node-only: the HTTP status of the answer that failed the connection. */
  status?: number | undefined;
}

/**
 * The error event of `EventSource.Client`: an {@link ErrorEvent} whose
 * `status` (alias `code`, the `eventsource` package's name) gives the HTTP
 * status when an answer failed the connection.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#dom-eventsource
 * @example
 * source.onerror = (event) => {
 *   if (event.status === 401) source.close(); // and log in again
 * };
 */
export class EventSourceErrorEvent extends ErrorEvent {
  constructor(type: string, init: EventSourceErrorEventInit = {}) {
    // biome-ignore lint/complexity/noArguments: WebIDL counts the arguments given, not their values.
    requireArguments(arguments.length, 1, "construct 'ErrorEvent'");
    super(type, init);
    statusState.set(this, init.status);
  }

  /**
   * Node-only: the HTTP status of the answer that failed the connection (a
   * non-200 answer, 200 with the wrong `Content-Type`, a redirect that could
   * not be followed), so a 401 is told from a 503 without parsing `message`.
   * `undefined` for network errors (refused, reset, timed out) and for the
   * end of a stream.
   */
  get status(): number | undefined {
    if (!statusState.has(this)) throw new TypeError('Illegal invocation');
    return statusState.get(this);
  }

  /** Alias of {@link EventSourceErrorEvent.status}, the name the `eventsource` package uses. */
  get code(): number | undefined {
    if (!statusState.has(this)) throw new TypeError('Illegal invocation');
    return statusState.get(this);
  }
}

// Note: departure from HTML: `String(event)` is `[object Event]`, what
// browsers print for the plain Event they dispatch as a WebSocket's or an
// EventSource's error event (WPT websockets/interfaces/WebSocket/events/018),
// which is the only place isosocket dispatches this class.
shapeInterface(ErrorEvent, {
  name: 'ErrorEvent',
  length: 1,
  members: ['message', 'filename', 'lineno', 'colno', 'error'],
  toStringTag: 'Event',
});
shapeInterface(EventSourceErrorEvent, {
  name: 'EventSourceErrorEvent',
  length: 1,
  members: ['status', 'code'],
  toStringTag: 'Event',
});

/**
 * Node's `MessageEvent`, which prints as browsers' does: `[object
 * MessageEvent]` (Node 20's inherits `Event`'s tag). The clients and the
 * server socket dispatch it; it is `instanceof` the global `MessageEvent`.
 *
 * @see https://html.spec.whatwg.org/multipage/comms.html#messageevent
 */
// biome-ignore lint/suspicious/noExplicitAny: lib.dom's default, so `event.data` types as it does there
export class MessageEvent<T = any> extends globalThis.MessageEvent<T> {}
defineToStringTag(MessageEvent.prototype, 'MessageEvent');

/**
 * What a WebSocket's `onerror` receives, typed so that lib.dom's `Event`
 * fits: isosocket always dispatches an {@link ErrorEvent}, so `message` and
 * `error` are set.
 */
export type ErrorEventLike = Event & {
  readonly message?: string;
  readonly error?: unknown;
};

/** What `EventSource.Client`'s `onerror` receives: {@link ErrorEventLike} with the HTTP `status`. */
export type EventSourceErrorEventLike = ErrorEventLike & {
  readonly status?: number | undefined;
  readonly code?: number | undefined;
};

/** The events a WebSocket dispatches, for typed `addEventListener`. */
export interface WebSocketEventMap {
  open: Event;
  message: globalThis.MessageEvent;
  error: ErrorEvent;
  close: CloseEvent;
}

/** An event handler attribute's value (`onopen`, `onmessage`...). */
export type EventHandler<E extends Event> = ((event: E) => void) | null;

/** A listener in either of the DOM's two forms. */
export type Listener<E extends Event> = ((event: E) => void) | { handleEvent(event: E): void };
