// One WebSocket connection at a time in the CONNECTING state per host and
// port: a client's connection waits its turn behind the one before it, until
// that one has been established or has failed. Established connections do
// not count, and different hosts or ports never wait for each other.
//
// The key is the URL's host (lower-cased by the URL parser) and port, not
// the resolved address: the lookup happens inside the connection (or at the
// proxy), after the wait. Two names for one address do not wait for each
// other, where RFC 6455 asks that they should.
//
// References:
// - RFC 6455 §4.1, client requirement 2: "There MUST be no more than one
//   connection in a CONNECTING state. If multiple connections to the same IP
//   address are attempted simultaneously, the client MUST serialize them".
// - Chromium net/websockets/websocket_endpoint_lock_manager.h (the same rule, keyed by address)

import { endpointOf } from './url.js';

const queues = new Map<string, ConnectingTurn[]>();

/**
 * A connection's place in the queue of its host and port: `ready` resolves
 * when it is first; `leave()` (once established, failed or abandoned) gives
 * the turn to the next one.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6455#section-4.1
 * @example
 * const turn = waitForTurn(url);
 * await turn.ready;
 * try { await handshake(); } finally { turn.leave(); }
 */
export class ConnectingTurn {
  readonly #key: string;
  readonly ready: Promise<void>;
  #start: () => void = () => {};
  #left = false;

  /** @internal */
  constructor(key: string) {
    this.#key = key;
    this.ready = new Promise((resolve) => {
      this.#start = resolve;
    });
  }

  /** Leaves the queue: the next connection to the same host and port may start. Idempotent. */
  leave(): void {
    if (this.#left) return;
    this.#left = true;
    const queue = queues.get(this.#key);
    if (queue === undefined) return;
    const index = queue.indexOf(this);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) queues.delete(this.#key);
    else if (index === 0) (queue[0] as ConnectingTurn).#start();
  }

  /** @internal */
  static enter(key: string): ConnectingTurn {
    const turn = new ConnectingTurn(key);
    const queue = queues.get(key);
    if (queue === undefined) {
      queues.set(key, [turn]);
      turn.#start();
    } else {
      queue.push(turn);
    }
    return turn;
  }
}

/** Takes a place in the queue of `target`'s host and port. */
export function waitForTurn(target: URL): ConnectingTurn {
  const { host, port } = endpointOf(target);
  return ConnectingTurn.enter(`${host}:${port}`);
}

/** How many connections wait or connect to each host and port (for specs). */
export function connectingCount(target: URL): number {
  const { host, port } = endpointOf(target);
  return queues.get(`${host}:${port}`)?.length ?? 0;
}
