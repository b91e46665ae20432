// Event traces: what a WebSocket or EventSource dispatched, in order, with the
// readyState at dispatch. Used to compare behaviour exactly.

import { nextWithin } from './bounded.js';

export interface Traced {
  readonly readyState: number;
}

/** Records `type[:code]@readyState` for each event of the given types. */
export function trace(target: EventTarget & Traced, types = ['open', 'message', 'error', 'close']): string[] {
  const events: string[] = [];
  for (const type of types) {
    target.addEventListener(type, (event) => {
      const code = event.type === 'close' && 'code' in event ? `:${(event as { code: number }).code}` : '';
      events.push(`${type}${code}@${target.readyState}`);
    });
  }
  return events;
}

/** Resolves with the next event of the type; rejects after `ms` naming it (no 90 s hang). */
export function next<E extends Event = Event>(target: EventTarget, type: string, ms = 10_000): Promise<E> {
  return nextWithin<E>(target, type, ms);
}
