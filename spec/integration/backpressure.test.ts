// The send path under backpressure (src/websocket/sender.ts and the reading
// side of src/websocket/base.ts), against raw TCP peers that stop reading:
// bufferedAmount stays exact with 100,000 queued messages, both roles; a
// 'drain' listener sees it decreased; a write completion costs O(1) whatever
// the queue length (counted in array elements moved, not timed: the CPU is
// bench/queue.mjs); and pings from a peer that does not read stop being
// read, without undoing (or being undone by) the application's pause().

import { once } from 'node:events';
import type net from 'node:net';
import t, { type Test } from 'tap';
import { Client, type WebSocket } from '../../src/index.js';
import { within } from '../helpers/bounded.js';
import { isOpen, startServer, until } from '../helpers/peers.js';
import { readAndDiscard, silentClient, writeUntilStalled } from '../helpers/raw.js';
import { acceptFor, rawServer } from '../helpers/servers.js';
import { frame } from '../helpers/wire.js';

const COUNT = 100_000;
const MESSAGE = 'x'.repeat(16);

/**
 * Runs `body` while counting the array elements that `Array#shift` and
 * `Array#splice` move in this process's JavaScript (Node's own streams use
 * their captured primordials and are not counted).
 */
async function countMoves(body: () => Promise<void>): Promise<number> {
  const { shift, splice } = Array.prototype;
  let moved = 0;
  Array.prototype.shift = function (this: unknown[]) {
    moved += Math.max(0, this.length - 1);
    return shift.call(this);
  };
  Array.prototype.splice = function (this: unknown[], ...args: unknown[]) {
    moved += this.length;
    return (splice as (...a: unknown[]) => unknown[]).apply(this, args);
  } as typeof splice;
  try {
    await body();
  } finally {
    Array.prototype.shift = shift;
    Array.prototype.splice = splice;
  }
  return moved;
}

/**
 * Sends COUNT messages on `ws` while its peer does not read, then lets the
 * peer read, and checks bufferedAmount all along.
 */
async function queueAndDrain(
  t: Test,
  ws: WebSocket | Client,
  read: () => void,
): Promise<{ atDrain: number[]; moved: number }> {
  const atDrain: number[] = [];
  ws.on('drain', () => atDrain.push(ws.bufferedAmount));
  let moved = 0;
  moved = await countMoves(async () => {
    for (let i = 0; i < COUNT; i++) ws.send(MESSAGE);
    t.equal(ws.bufferedAmount, COUNT * MESSAGE.length, `bufferedAmount is ${COUNT} x 16 bytes, exactly`);
    // The peer's kernel buffers take some (on loopback, maybe all); the rest waits in the socket.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const waiting = ws.bufferedAmount;
    t.ok(waiting % MESSAGE.length === 0, `${waiting} bytes still counted: whole messages`);
    read();
    await within(
      until(() => ws.bufferedAmount === 0, 20_000),
      21_000,
      'bufferedAmount back to 0',
    );
  });
  t.equal(ws.bufferedAmount, 0, 'bufferedAmount is 0 once the peer read everything');
  return { atDrain, moved };
}

t.test('the send path under backpressure', async (t) => {
  t.test('server: 100,000 queued messages to a peer that reads late', async (t) => {
    const server = await startServer(t);
    const socket = await silentClient(t, server.port);
    const ws = await server.next();
    await isOpen(ws);
    const { atDrain, moved } = await queueAndDrain(t, ws, () => readAndDiscard(socket));
    t.ok(atDrain.length > 0, "'drain' came");
    t.same(
      atDrain,
      atDrain.map(() => 0),
      "a 'drain' listener sees bufferedAmount already 0",
    );
    t.ok(moved < 10 * COUNT, `array elements moved: ${moved} (${(moved / COUNT).toFixed(1)} per message; O(1))`);
  });

  t.test('client: 100,000 queued messages to a server that reads late', async (t) => {
    let serverSocket: net.Socket | undefined;
    const server = await rawServer(t, (_head, key, socket) => {
      serverSocket = socket;
      socket.pause();
      return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`;
    });
    const ws = new Client(server.url);
    t.teardown(() => ws.close());
    await once(ws, 'open');
    const { atDrain, moved } = await queueAndDrain(t, ws, () => readAndDiscard(serverSocket as net.Socket));
    t.ok(atDrain.length > 0, "'drain' came");
    t.same(
      atDrain,
      atDrain.map(() => 0),
      "a 'drain' listener sees bufferedAmount already 0",
    );
    t.ok(moved < 10 * COUNT, `array elements moved: ${moved} (${(moved / COUNT).toFixed(1)} per message; O(1))`);
  });

  t.test("a 'drain' listener sees bufferedAmount decreased by what was handed to the OS", async (t) => {
    const server = await startServer(t);
    const socket = await silentClient(t, server.port);
    const ws = await server.next();
    await isOpen(ws);
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    while (ws.send(chunk) && sent < 10_000) sent++;
    const drained = new Promise<number>((resolve) => ws.once('drain', () => resolve(ws.bufferedAmount)));
    readAndDiscard(socket);
    const inListener = await within(drained, 10_000, "'drain'");
    t.equal(inListener, 0, 'bufferedAmount is 0 inside the listener, not a microtask later');
  });
});

/** Masked pings of 125 bytes, 1,000 to a write. */
const PINGS = Buffer.concat(Array.from({ length: 1000 }, () => frame(9, Buffer.alloc(125, 'p'))));

/** Writes pings until the peer stops taking them; resolves with the bytes written. */
async function pingUntilStalled(socket: net.Socket, limit: number): Promise<number> {
  return (await writeUntilStalled(socket, PINGS, limit)).written;
}

const MiB = 2 ** 20;

t.test('pings from a peer that does not read', async (t) => {
  t.test('stop being read once the pongs fill the transport, and reading resumes on drain', async (t) => {
    const server = await startServer(t);
    const socket = await silentClient(t, server.port);
    const ws = await server.next();
    await isOpen(ws);
    const written = await pingUntilStalled(socket, 256 * MiB);
    t.ok(written < 64 * MiB, `the peer stalled after ${(written / MiB).toFixed(1)} MiB of pings (of 256 MiB)`);
    // A message behind the pings, read once the peer reads its pongs.
    const messages: string[] = [];
    ws.addEventListener('message', (event) => messages.push(String(event.data)));
    socket.write(frame(1, 'after the pings'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.same(messages, [], 'nothing is read while the peer does not read its pongs');
    // The application's resume() does not undo the connection's pause.
    ws.pause();
    ws.resume();
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.same(messages, [], "the application's resume() does not resume it early");
    readAndDiscard(socket);
    await within(
      until(() => messages.length === 1, 20_000),
      21_000,
      'the message behind the pings',
    );
    t.same(messages, ['after the pings'], 'read once the peer read its pongs');
  });

  t.test("the connection's resume on drain does not undo the application's pause()", async (t) => {
    const server = await startServer(t);
    const socket = await silentClient(t, server.port);
    const ws = await server.next();
    await isOpen(ws);
    await pingUntilStalled(socket, 256 * MiB);
    const messages: string[] = [];
    ws.addEventListener('message', (event) => messages.push(String(event.data)));
    ws.pause();
    socket.write(frame(1, 'after the pings'));
    const drained = new Promise<void>((resolve) => ws.once('drain', () => resolve()));
    readAndDiscard(socket);
    await within(drained, 20_000, "'drain'");
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.same(messages, [], "paused by the application: nothing read after 'drain'");
    ws.resume();
    await within(
      until(() => messages.length === 1, 20_000),
      21_000,
      'the message after resume()',
    );
    t.same(messages, ['after the pings'], 'read once the application resumed');
  });
});
