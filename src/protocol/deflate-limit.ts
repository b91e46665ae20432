// Holds permessage-deflate to maxLength while it inflates, not after.
//
// permessage-deflate 0.1.7 inflates a whole message before websocket-driver
// compares its size with maxLength, so 1 KiB on the wire can become 1 GiB in
// memory. The extension takes a `zlib` option (the module it makes its
// streams with); we hand it one whose raw inflaters count their output and
// fail with `too_large` (close code 1009) as soon as a message passes the
// limit, so memory stays near maxLength.
//
// References:
// - RFC 7692 §7.2.2 (decompression): https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2
// - RFC 6455 §7.4.1: 1009, a message too big to process
// - faye/permessage-deflate-node lib/session.js (one inflate per message,
//   written, then flushed; reused across messages with context takeover)

import zlib from 'node:zlib';

interface Configurable {
  readonly name: string;
  configure?(options: { zlib: unknown }): unknown;
}

/** An error websocket-driver turns into close code 1009. */
export class MessageTooLargeError extends Error {
  readonly type = 'too_large';
}

/**
 * A zlib facade whose raw inflaters stop at `maxLength` bytes of output per
 * message. The count starts again after each flush (the end of a message).
 */
export function limitedZlib(maxLength: number): typeof zlib {
  const createInflateRaw = (options?: zlib.ZlibOptions): zlib.InflateRaw => {
    const inflate = zlib.createInflateRaw(options);
    let total = 0;
    inflate.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxLength && !inflate.destroyed) {
        inflate.destroy(new MessageTooLargeError(`A compressed message inflated past maxLength (${maxLength} bytes)`));
      }
    });
    const flush = inflate.flush.bind(inflate) as (...args: unknown[]) => void;
    inflate.flush = ((...args: unknown[]) => {
      const callback = args.findIndex((arg) => typeof arg === 'function');
      if (callback >= 0) {
        const done = args[callback] as () => void;
        args[callback] = () => {
          total = 0;
          done();
        };
      }
      flush(...args);
    }) as typeof inflate.flush;
    return inflate;
  };
  return { ...zlib, createInflateRaw } as typeof zlib;
}

/**
 * Returns the extension to register: permessage-deflate configured with a
 * limited zlib, any other extension as it is. A zlib the application already
 * configured wins (permessage-deflate keeps earlier options).
 */
export function limitExtension<E extends object>(extension: E, maxLength: number): E {
  const candidate = extension as unknown as Configurable;
  if (candidate.name !== 'permessage-deflate' || typeof candidate.configure !== 'function') return extension;
  return candidate.configure({ zlib: limitedZlib(maxLength) }) as E;
}
