// Bounded waits for the specs: every await ends in seconds with a message
// naming what did not happen, so a regression fails fast instead of hanging
// until tap's 90 s timeout.

/** Settles as `promise` does, or rejects after `ms` naming `what`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Resolves with the next event of the type; rejects after `ms` naming it, so a
 * regression fails in seconds instead of at tap's 90 s timeout. Attach before
 * the event can fire.
 */
export function nextWithin<E extends Event = Event>(target: EventTarget, type: string, ms = 10_000): Promise<E> {
  return within(
    new Promise<E>((resolve) => target.addEventListener(type, (event) => resolve(event as E), { once: true })),
    ms,
    `waiting for a '${type}' event`,
  );
}

/** Resolves after `ms`: only for observing that something does NOT happen in a window. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
