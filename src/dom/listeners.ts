// Listener bookkeeping shared by every isosocket EventTarget: HTML event
// handler attributes (onopen, onmessage...) and faye's EventEmitter-style
// stream events ('data', 'drain', 'end'), which are emitted, not dispatched.
//
// References:
// - HTML, event handler attributes: https://html.spec.whatwg.org/multipage/webappapis.html#event-handler-attributes
// - faye-websocket lib/faye/websocket/api.js (on/off/once and the stream events)

// biome-ignore lint/suspicious/noExplicitAny: emitter listeners take anything
export type EmitterListener = (...args: any[]) => void;
type OnceWrapper = EmitterListener & { listener?: EmitterListener };

/** faye's stream events; every other name is a W3C event on the EventTarget. */
export const STREAM_EVENTS: ReadonlySet<string> = new Set(['data', 'drain', 'end', 'pipe', 'unpipe', 'finish']);

/**
 * The `on<type>` attributes of one EventTarget, as an object to hold: the
 * same record and shared listener as {@link getEventHandler} and
 * {@link setEventHandler} (one mechanism). A handler is added as a listener
 * when first set, keeps its place when replaced, and is removed when set to null.
 */
export class EventHandlers {
  readonly #target: EventTarget;

  constructor(target: EventTarget) {
    this.#target = target;
  }

  get<T>(type: string): T | null {
    return getEventHandler<T>(this.#target, type);
  }

  set(type: string, value: unknown): void {
    setEventHandler(this.#target, type, value);
  }
}

// Event handler attributes without a closure per object: the values live in
// one lazily made record on the target, and one shared listener function
// (called with the target as `this`, as DOM listeners are) runs them.
const HANDLERS = Symbol('isosocket.eventHandlers');
type WithHandlers = EventTarget & { [HANDLERS]?: Record<string, unknown> };

function runEventHandler(this: WithHandlers, event: Event): void {
  const handler = this[HANDLERS]?.[event.type];
  if (typeof handler === 'function') handler.call(this, event);
}

/** The value of the target's `on<type>` attribute, or null. */
export function getEventHandler<T>(target: EventTarget, type: string): T | null {
  return ((target as WithHandlers)[HANDLERS]?.[type] as T | undefined) ?? null;
}

/**
 * Sets the target's `on<type>` attribute: the handler is added as a listener
 * when first set, keeps its place when replaced, and is removed when set to
 * anything but a function or object.
 */
export function setEventHandler(target: EventTarget, type: string, value: unknown): void {
  const owner = target as WithHandlers;
  const handlers = owner[HANDLERS];
  const present = handlers !== undefined && type in handlers;
  if (typeof value !== 'function' && (typeof value !== 'object' || value === null)) {
    if (present) {
      EventTarget.prototype.removeEventListener.call(target, type, runEventHandler);
      delete handlers[type];
    }
    return;
  }
  if (!present) EventTarget.prototype.addEventListener.call(target, type, runEventHandler);
  owner[HANDLERS] ??= Object.create(null) as Record<string, unknown>;
  owner[HANDLERS][type] = value;
}

/** A minimal emitter for faye's stream events. */
export class StreamEvents {
  readonly #listeners = new Map<string, EmitterListener[]>();

  on(type: string, listener: EmitterListener): void {
    const list = this.#listeners.get(type);
    if (list) list.push(listener);
    else this.#listeners.set(type, [listener]);
  }

  once(type: string, listener: EmitterListener): void {
    const wrapper: OnceWrapper = (...args) => {
      this.off(type, wrapper);
      listener(...args);
    };
    wrapper.listener = listener;
    this.on(type, wrapper);
  }

  off(type: string, listener: EmitterListener): void {
    const list = this.#listeners.get(type);
    if (!list) return;
    const index = list.findIndex((l) => l === listener || (l as OnceWrapper).listener === listener);
    if (index >= 0) list.splice(index, 1);
  }

  count(type: string): number {
    return this.#listeners.get(type)?.length ?? 0;
  }

  emit(type: string, ...args: unknown[]): boolean {
    const list = this.#listeners.get(type);
    if (!list || list.length === 0) return false;
    for (const listener of [...list]) listener(...args);
    return true;
  }
}

/**
 * faye's `on`/`once`/`off` on an EventTarget: stream event names go to the
 * emitter, the rest become DOM listeners receiving the Event object.
 */
export function addListener(
  target: EventTarget,
  stream: StreamEvents,
  type: string,
  listener: EmitterListener,
  once: boolean,
): void {
  if (STREAM_EVENTS.has(type)) {
    if (once) stream.once(type, listener);
    else stream.on(type, listener);
  } else {
    target.addEventListener(type, listener, { once });
  }
}

/** The inverse of {@link addListener}. */
export function removeListener(
  target: EventTarget,
  stream: StreamEvents,
  type: string,
  listener: EmitterListener,
): void {
  if (STREAM_EVENTS.has(type)) stream.off(type, listener);
  else target.removeEventListener(type, listener);
}
