// Event traces: what a WebSocket or EventSource dispatched, in order, with the
// readyState at dispatch. Used to compare behaviour exactly. (The next event
// of a type, bounded: spec/helpers/bounded.ts's nextWithin.)

export interface Traced {
  readonly readyState: number;
}

/** Records `type[:code]@readyState` for each event of the given types. */
export function trace(
  target: EventTarget & Traced,
  types = ['open', 'message', 'error', 'close'],
  events: string[] = [],
): string[] {
  for (const type of types) {
    target.addEventListener(type, (event) => {
      const code = event.type === 'close' && 'code' in event ? `:${(event as { code: number }).code}` : '';
      events.push(`${type}${code}@${target.readyState}`);
    });
  }
  return events;
}

/** trace() of every WebSocket event, appended to `into` (for a socket a server hands over later). */
export function recordEvents(ws: EventTarget & Traced, into: string[] = []): string[] {
  return trace(ws, undefined, into);
}
