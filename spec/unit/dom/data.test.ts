// src/dom/data.ts: the binaryType check and the conversions between what
// send() accepts, what the driver takes and what a message event carries.
import t from 'tap';
import {
  BINARY_TYPES,
  binaryType,
  isSharedArrayBuffer,
  toArrayBuffer,
  toMessageData,
  toPayload,
} from '../../../src/dom/data.js';

t.test('binaryType', async (t) => {
  t.test('accepts each of BINARY_TYPES and returns it', async (t) => {
    t.same(BINARY_TYPES, ['blob', 'arraybuffer', 'nodebuffer']);
    for (const type of BINARY_TYPES) t.equal(binaryType(type), type);
  });

  t.test('anything else is a TypeError naming the allowed values and the bad one', async (t) => {
    for (const bad of ['Blob', 'buffer', '', undefined, 1]) {
      t.throws(() => binaryType(bad), {
        name: 'TypeError',
        message: `binaryType must be one of 'blob', 'arraybuffer', 'nodebuffer', not ${String(bad)}`,
      });
    }
  });
});

t.test('toPayload', async (t) => {
  t.test('a string is text measured in UTF-8 bytes', async (t) => {
    t.same(toPayload('héllo'), { kind: 'text', data: 'héllo', size: 6 });
    t.same(toPayload(''), { kind: 'text', data: '', size: 0 });
  });

  t.test('a Buffer is binary and passed as it is', async (t) => {
    const buffer = Buffer.from([1, 2, 3]);
    const payload = toPayload(buffer);
    t.equal(payload.kind, 'binary');
    t.equal(payload.data, buffer, 'the same Buffer, not a copy');
    t.equal(payload.size, 3);
  });

  t.test('a typed array or DataView is viewed, not copied: its offset and length kept', async (t) => {
    const backing = new Uint8Array([9, 8, 7, 6, 5]);
    for (const view of [backing.subarray(1, 4), new DataView(backing.buffer, 1, 3)]) {
      const payload = toPayload(view);
      t.equal(payload.kind, 'binary');
      t.same([...(payload.data as Buffer)], [8, 7, 6]);
      t.equal(payload.size, 3);
      backing[2] = 0;
      t.equal((payload.data as Buffer)[1], 0, 'shares the bytes of the view');
      backing[2] = 7;
    }
  });

  t.test('an ArrayBuffer and a SharedArrayBuffer are binary', async (t) => {
    const plain = new Uint8Array([1, 2]).buffer;
    t.same([...(toPayload(plain).data as Buffer)], [1, 2]);
    const shared = new SharedArrayBuffer(4);
    new Uint8Array(shared).set([4, 3, 2, 1]);
    const payload = toPayload(shared);
    t.equal(payload.kind, 'binary');
    t.same([...(payload.data as Buffer)], [4, 3, 2, 1]);
    t.equal(payload.size, 4);
  });

  t.test('a Blob stays a Blob to be read, with its size', async (t) => {
    const blob = new Blob(['abcd']);
    t.same(toPayload(blob), { kind: 'blob', data: blob, size: 4 });
  });

  t.test('anything else is converted with String(), as WebIDL does', async (t) => {
    t.same(toPayload(42), { kind: 'text', data: '42', size: 2 });
    t.same(toPayload(null), { kind: 'text', data: 'null', size: 4 });
    t.same(toPayload({ toString: () => '✓' }), { kind: 'text', data: '✓', size: 3 });
  });
});

t.test('isSharedArrayBuffer tells a SharedArrayBuffer from an ArrayBuffer and a view', async (t) => {
  t.equal(isSharedArrayBuffer(new SharedArrayBuffer(1)), true);
  t.equal(isSharedArrayBuffer(new ArrayBuffer(1)), false);
  t.equal(isSharedArrayBuffer(new Uint8Array(new SharedArrayBuffer(1))), false);
  t.equal(isSharedArrayBuffer(undefined), false);
});

t.test('toArrayBuffer', async (t) => {
  t.test('returns the backing ArrayBuffer when the Buffer spans all of it', async (t) => {
    const buffer = Buffer.from(new Uint8Array([1, 2, 3]).buffer);
    t.equal(toArrayBuffer(buffer), buffer.buffer);
  });

  t.test('copies exactly the bytes of a Buffer that is a slice', async (t) => {
    const buffer = Buffer.from([0, 1, 2, 3, 4]).subarray(1, 3);
    const result = toArrayBuffer(buffer);
    t.not(result, buffer.buffer);
    t.equal(result.byteLength, 2);
    t.same([...new Uint8Array(result)], [1, 2]);
  });
});

t.test('toMessageData gives what binaryType asks for', async (t) => {
  const buffer = Buffer.from([5, 6]);
  t.equal(toMessageData(buffer, 'nodebuffer'), buffer);
  const arrayBuffer = toMessageData(buffer, 'arraybuffer');
  t.ok(arrayBuffer instanceof ArrayBuffer);
  t.same([...new Uint8Array(arrayBuffer as ArrayBuffer)], [5, 6]);
  const blob = toMessageData(buffer, 'blob');
  t.ok(blob instanceof Blob);
  t.same([...new Uint8Array(await (blob as Blob).arrayBuffer())], [5, 6]);
});
