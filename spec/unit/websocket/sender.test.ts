// The send path (src/websocket/sender.ts) over an in-memory Duplex whose
// writes complete when the spec says: bufferedAmount counts application
// bytes until the write that ends a message completes, 'drain' settles what
// the transport already took, and the queue frames in order, Blobs included.

import { Duplex } from 'node:stream';
import t from 'tap';
import type { Payload } from '../../../src/dom/data.js';
import { type FramePayload, Sender, type SenderHandler } from '../../../src/websocket/sender.js';

/** A transport that holds each write's callback until release() (highWaterMark 16 bytes). */
function heldTransport(): { socket: Duplex; release(): void; chunks: Buffer[] } {
  const held: Array<() => void> = [];
  const chunks: Buffer[] = [];
  const socket = new Duplex({
    highWaterMark: 16,
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      held.push(() => callback());
    },
  });
  return {
    socket,
    chunks,
    release() {
      for (let done = held.shift(); done; done = held.shift()) done();
    },
  };
}

interface Owner {
  framed: FramePayload[];
  flushed: number;
  failures: unknown[];
}

const handler: SenderHandler<Owner> = {
  frame: (owner, payload) => owner.framed.push(payload),
  flushed: (owner) => owner.flushed++,
  failed: (owner, error) => owner.failures.push(error),
};

const text = (data: string): Payload => ({ kind: 'text', data, size: Buffer.byteLength(data) });

t.test('Sender', async (t) => {
  t.test('bufferedAmount counts a message until the write that ends it completes', async (t) => {
    const owner: Owner = { framed: [], flushed: 0, failures: [] };
    const sender = new Sender(owner, handler);
    const { socket, release } = heldTransport();
    sender.accept(text('hello'));
    sender.accept(text('abc'));
    t.equal(sender.bufferedAmount, 8);
    // A message in two writes: its header (completes nothing), then its payload.
    sender.write(socket, Buffer.from([0x81, 5]), 0);
    sender.write(socket, Buffer.from('hello'), 5);
    sender.write(socket, Buffer.from([0x81, 3, 0x61, 0x62, 0x63]), 3);
    t.equal(sender.bufferedAmount, 8, 'nothing handed over yet');
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await new Promise((resolve) => setImmediate(resolve));
    t.equal(sender.bufferedAmount, 0, 'both written');
  });

  t.test(
    'drained() settles every written message at once, and the callbacks after it count nothing twice',
    async (t) => {
      const owner: Owner = { framed: [], flushed: 0, failures: [] };
      const sender = new Sender(owner, handler);
      const { socket, release } = heldTransport();
      for (let i = 0; i < 3; i++) {
        sender.accept(text('0123456789'));
        sender.write(socket, Buffer.from('0123456789'), 10);
      }
      sender.accept(text('later'));
      t.equal(sender.bufferedAmount, 35);
      sender.drained();
      t.equal(sender.bufferedAmount, 5, "at 'drain' the written messages no longer count; the unsent one does");
      await new Promise((resolve) => setImmediate(resolve));
      release();
      await new Promise((resolve) => setImmediate(resolve));
      release();
      await new Promise((resolve) => setImmediate(resolve));
      t.equal(sender.bufferedAmount, 5, 'their callbacks, run after, subtract nothing more');
      sender.write(socket, Buffer.from('later'), 5);
      await new Promise((resolve) => setImmediate(resolve));
      release();
      await new Promise((resolve) => setImmediate(resolve));
      t.equal(sender.bufferedAmount, 0, 'a later message is counted off by its own callback');
    },
  );

  t.test('pump() frames the queue in order, reading a Blob first, then reports it flushed', async (t) => {
    const owner: Owner = { framed: [], flushed: 0, failures: [] };
    const sender = new Sender(owner, handler);
    sender.enqueue(text('a'));
    sender.enqueue({ kind: 'blob', data: new Blob(['bb']), size: 2 });
    sender.enqueue(text('c'));
    t.ok(sender.queued);
    sender.pump();
    t.same(
      owner.framed.map((p) => p.kind),
      ['text'],
      'the Blob holds back what follows it',
    );
    sender.enqueue(text('d'));
    sender.pump();
    await new Promise((resolve) => setTimeout(resolve, 10));
    t.same(
      owner.framed.map((p) => (p.kind === 'text' ? p.data : p.data.toString())),
      ['a', 'bb', 'c', 'd'],
    );
    t.equal(owner.flushed, 1);
    t.notOk(sender.queued);
  });

  t.test('drop() forgets the queue, also while a Blob is read', async (t) => {
    const owner: Owner = { framed: [], flushed: 0, failures: [] };
    const sender = new Sender(owner, handler);
    sender.enqueue({ kind: 'blob', data: new Blob(['x']), size: 1 });
    sender.enqueue(text('after'));
    sender.pump();
    sender.drop();
    await new Promise((resolve) => setTimeout(resolve, 10));
    t.same(owner.framed, [], 'nothing framed after drop()');
    t.equal(owner.flushed, 0);
    t.notOk(sender.queued);
  });

  t.test('a Blob that cannot be read is reported, and the queue goes', async (t) => {
    const owner: Owner = { framed: [], flushed: 0, failures: [] };
    const sender = new Sender(owner, handler);
    const broken = { arrayBuffer: () => Promise.reject(new Error('unreadable')) } as unknown as Blob;
    sender.enqueue({ kind: 'blob', data: broken, size: 1 });
    sender.enqueue(text('after'));
    sender.pump();
    await new Promise((resolve) => setTimeout(resolve, 10));
    t.equal(owner.failures.length, 1);
    t.same(owner.framed, []);
    t.notOk(sender.queued);
  });
});
