// The bytes a connection received and has not parsed yet, a pure module:
// chunks in the order they came, read from the front.
//
// Calling contract (the whole of it):
//
//   push(chunk)        bytes from the peer (not empty); the reader keeps them
//                      as they are, no copy
//   length             how many bytes are buffered
//   contiguous         how many of them are in the first chunk, at the read
//                      position (what take() can return without a copy)
//   byteAt(index)      the byte `index` past the read position (the caller
//                      checked that it is there)
//   skip(count)        moves the read position on (the caller checked)
//   take(count)        `count` bytes: a view into the first chunk when they
//                      are all there, else one copy across chunks (the caller
//                      checked they are buffered; throws a RangeError when
//                      the copy cannot be allocated)
//   takeSome(most)     up to `most` bytes, never more than `contiguous`: a
//                      view, so the caller can consume a long payload chunk by
//                      chunk as it arrives without holding the chunks
//   copySome(target, at, most)
//                      copies up to `most` bytes, never more than `contiguous`,
//                      into `target` from `at`, and consumes them; returns how
//                      many (no view made: a payload of tiny frames costs no
//                      object per frame)
//   clear()            drops everything
//
// The connection reads a frame header with byteAt/skip, a control frame or a
// data frame that arrived whole with take, and a data frame whose bytes are
// still arriving (or a fragment) with copySome, into its message; so at most one frame header and one control
// frame payload (139 bytes) are ever held in more than one chunk.
//
// References:
// - python-websockets src/websockets/streams.py (StreamReader: the byte
//   reader of a Sans-I/O protocol in a file of its own)
// - websockets/ws lib/receiver.js (consume(): a view, or one copy)

/** Unparsed bytes from the peer, as the chunks they came in. */
export class Reader {
  // Made on the first push and kept (emptied, not dropped: one array per
  // connection rather than one per chunk).
  #chunks: Buffer[] | undefined;
  /** The read position in the first chunk. */
  #offset = 0;
  #length = 0;

  /** Bytes buffered. */
  get length(): number {
    return this.#length;
  }

  /** Bytes in the first chunk past the read position: what take() returns without copying. */
  get contiguous(): number {
    const first = this.#chunks?.[0];
    return first === undefined ? 0 : first.length - this.#offset;
  }

  /** Adds a chunk (not empty) after those buffered. */
  push(chunk: Buffer): void {
    if (this.#chunks === undefined) this.#chunks = [chunk];
    else this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The byte `index` past the read position (the caller checked it is there). */
  byteAt(index: number): number {
    const chunks = this.#chunks as Buffer[];
    let at = this.#offset + index;
    for (const chunk of chunks) {
      if (at < chunk.length) return chunk[at] as number;
      at -= chunk.length;
    }
    return 0;
  }

  /** Moves the read position `count` bytes on (the caller checked they are there). */
  skip(count: number): void {
    const chunks = this.#chunks as Buffer[];
    this.#length -= count;
    let left = count;
    while (left > 0) {
      const available = (chunks[0] as Buffer).length - this.#offset;
      if (left < available) {
        this.#offset += left;
        return;
      }
      left -= available;
      chunks.shift();
      this.#offset = 0;
    }
  }

  /**
   * Takes `count` buffered bytes: a view into the first chunk, or one copy
   * across several (a RangeError when it cannot be allocated: nothing is
   * consumed then).
   */
  take(count: number): Buffer {
    if (count <= this.contiguous) return this.takeSome(count);
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const part = this.takeSome(count - filled);
      part.copy(out, filled);
      filled += part.length;
    }
    return out;
  }

  /** Takes up to `most` bytes from the first chunk, as a view (empty when nothing is buffered). */
  takeSome(most: number): Buffer {
    const chunks = this.#chunks;
    const first = chunks?.[0];
    if (first === undefined || most <= 0) return EMPTY;
    const start = this.#offset;
    const end = Math.min(first.length, start + most);
    this.#length -= end - start;
    if (end === first.length) {
      (chunks as Buffer[]).shift();
      this.#offset = 0;
      return start === 0 ? first : first.subarray(start, end);
    }
    this.#offset = end;
    return first.subarray(start, end);
  }

  /** Copies up to `most` bytes from the first chunk into `target` at `at`, consuming them; returns how many. */
  copySome(target: Buffer, at: number, most: number): number {
    const chunks = this.#chunks;
    const first = chunks?.[0];
    if (first === undefined || most <= 0) return 0;
    const start = this.#offset;
    const end = Math.min(first.length, start + most);
    first.copy(target, at, start, end);
    this.#length -= end - start;
    if (end === first.length) {
      (chunks as Buffer[]).shift();
      this.#offset = 0;
    } else this.#offset = end;
    return end - start;
  }

  /** Drops every buffered byte. */
  clear(): void {
    this.#chunks = undefined;
    this.#offset = 0;
    this.#length = 0;
  }
}

const EMPTY = Buffer.alloc(0);
