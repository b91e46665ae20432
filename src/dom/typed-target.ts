// addEventListener and removeEventListener typed by an event map, written
// once for every isosocket EventTarget that has one: the overloads as a
// type-only interface merged into each class, and one runtime pair that
// ignores a null listener, as browsers do (Node's EventTarget warns).
//
// Calling contract:
//
//   class Class extends TypedEventTargetBase<EventMap> { ... }
//                                      EventTarget at run time, the overloads in its type
//   installTypedListeners(Class.prototype)
//                                      the runtime pair
//
// References:
// - DOM Standard, addEventListener(): https://dom.spec.whatwg.org/#dom-eventtarget-addeventlistener
//   (step 2: "If listener's callback is null, then return")
// - EventSource/eventsource src/EventSource.ts (typed listener overloads)

import type {
  AddEventListenerOptions,
  EventListenerOptions,
  EventListenerOrEventListenerObject,
  Listener,
} from '../events.js';

/** The typed overloads, for a class's interface declaration (`M`: its event map). */
export interface TypedEventTarget<M> {
  addEventListener<K extends keyof M & string>(
    type: K,
    listener: Listener<M[K] & Event> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof M & string>(
    type: K,
    listener: Listener<M[K] & Event> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

const methods = {
  addEventListener(
    this: EventTarget,
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (listener) EventTarget.prototype.addEventListener.call(this, type, listener, options);
  },
  removeEventListener(
    this: EventTarget,
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    if (listener) EventTarget.prototype.removeEventListener.call(this, type, listener, options);
  },
};

/** Puts the null-ignoring addEventListener and removeEventListener on `prototype`, as class methods would be. */
export function installTypedListeners(prototype: object): void {
  for (const [name, value] of Object.entries(methods)) {
    Object.defineProperty(prototype, name, { value, writable: true, enumerable: false, configurable: true });
  }
}

/**
 * EventTarget, typed for a class's own event map: `class X extends
 * TypedEventTargetBase<XEventMap>` at the type level is `EventTarget` at run
 * time, with the overloads above in place of EventTarget's own (an
 * interface cannot merge overloads over a base class's method).
 */
export const TypedEventTargetBase = EventTarget as unknown as {
  new <M>(): TypedEventTargetInstance<M>;
  prototype: EventTarget;
};

/** An EventTarget whose listener methods are typed by `M` (methods, so that subclasses may override them). */
export interface TypedEventTargetInstance<M> extends TypedEventTarget<M> {
  dispatchEvent(event: Event): boolean;
}
