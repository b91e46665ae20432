// Churn: 20,000 connect/message/close cycles (mixed clean closes and abrupt
// drops) against one server process. Afterwards its heap (after GC), active
// handles and timers, and open connections are back where they started.

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import t from 'tap';
import { ROOT } from '../helpers/spawn.js';
import { frame } from '../helpers/wire.js';

const CYCLES = Number(process.env.CHURN_CYCLES ?? 20_000);
const CONCURRENCY = 64;

interface Measure {
  heapUsed: number;
  resources: string[];
  connections: number;
  closes: number;
}

/** One cycle: handshake, one echoed message, then a clean close or a drop. */
function cycle(port: number, index: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (index % 8)}` });
    let buffer = Buffer.alloc(0);
    let stage = 0;
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.on('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (stage === 0 && buffer.includes('\r\n\r\n')) {
        stage = 1;
        buffer = buffer.subarray(buffer.indexOf('\r\n\r\n') + 4);
        socket.write(frame(1, `message ${index}`));
      }
      if (stage === 1 && buffer.length >= 2) {
        stage = 2;
        const kind = index % 3;
        if (kind === 0)
          socket.write(frame(8, Buffer.from([0x03, 0xe8]))); // clean close
        else if (kind === 1)
          socket.destroy(); // abrupt drop
        else socket.resetAndDestroy(); // RST
      }
    });
  });
}

async function load(port: number, from: number, count: number): Promise<void> {
  let nextIndex = from;
  const worker = async (): Promise<void> => {
    while (nextIndex < from + count) await cycle(port, nextIndex++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

t.test(`${CYCLES} connect/message/close cycles leave no growth behind`, async (t) => {
  const child = fork(`${ROOT}spec/fixtures/churn-server.mjs`, [], {
    execArgv: ['--expose-gc'],
    cwd: ROOT,
    stdio: 'pipe',
  });
  t.teardown(() => child.kill('SIGKILL'));
  const messages: Array<Measure | { port: number }> = [];
  const waiters: Array<() => void> = [];
  child.on('message', (message: Measure | { port: number }) => {
    messages.push(message);
    waiters.shift()?.();
  });
  const receive = async <T>(): Promise<T> => {
    if (messages.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return messages.shift() as T;
  };
  const measure = async (): Promise<Measure> => {
    child.send('measure');
    return receive<Measure>();
  };

  const { port } = await receive<{ port: number }>();
  const warmup = 1000;
  await load(port, 0, warmup);
  const before = await measure();
  await load(port, warmup, CYCLES);
  const after = await measure();

  t.equal(after.closes, warmup + CYCLES, 'every connection dispatched exactly one close event');
  t.equal(after.connections, 0, 'no connection left open');
  t.same(after.resources.sort(), before.resources.sort(), `active resources unchanged: ${after.resources.join(', ')}`);
  const growth = after.heapUsed - before.heapUsed;
  t.ok(growth < 8 * 1024 * 1024, `heap after GC grew by ${(growth / 1024).toFixed(0)} KiB over ${CYCLES} cycles`);
});
