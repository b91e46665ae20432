// Two in-memory Duplex ends joined like a TCP connection: what one writes the
// other reads, ending one half ends the other's reading, and destroying one
// end destroys both (a reset). For specs of the browser-facing base without
// sockets.

import { Duplex } from 'node:stream';

export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (index: number): Duplex =>
    new Duplex({
      // As net.Socket: when the other end finishes, this end finishes too.
      allowHalfOpen: false,
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        ends[1 - index]?.push(chunk);
        callback();
      },
      final(callback) {
        ends[1 - index]?.push(null);
        callback();
      },
      destroy(error, callback) {
        const other = ends[1 - index];
        if (other && !other.destroyed) other.destroy();
        callback(error);
      },
    });
  ends.push(make(0), make(1));
  return [ends[0] as Duplex, ends[1] as Duplex];
}
