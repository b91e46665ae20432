// The connection's byte reader, without a connection: chunks in, bytes out
// from the front, views where the bytes are in one chunk and one copy where
// they are not, and nothing held once it is read.

import t from 'tap';
import { Reader } from '../../../src/protocol/reader.js';

const bytes = (...values: number[]): Buffer => Buffer.from(values);

t.test('Reader', async (t) => {
  t.test('counts what it holds, and what the first chunk holds past the read position', async (t) => {
    const reader = new Reader();
    t.equal(reader.length, 0);
    t.equal(reader.contiguous, 0);
    reader.push(bytes(1, 2, 3));
    reader.push(bytes(4, 5));
    t.equal(reader.length, 5);
    t.equal(reader.contiguous, 3);
    reader.skip(2);
    t.equal(reader.length, 3);
    t.equal(reader.contiguous, 1);
  });

  t.test('byteAt reads across chunks from the read position', async (t) => {
    const reader = new Reader();
    reader.push(bytes(1, 2));
    reader.push(bytes(3));
    reader.push(bytes(4, 5, 6));
    t.same(
      [0, 1, 2, 3, 4, 5].map((i) => reader.byteAt(i)),
      [1, 2, 3, 4, 5, 6],
    );
    reader.skip(3);
    t.same(
      [0, 1, 2].map((i) => reader.byteAt(i)),
      [4, 5, 6],
    );
  });

  t.test('take returns a view of the chunk when the bytes are all in it', async (t) => {
    const chunk = bytes(1, 2, 3, 4);
    const reader = new Reader();
    reader.push(chunk);
    reader.skip(1);
    const taken = reader.take(2);
    t.same([...taken], [2, 3]);
    t.equal(taken.buffer, chunk.buffer, 'the same memory');
    t.equal(taken.byteOffset, chunk.byteOffset + 1);
    t.same([...reader.take(1)], [4]);
    t.equal(reader.length, 0);
    t.equal(reader.take(0).length, 0, 'nothing, from an empty reader');
  });

  t.test('take copies once across chunks, and leaves the rest', async (t) => {
    const reader = new Reader();
    reader.push(bytes(1, 2));
    reader.push(bytes(3));
    reader.push(bytes(4, 5, 6));
    const taken = reader.take(4);
    t.same([...taken], [1, 2, 3, 4]);
    t.equal(reader.length, 2);
    t.same([...reader.take(2)], [5, 6]);
  });

  t.test('takeSome returns at most the rest of the first chunk, so a payload is read as it arrives', async (t) => {
    const first = bytes(1, 2, 3);
    const reader = new Reader();
    reader.push(first);
    reader.push(bytes(4, 5));
    t.same([...reader.takeSome(2)], [1, 2]);
    t.same([...reader.takeSome(10)], [3], 'stops at the chunk end');
    t.equal(reader.contiguous, 2, 'the next chunk is first now');
    const whole = reader.takeSome(2);
    t.same([...whole], [4, 5]);
    t.equal(reader.length, 0);
    t.equal(reader.takeSome(5).length, 0, 'nothing when empty');
    reader.push(first);
    t.equal(reader.takeSome(3), first, 'a whole chunk is given back as it is');
  });

  t.test('copySome copies at most the rest of the first chunk into a target, and consumes it', async (t) => {
    const reader = new Reader();
    reader.push(bytes(1, 2, 3));
    reader.push(bytes(4, 5));
    const target = Buffer.alloc(6);
    t.equal(reader.copySome(target, 1, 2), 2);
    t.equal(reader.copySome(target, 3, 10), 1, 'stops at the chunk end');
    t.equal(reader.copySome(target, 4, 2), 2);
    t.same([...target], [0, 1, 2, 3, 4, 5]);
    t.equal(reader.length, 0);
    t.equal(reader.copySome(target, 0, 3), 0, 'nothing when empty');
  });

  t.test('skip across chunk boundaries, to the end', async (t) => {
    const reader = new Reader();
    reader.push(bytes(1, 2));
    reader.push(bytes(3, 4));
    reader.skip(2);
    t.equal(reader.contiguous, 2);
    t.equal(reader.byteAt(0), 3);
    reader.skip(2);
    t.equal(reader.length, 0);
    reader.push(bytes(9));
    t.equal(reader.byteAt(0), 9, 'usable again after it emptied');
  });

  t.test('clear drops everything', async (t) => {
    const reader = new Reader();
    reader.push(bytes(1, 2, 3));
    reader.skip(1);
    reader.clear();
    t.equal(reader.length, 0);
    t.equal(reader.contiguous, 0);
    reader.push(bytes(7));
    t.same([...reader.take(1)], [7]);
  });

  t.test('a failed copy consumes nothing', async (t) => {
    const reader = new Reader();
    reader.push(bytes(1));
    reader.push(bytes(2));
    t.throws(() => reader.take(Number.MAX_SAFE_INTEGER), RangeError, 'more than a Buffer can hold');
    t.equal(reader.length, 2);
    t.same([...reader.take(2)], [1, 2]);
  });
});
