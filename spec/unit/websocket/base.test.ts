// The browser-facing base over an in-memory transport (no sockets, no HTTP),
// with the peer played by a protocol Connection or raw frames: events and
// their order, sending and bufferedAmount, Blobs and close(), timers.

import type { Duplex } from 'node:stream';
import t from 'tap';
import { CloseEvent } from '../../../src/events.js';
import { Connection } from '../../../src/protocol/connection.js';
import { WebSocketBase } from '../../../src/websocket/base.js';
import { duplexPair } from '../../helpers/pair.js';
import { decodeFrames } from '../../helpers/wire.js';

/** The smallest factory over the base: a server role on a given transport. */
class Socket extends WebSocketBase {
  constructor(options: { closeTimeout?: number; ping?: number } = {}) {
    super({
      url: 'ws://test/',
      origin: 'http://test',
      binaryType: 'nodebuffer',
      closeTimeout: options.closeTimeout ?? 1000,
      ping: options.ping ?? 0,
    });
  }
  attach(transport: Duplex): void {
    this._attach(transport);
  }
  open(head?: Buffer): void {
    this._open({ client: false, maxLength: 1 << 20, protocol: '', extensions: '', negotiated: undefined, head });
  }
  send(data: unknown): boolean {
    return this._send(data);
  }
  close(code?: number, reason = ''): void {
    this._close(code, reason);
  }
  fail(code: number | undefined, message: string): void {
    this._fail(code, message);
  }
}

/** The other end, as a client: a Connection over the peer half. */
function peerOf(transport: Duplex) {
  const received: Array<string | Buffer> = [];
  const closes: Array<[number, string]> = [];
  const raw: Buffer[] = [];
  const connection = new Connection<object>(
    {},
    {
      write: (_o, data) => transport.write(data),
      message: (_o, data) => received.push(data),
      ping: () => {},
      pong: () => {},
      closing: (_o, code, reason) => closes.push([code, reason]),
      failed: (_o, code, reason) => closes.push([code, reason]),
    },
    { client: true, maxLength: 1 << 20 },
  );
  transport.on('data', (chunk: Buffer) => {
    raw.push(Buffer.from(chunk));
    connection.receive(chunk);
  });
  return { connection, received, closes, raw: () => Buffer.concat(raw) };
}

function trace(ws: WebSocketBase): string[] {
  const events: string[] = [];
  for (const type of ['open', 'message', 'error', 'close']) {
    ws.addEventListener(type, (event) => {
      const detail = event instanceof CloseEvent ? `:${event.code}:${event.wasClean}` : '';
      events.push(`${type}${detail}@${ws.readyState}`);
    });
  }
  return events;
}

function next(target: EventTarget, type: string): Promise<Event> {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

async function opened() {
  const [ours, theirs] = duplexPair();
  const ws = new Socket({ closeTimeout: 200 });
  const events = trace(ws);
  ws.attach(ours);
  const peer = peerOf(theirs);
  ws.open();
  return { ws, events, peer, ours, theirs };
}

t.test('open, messages, and a clean close started by the peer: close with its code, no error', async (t) => {
  const { ws, events, peer } = await opened();
  const message = next(ws, 'message');
  peer.connection.text('hi', 2);
  await message;
  const closed = next(ws, 'close');
  peer.connection.close(4000, 'bye');
  await closed;
  t.same(events, ['open@1', 'message@1', 'close:4000:true@3']);
  t.same(peer.closes, [[4000, 'bye']], 'the peer got our answer');
});

t.test('an empty close frame from the peer is close 1005, clean', async (t) => {
  const { ws, events, peer } = await opened();
  const closed = next(ws, 'close');
  peer.connection.close(undefined, '');
  await closed;
  t.same(events, ['open@1', 'close:1005:true@3']);
});

t.test('close() sends the code, then the clean close follows the answer', async (t) => {
  const { ws, events, peer } = await opened();
  ws.close(3000, 'done');
  t.equal(ws.readyState, 2);
  await next(ws, 'close');
  t.same(events, ['open@1', 'close:3000:true@3']);
  t.same(peer.closes, [[3000, 'done']]);
});

t.test('a message queued behind a Blob, and close() right after, lose nothing: Blob, text, then close', async (t) => {
  const { ws, peer } = await opened();
  ws.send(new Blob([Buffer.from('blob bytes')]));
  ws.send('after the blob');
  ws.close(1000, '');
  await next(ws, 'close');
  t.same(
    peer.received.map((data) => String(data)),
    ['blob bytes', 'after the blob'],
  );
  const opcodes = decodeFrames(peer.raw()).map((f) => f.opcode);
  t.same(opcodes, [2, 1, 8], 'the close frame went out last');
});

t.test('bufferedAmount counts a message at once and drops back to 0 after the write, not before', async (t) => {
  const { ws } = await opened();
  ws.send('12345');
  t.equal(ws.bufferedAmount, 5, 'counted as soon as send() returns');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(ws.bufferedAmount, 0, 'released by the write callback');
});

t.test('a drop after open is close 1006 with no error; before open it is error then close 1006', async (t) => {
  const { ws, events, theirs } = await opened();
  const closed = next(ws, 'close');
  theirs.destroy();
  await closed;
  t.same(events, ['open@1', 'close:1006:false@3']);

  const [ours, other] = duplexPair();
  const early = new Socket();
  const earlyEvents = trace(early);
  early.attach(ours);
  const earlyClosed = next(early, 'close');
  other.destroy();
  await earlyClosed;
  t.same(earlyEvents, ['error@3', 'close:1006:false@3']);
});

t.test('a protocol failure sends its code, then error and close 1006, each once', async (t) => {
  const { ws, events, theirs, peer } = await opened();
  // An unmasked frame from a client is a protocol error (RFC 6455 §5.1).
  const closed = next(ws, 'close');
  theirs.write(Buffer.from([0x81, 0x01, 0x78]));
  await closed;
  t.same(events, ['open@1', 'error@3', 'close:1006:false@3']);
  t.same(peer.closes[0]?.[0], 1002);
});

t.test('the close timeout drops a peer that never answers the close frame (close 1006, no error)', async (t) => {
  const [ours, theirs] = duplexPair();
  const ws = new Socket({ closeTimeout: 50 });
  const events = trace(ws);
  ws.attach(ours);
  theirs.on('data', () => {}); // reads, never answers
  ws.open();
  const started = Date.now();
  ws.close(1000, '');
  await next(ws, 'close');
  t.same(events, ['open@1', 'close:1006:false@3']);
  t.ok(Date.now() - started >= 45, 'after the timeout, not before');
});

t.test('the ping option fails a peer that stops answering, with 1001, and stops its timer', async (t) => {
  const [ours, theirs] = duplexPair();
  const ws = new Socket({ ping: 0.02 });
  const events = trace(ws);
  ws.attach(ours);
  const frames: Buffer[] = [];
  theirs.on('data', (chunk: Buffer) => frames.push(chunk));
  ws.open();
  await next(ws, 'close');
  t.same(events, ['open@1', 'error@3', 'close:1006:false@3']);
  const sent = decodeFrames(Buffer.concat(frames));
  t.same(
    sent.map((f) => f.opcode),
    [9, 8],
    'one ping, then the close frame',
  );
  t.equal(sent[1]?.payload.readUInt16BE(0), 1001);
  const count = frames.length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(frames.length, count, 'no ping after close: the timer is cleared');
});

t.test('on* attributes keep their place, receive the event with this set, and null removes them', async (t) => {
  const { ws, peer } = await opened();
  const calls: string[] = [];
  ws.onmessage = function (this: unknown) {
    calls.push(this === ws ? 'first' : 'wrong this');
  };
  ws.addEventListener('message', () => calls.push('listener'));
  ws.onmessage = () => calls.push('replaced');
  let message = next(ws, 'message');
  peer.connection.text('a', 1);
  await message;
  ws.onmessage = null;
  t.equal(ws.onmessage, null);
  message = next(ws, 'message');
  peer.connection.text('b', 1);
  await message;
  t.same(calls, ['replaced', 'listener', 'listener']);
});

t.test('faye stream events: data per message, end once at close', async (t) => {
  const { ws, peer } = await opened();
  const stream: string[] = [];
  ws.on('data', (data: string) => stream.push(`data ${data}`));
  ws.on('end', () => stream.push('end'));
  const message = next(ws, 'message');
  peer.connection.text('x', 1);
  await message;
  ws.close();
  await next(ws, 'close');
  t.same(stream, ['data x', 'end']);
});

t.test('send() while CONNECTING queues on the base; fail() while CONNECTING ends in one close', async (t) => {
  const [ours, theirs] = duplexPair();
  const ws = new Socket();
  const events = trace(ws);
  ws.attach(ours);
  const peer = peerOf(theirs);
  t.equal(ws.send('queued'), true);
  t.equal(ws.bufferedAmount, 6);
  ws.open();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(peer.received, ['queued'], 'sent once open');
  ws.fail(1011, 'going');
  ws.fail(1002, 'twice');
  await next(ws, 'close');
  t.same(events, ['open@1', 'error@3', 'close:1006:false@3']);
  t.same(peer.closes, [[1011, 'going']], 'the first failure wins');
});

t.test('frames the peer sends between attach and open wait in the transport: none is lost', async (t) => {
  const [ours, theirs] = duplexPair();
  const ws = new Socket();
  const received: string[] = [];
  ws.addEventListener('message', (event) => received.push(String((event as MessageEvent).data)));
  ws.attach(ours);
  const peer = peerOf(theirs);
  // A client pipelining frames behind its request: they reach our end before the handshake is done.
  peer.connection.text('early', 5);
  await new Promise((resolve) => setTimeout(resolve, 10));
  ws.open();
  peer.connection.text('later', 5);
  while (!received.includes('later')) await next(ws, 'message');
  t.same(received, ['early', 'later']);
});
