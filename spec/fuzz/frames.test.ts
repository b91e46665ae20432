// Property-based fuzzing: random and mutated frame sequences, split at random
// byte boundaries, fed over TCP to the server socket and to the client. The
// invariants: no exception escapes, at most one error event, exactly one
// close event, readyState only moves forward. (Memory is bounded by the
// child-process specs: limits.test.ts and deflate-bombs.test.ts.)
//
// `npm test` runs a short budget; `npm run fuzz` (FUZZ_RUNS=5000) a long one.
// spec/fuzz/deflate.test.ts does the same with permessage-deflate.

import fc from 'fast-check';
import t, { type Test } from 'tap';
import { Client, type WebSocket } from '../../src/index.js';
import { startServer, until } from '../helpers/peers.js';
import { connectRaw } from '../helpers/raw.js';
import { acceptFor, rawServer } from '../helpers/servers.js';
import { flipAndCut, frame } from '../helpers/wire.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const MAX_LENGTH = 64 * 1024;

const frameSpec = fc.record({
  opcode: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 8, 9, 10) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) },
  ),
  fin: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  rsv: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.string({ maxLength: 100 }).map((s) => new Uint8Array(Buffer.from(s))),
  ),
});

const scenario = (masked: boolean) =>
  fc.record({
    frames: fc.array(frameSpec, { minLength: 1, maxLength: 8 }),
    mutations: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 3 }),
    splits: fc.array(fc.nat(), { maxLength: 6 }),
    masked: fc.oneof({ weight: 8, arbitrary: fc.constant(masked) }, { weight: 1, arbitrary: fc.constant(!masked) }),
  });

type Scenario = {
  frames: Array<{ opcode: number; fin: boolean; rsv: number; payload: Uint8Array }>;
  mutations: Array<{ at: number; xor: number }>;
  splits: number[];
  masked: boolean;
};

function bytesOf(s: Scenario): Buffer[] {
  const stream = Buffer.concat(
    s.frames.map((f) => frame(f.opcode, Buffer.from(f.payload), { fin: f.fin, rsv: f.rsv, masked: s.masked })),
  );
  return flipAndCut(stream, s.mutations, s.splits);
}

/** Watches a socket's events and checks the invariants as they happen. */
function watch(t: Test, ws: EventTarget & { readyState: number }) {
  const seen = { errors: 0, closes: 0, last: ws.readyState, backwards: false, afterClose: 0 };
  for (const type of ['open', 'message', 'error', 'close']) {
    ws.addEventListener(type, () => {
      if (ws.readyState < seen.last) seen.backwards = true;
      seen.last = ws.readyState;
      if (seen.closes > 0) seen.afterClose++;
      if (type === 'error') seen.errors++;
      if (type === 'close') seen.closes++;
    });
  }
  return {
    seen,
    check(label: string): boolean {
      const ok = seen.errors <= 1 && seen.closes === 1 && !seen.backwards && seen.afterClose === 0;
      if (!ok) t.fail(`${label}: ${JSON.stringify(seen)}`);
      return ok;
    },
  };
}

const pause = () => new Promise((resolve) => setImmediate(resolve));

t.test('fuzzing the server socket with frames from a client', async (t) => {
  let current: WebSocket | undefined;
  const server = await startServer(t, {
    options: { maxLength: MAX_LENGTH, closeTimeout: 200 },
    setup: (ws) => {
      current = ws;
      ws.onmessage = (event) => ws.send(event.data);
    },
  });
  await fc.assert(
    fc.asyncProperty(scenario(true), async (s) => {
      current = undefined;
      const raw = await connectRaw(t, server.port);
      await until(() => current !== undefined);
      const ws = current as unknown as WebSocket;
      const watcher = watch(t, ws);
      for (const piece of bytesOf(s)) {
        if (raw.socket.destroyed) break;
        raw.socket.write(piece);
        await pause();
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      raw.socket.destroy();
      await until(() => ws.readyState === 3 && watcher.seen.closes === 1, 2000);
      await pause();
      return watcher.check('server');
    }),
    { numRuns: RUNS },
  );
});

t.test('fuzzing the client with frames from a server', async (t) => {
  let frames: Buffer[] = [];
  const server = await rawServer(t, (_head, key, socket) => {
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
    );
    (async () => {
      for (const piece of frames) {
        if (socket.destroyed) return;
        socket.write(piece);
        await pause();
      }
      setTimeout(() => socket.destroy(), 5);
    })();
    return undefined;
  });
  await fc.assert(
    fc.asyncProperty(scenario(false), async (s) => {
      frames = bytesOf(s);
      const ws = new Client(server.url, [], { maxLength: MAX_LENGTH, closeTimeout: 200 });
      ws.onmessage = () => {};
      const watcher = watch(t, ws);
      await until(() => watcher.seen.closes === 1, 3000);
      await pause();
      return watcher.check('client');
    }),
    { numRuns: RUNS },
  );
});
