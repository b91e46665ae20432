// faye's EventEmitter face on an EventTarget, written once for the WebSocket
// base (src/websocket/base.ts) and the EventSource endpoint
// (src/sse/endpoint.ts): `on`, `once`, `off`, `removeListener` and `emit`.
//
// Calling contract:
//
//   installFayeFace(Class.prototype)   puts the five methods on the prototype
//                                      (non-enumerable, as class methods are)
//   interface Class extends FayeFace<EventMap> {}
//                                      their types, merged into the class
//   streamEvents(target)               the target's emitter of stream events,
//                                      or undefined while no on() made one
//
// Stream event names ('data', 'drain', 'end', ...: ./listeners.ts
// STREAM_EVENTS) go to a small emitter, made on first use and kept on the
// object under a symbol (an object that never uses the face pays nothing
// for it); every other name is a DOM listener receiving the Event object.
//
// References:
// - faye-websocket lib/faye/websocket/api.js (on/off/once and the stream events)
// - DOM Standard, EventTarget: https://dom.spec.whatwg.org/#interface-eventtarget

import { addListener, type EmitterListener, removeListener, StreamEvents } from './listeners.js';

const STREAM = Symbol('isosocket.streamEvents');
type WithStream = EventTarget & { [STREAM]?: StreamEvents };

/** The target's emitter of stream events, or undefined while no `on()` made one. */
export function streamEvents(target: EventTarget): StreamEvents | undefined {
  return (target as WithStream)[STREAM];
}

function madeStreamEvents(target: EventTarget): StreamEvents {
  const owner = target as WithStream;
  owner[STREAM] ??= new StreamEvents();
  return owner[STREAM];
}

/** faye's emitter methods, for a class's interface declaration (`M`: its event map). */
export interface FayeFace<M> {
  /**
   * faye: `on('message', fn)` adds a listener for the W3C event; stream
   * events (`data`, `drain`, `end`) are emitted to these listeners with their value.
   */
  on<K extends keyof M>(type: K, listener: (event: M[K]) => void): this;
  on(type: string, listener: EmitterListener): this;
  /** faye: a listener that runs once. */
  once<K extends keyof M>(type: K, listener: (event: M[K]) => void): this;
  once(type: string, listener: EmitterListener): this;
  /** faye: removes a listener added with on() or once(). */
  off(type: string, listener: EmitterListener): this;
  /** Alias of off(). */
  removeListener(type: string, listener: EmitterListener): this;
  /** Emits a stream event to on() listeners (lets Node streams pipe in). */
  emit(type: string, ...args: unknown[]): boolean;
}

const face = {
  on(this: EventTarget, type: string, listener: EmitterListener): EventTarget {
    addListener(this, madeStreamEvents(this), type, listener, false);
    return this;
  },
  once(this: EventTarget, type: string, listener: EmitterListener): EventTarget {
    addListener(this, madeStreamEvents(this), type, listener, true);
    return this;
  },
  off(this: EventTarget, type: string, listener: EmitterListener): EventTarget {
    const stream = streamEvents(this);
    if (stream) removeListener(this, stream, type, listener);
    else this.removeEventListener(type, listener);
    return this;
  },
  removeListener(
    this: EventTarget & { off(type: string, listener: EmitterListener): EventTarget },
    type: string,
    listener: EmitterListener,
  ): EventTarget {
    return this.off(type, listener);
  },
  emit(this: EventTarget, type: string, ...args: unknown[]): boolean {
    return streamEvents(this)?.emit(type, ...args) ?? false;
  },
};

/** Puts faye's emitter methods on `prototype`, as class methods would be. */
export function installFayeFace(prototype: object): void {
  for (const [name, value] of Object.entries(face)) {
    Object.defineProperty(prototype, name, { value, writable: true, enumerable: false, configurable: true });
  }
}
