// A first-in, first-out queue whose push and shift cost amortised O(1),
// whatever its length: `Array#shift` copies the whole array (V8 moves every
// element once the array is past its in-place trimming limits), so a queue
// of one entry per write made every write completion cost O(queue) and a
// slow reader made sending quadratic (issue 20: 400,000 queued messages,
// 10.2 s of CPU).
//
// Calling contract:
//   const queue = new Fifo<T>();
//   queue.push(item);  queue.peek();  queue.shift();  queue.length
// Items are read from a moving head; the consumed prefix is dropped in one
// splice once it is at least half the array (and 1,024 entries), so each
// entry is moved at most once more than it is pushed and shifted.
//
// References:
// - Node.js lib/internal/streams/writable.js (`bufferedIndex`: the same
//   head index over an array, compacted in one splice)

/** The consumed prefix is dropped once it is at least this long and half the array. */
const COMPACT_AT = 1024;

/**
 * A FIFO queue with amortised O(1) `push` and `shift`.
 *
 * @example
 * const sizes = new Fifo<number>();
 * sizes.push(16);
 * sizes.shift(); // 16
 */
export class Fifo<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  /** How many entries are queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds `item` at the tail. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The entry at the head, or undefined when empty. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Removes and returns the entry at the head, or undefined when empty. */
  shift(): T | undefined {
    const items = this.#items;
    const head = this.#head;
    if (head >= items.length) return undefined;
    const item = items[head];
    items[head] = undefined;
    this.#head = head + 1;
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= items.length) {
      items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes every entry. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
