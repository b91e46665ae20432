// The FIFO queue of the send path (src/websocket/fifo.ts): order, emptiness,
// and the amortised O(1) bound, counted in the elements its compaction moves.

import t from 'tap';
import { Fifo } from '../../../src/websocket/fifo.js';

t.test('Fifo', async (t) => {
  t.test('gives entries back in the order they were pushed, then undefined', async (t) => {
    const queue = new Fifo<number>();
    t.equal(queue.length, 0);
    t.equal(queue.shift(), undefined);
    t.equal(queue.peek(), undefined);
    for (let i = 0; i < 5; i++) queue.push(i);
    t.equal(queue.length, 5);
    t.equal(queue.peek(), 0);
    t.same([queue.shift(), queue.shift()], [0, 1]);
    queue.push(5);
    t.same([queue.shift(), queue.shift(), queue.shift(), queue.shift()], [2, 3, 4, 5]);
    t.equal(queue.length, 0);
    t.equal(queue.shift(), undefined);
  });

  t.test('keeps its order across compactions, with pushes and shifts interleaved', async (t) => {
    const queue = new Fifo<number>();
    let next = 0;
    let expected = 0;
    let wrong = 0;
    for (let round = 0; round < 50_000; round++) {
      queue.push(next++);
      queue.push(next++);
      if (queue.shift() !== expected++) wrong++;
    }
    while (queue.length > 0) if (queue.shift() !== expected++) wrong++;
    t.equal(wrong, 0, '150,000 operations, every entry in order');
    t.equal(expected, next);
  });

  t.test('moves each entry at most once more, whatever the length (amortised O(1))', async (t) => {
    const { splice } = Array.prototype;
    let moved = 0;
    Array.prototype.splice = function (this: unknown[], ...args: unknown[]) {
      moved += this.length;
      return (splice as (...a: unknown[]) => unknown[]).apply(this, args);
    } as typeof splice;
    try {
      const queue = new Fifo<number>();
      const count = 400_000;
      for (let i = 0; i < count; i++) queue.push(i);
      // A slow reader: one shift per push, the queue staying long.
      for (let i = 0; i < count; i++) {
        queue.push(i);
        queue.shift();
      }
      while (queue.length > 0) queue.shift();
      t.ok(moved <= 4 * count, `${moved} elements moved for ${2 * count} entries`);
    } finally {
      Array.prototype.splice = splice;
    }
  });

  t.test('clear() empties it', async (t) => {
    const queue = new Fifo<string>();
    queue.push('a');
    queue.clear();
    t.equal(queue.length, 0);
    t.equal(queue.shift(), undefined);
  });
});
