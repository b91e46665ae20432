// The write path of one event stream, shared by the EventSource endpoint (its
// own send()) and a channel (one Buffer for every stream): it writes through
// the ServerResponse, never around it, and keeps order between the two.
//
// While the response is over its high-water mark, chunks wait here, as
// references to the channel's shared Buffers (not copies, and not one
// Writable entry each); on 'drain' they go out as one write. A channel bounds
// what may wait: over its limit the connection is dropped, and the client
// reconnects and resumes from its Last-Event-ID.
//
// References:
// - Node.js, http.ServerResponse and writable.write()/'drain': https://nodejs.org/api/http.html#class-httpserverresponse
// - HTML, server-sent events: https://html.spec.whatwg.org/multipage/server-sent-events.html

import type { ServerResponse } from 'node:http';
import type { ChannelFeed, Delivery } from '../channel/member.js';

/**
 * Writes one event stream's chunks through its ServerResponse, in order,
 * holding them (by reference) while the response is over its high-water mark.
 *
 * @see https://nodejs.org/api/http.html#responsewritechunk-encoding-callback
 */
export class EventStreamWriter implements ChannelFeed {
  readonly #response: ServerResponse;
  readonly #flush: (() => void) | undefined;
  readonly #ondrain: () => void;
  /** Chunks waiting for 'drain'; null while writes go straight through. */
  #backlog: Buffer[] | null = null;
  #backlogBytes = 0;
  #beforeEnd: Array<() => void> | undefined;
  #beforeWrite: Array<() => void> | undefined;

  /**
   * @param ondrain called when everything that waited has been handed to the
   * response (faye's 'drain').
   */
  constructor(response: ServerResponse, ondrain: () => void) {
    this.#response = response;
    this.#ondrain = ondrain;
    // Compression middleware (e.g. `compression`) buffers until flushed.
    const flush = (response as ServerResponse & { flush?: unknown }).flush;
    this.#flush = typeof flush === 'function' ? () => flush.call(response) : undefined;
    response.on('drain', () => this.#drain());
  }

  /** Whether the response can still be written. */
  get writable(): boolean {
    return !this.#response.writableEnded && !this.#response.destroyed;
  }

  /**
   * Writes a chunk now, or queues it behind what is waiting.
   *
   * @returns false when closed or over the high-water mark (wait for drain).
   */
  write(chunk: string | Buffer): boolean {
    if (!this.writable) return false;
    // A channel's events broadcast before this write go out first.
    const hooks = this.#beforeWrite;
    if (hooks) for (const hook of hooks) hook();
    if (!this.writable) return false;
    if (this.#backlog) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.#backlog.push(buffer);
      this.#backlogBytes += buffer.length;
      return false;
    }
    return this.#writeThrough(chunk);
  }

  /**
   * A channel's write: as write(), but while chunks wait, a stream whose
   * unsent bytes would pass `limit` is dropped (its connection destroyed).
   */
  deliver(chunk: Buffer, limit: number): Delivery {
    const response = this.#response;
    if (response.writableEnded || response.destroyed) return 'closed';
    const backlog = this.#backlog;
    if (backlog === null) {
      this.#writeThrough(chunk);
      return 'written';
    }
    if ((response.writableLength ?? 0) + this.#backlogBytes + chunk.length > limit) {
      this.#backlog = [];
      this.#backlogBytes = 0;
      response.destroy();
      return 'overflow';
    }
    backlog.push(chunk);
    this.#backlogBytes += chunk.length;
    return 'queued';
  }

  /** Runs `hook` just before the response ends, on every close path (a channel flushes, then lets go of the stream). */
  beforeEnd(hook: () => void): void {
    this.#beforeEnd ??= [];
    if (!this.#beforeEnd.includes(hook)) this.#beforeEnd.push(hook);
  }

  /** Removes a hook added with beforeEnd(). */
  removeBeforeEnd(hook: () => void): void {
    const hooks = this.#beforeEnd;
    const index = hooks ? hooks.indexOf(hook) : -1;
    if (hooks && index >= 0) hooks.splice(index, 1);
  }

  /** Runs `hook` before each of the stream's own writes (a channel flushes its pending events first). */
  beforeWrite(hook: () => void): void {
    this.#beforeWrite ??= [];
    if (!this.#beforeWrite.includes(hook)) this.#beforeWrite.push(hook);
  }

  /** Removes a hook added with beforeWrite(). */
  removeBeforeWrite(hook: () => void): void {
    const hooks = this.#beforeWrite;
    const index = hooks ? hooks.indexOf(hook) : -1;
    if (hooks && index >= 0) hooks.splice(index, 1);
    if (hooks?.length === 0) this.#beforeWrite = undefined;
  }

  /** Hands over what waits, then ends the response (no-op when already over). */
  end(): void {
    const hooks = this.#beforeEnd;
    this.#beforeEnd = undefined;
    if (hooks) for (const hook of hooks) hook();
    if (!this.writable) return;
    const backlog = this.#backlog;
    if (backlog && backlog.length > 0) this.#response.write(Buffer.concat(backlog, this.#backlogBytes));
    this.#backlog = null;
    this.#backlogBytes = 0;
    this.#response.end();
  }

  #writeThrough(chunk: string | Buffer): boolean {
    // Corked around the one write, the response hands the chunk to the socket
    // now rather than in a process.nextTick of its own for each write (a
    // response without cork(), e.g. HTTP/2's, writes as it does).
    const response = this.#response;
    response.cork?.();
    const ok = response.write(chunk);
    response.uncork?.();
    this.#flush?.();
    if (!ok) this.#backlog = [];
    return ok;
  }

  #drain(): void {
    const backlog = this.#backlog;
    if (backlog === null) {
      this.#ondrain();
      return;
    }
    if (backlog.length > 0) {
      const chunk = backlog.length === 1 ? (backlog[0] as Buffer) : Buffer.concat(backlog, this.#backlogBytes);
      this.#backlog = [];
      this.#backlogBytes = 0;
      const ok = this.#response.write(chunk);
      this.#flush?.();
      if (!ok) return;
    }
    this.#backlog = null;
    this.#ondrain();
  }
}
