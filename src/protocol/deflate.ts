// permessage-deflate held to maxLength while it inflates, with every stream
// it makes guarded so that no zlib error can reach the process.
//
// permessage-deflate 0.1.7 inflates a whole message before anyone compares
// its size with maxLength, so 1 KiB on the wire can become 1 GiB in memory.
// The extension takes a `zlib` option (the module it makes its streams
// with); we hand it a facade whose raw inflaters count their output and fail
// with MessageTooLargeError (close code 1009) as soon as a message passes the
// limit. The facade is an object of ours, not a zlib stream made to error:
// permessage-deflate removes its 'error' listener in the flush callback, and
// a zlib stream destroyed with an error emits it a tick later, to nobody,
// which crashed the process (issue 10). Here the real zlib stream keeps our
// listener for its whole life, and the facade emits 'error' only to a
// listener that is there.
//
// References:
// - RFC 7692 §7.2.2 (decompression): https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2
// - RFC 6455 §7.4.1: 1009, a message too big to process
// - faye/permessage-deflate-node lib/session.js (one inflate per message, or
//   one per connection with context takeover: written twice, then flushed)

import { EventEmitter } from 'node:events';
import zlib from 'node:zlib';

/** The part of node:zlib permessage-deflate uses. */
export type ZlibModule = Pick<typeof zlib, 'createInflateRaw' | 'createDeflateRaw'>;

/** A compressed message inflated past maxLength: close code 1009. */
export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';
}

/**
 * What permessage-deflate's session calls on an inflater: on/removeListener
 * for 'data' and 'error', write, flush(callback), close.
 */
class BoundedInflate extends EventEmitter {
  readonly #zlib: zlib.InflateRaw;
  readonly #limit: number;
  #total = 0;
  #failed = false;

  constructor(base: ZlibModule, options: zlib.ZlibOptions | undefined, limit: number) {
    super();
    this.#limit = limit;
    this.#zlib = base.createInflateRaw(options);
    this.#zlib.on('data', (chunk: Buffer) => this.#data(chunk));
    this.#zlib.on('error', (error: Error) => this.#fail(error));
  }

  write(chunk: Buffer): boolean {
    if (!this.#failed) this.#zlib.write(chunk);
    return true;
  }

  flush(callback: () => void): void {
    if (this.#failed) return;
    this.#zlib.flush(() => {
      // A destroyed stream calls back with an error; that message already failed.
      if (this.#failed) return;
      this.#total = 0;
      callback();
    });
  }

  close(): void {
    this.#failed = true;
    this.#zlib.close();
  }

  #data(chunk: Buffer): void {
    if (this.#failed) return;
    this.#total += chunk.length;
    if (this.#total > this.#limit) {
      this.#fail(new MessageTooLargeError(`A compressed message inflated past maxLength (${this.#limit} bytes)`));
      return;
    }
    this.emit('data', chunk);
  }

  #fail(error: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    // Stop inflating now: the rest of a bomb is never produced.
    this.#zlib.destroy();
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/**
 * A zlib facade for permessage-deflate: raw inflaters stop at `maxLength`
 * bytes of output per message (the count starts again after each flush, the
 * end of a message), and deflaters keep an 'error' listener for life.
 * `base` is the zlib the application configured, if any (its inflaters are
 * bounded too).
 */
export function boundedZlib(maxLength: number, base: ZlibModule = zlib): ZlibModule {
  const facade: ZlibModule = {
    ...base,
    createInflateRaw: ((options?: zlib.ZlibOptions) =>
      new BoundedInflate(base, options, maxLength)) as unknown as typeof zlib.createInflateRaw,
    createDeflateRaw: ((options?: zlib.ZlibOptions) => {
      const deflate = base.createDeflateRaw(options);
      // The session listens only while it compresses; an error outside that
      // must not reach the process.
      deflate.on('error', () => {});
      return deflate;
    }) as typeof zlib.createDeflateRaw,
  };
  if (base === zlib) overNodeZlib.add(facade);
  return facade;
}

const overNodeZlib = new WeakSet<object>();

/**
 * Whether `value` is a facade boundedZlib made over Node's own zlib (not an
 * application's): permessage-deflate's sessions on it may be replaced by
 * deflate-codec.ts, which uses node:zlib directly.
 */
export function isBoundedNodeZlib(value: unknown): boolean {
  return typeof value === 'object' && value !== null && overNodeZlib.has(value);
}
