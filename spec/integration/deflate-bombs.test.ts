// permessage-deflate bombs against a server and a client running in a child
// process (issue 10, item 5; SECURITY.md: "maxLength ... also after
// inflation"). With permessage-deflate and maxLength 1 MiB, compressed
// messages of 2 MiB, 16 MiB, 256 MiB and 1 GiB (hand-made at DEFLATE's best
// ratio, so that even 1 GiB is under 1 MiB on the wire and only the inflate
// bound can stop it) arrive as one frame and as fragments, on a fresh
// connection and after earlier messages with context takeover, from raw
// frames and from a real `ws` peer. Each must end in close 1009, and after
// all of them the child is alive, echoes a normal message, and its peak RSS
// (read in the child from the kernel) grew by less than 64 MiB.
//
// Needs `npm run build` (npm test builds first).

import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import zlib from 'node:zlib';
import t, { type Test } from 'tap';
import WS, { WebSocketServer } from 'ws';
import { BOMB_SIZES, deflateBomb, MiB, pieces } from '../helpers/bombs.js';
import { within } from '../helpers/bounded.js';
import { Child, describe, mib } from '../helpers/child.js';
import { listen } from '../helpers/listen.js';
import { until, wsClient } from '../helpers/peers.js';
import { connectRaw, handshake } from '../helpers/raw.js';
import { acceptFor, rawServer } from '../helpers/servers.js';
import { closeCodeOf, decodeFrames, frame } from '../helpers/wire.js';

const MAX_LENGTH = MiB;
/** How much the child's peak RSS may grow over the whole matrix. */
const PEAK_RSS_BOUND = 64 * MiB;
const EARLIER = ['first', 'second', 'third'];
/** The bombs, made once: a few milliseconds for all four. */
const BOMBS = BOMB_SIZES.map(([name, size]) => ({ name, size, payload: deflateBomb(size) }));
const ZEROS = Buffer.alloc(MiB);
/**
 * The largest bomb a `ws` peer sends: it compresses what it sends (about 6 s
 * of CPU for 1 GiB), and a fragmented compressed message is inflated when its
 * last frame arrives, so a ws stream of 1 GiB would run to its end.
 */
const WS_SIZE = 16 * MiB;

type Shape = { fragmented: boolean; earlier: boolean };
const SHAPES: Shape[] = [
  { fragmented: false, earlier: false },
  { fragmented: true, earlier: false },
  { fragmented: false, earlier: true },
  { fragmented: true, earlier: true },
];
const shapeName = ({ fragmented, earlier }: Shape): string =>
  `${fragmented ? 'in 8 fragments' : 'in one frame'}, ${earlier ? 'after 3 messages with context takeover' : 'on a fresh connection'}`;

/** A permessage-deflate compressor with context takeover: one message at a time. */
function compressor(): (text: string) => Promise<Buffer> {
  const deflate = zlib.createDeflateRaw();
  return (text) =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const ondata = (chunk: Buffer): void => {
        chunks.push(chunk);
      };
      deflate.on('data', ondata);
      deflate.write(text);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        deflate.off('data', ondata);
        // RFC 7692 §7.2.1: remove the 00 00 ff ff the sync flush ended with.
        resolve(Buffer.concat(chunks).subarray(0, -4));
      });
    });
}

/** The frames of one compressed binary message: RSV1 on the first frame only (RFC 7692 §6). */
function messageFrames(payload: Buffer, fragmented: boolean, masked: boolean): Buffer[] {
  const parts = fragmented ? pieces(payload, 8) : [payload];
  return parts.map((part, i) =>
    frame(i === 0 ? 2 : 0, part, { fin: i === parts.length - 1, rsv: i === 0 ? 4 : 0, masked }),
  );
}

/** Sends `size` zero bytes through a `ws` sender as 1 MiB fragments, until the peer closes. */
async function streamZeros(ws: WS, size: number): Promise<void> {
  for (let sent = 0; sent < size && ws.readyState === WS.OPEN; sent += MiB) {
    await new Promise<void>((resolve) => ws.send(ZEROS, { binary: true, fin: sent + MiB >= size }, () => resolve()));
  }
}

/** The events a connection in the child must have seen: the earlier messages, then the failure. */
function expectFailed(t: Test, events: string[], earlier: boolean): void {
  t.same(
    events,
    ['open', ...(earlier ? EARLIER.map((m) => `message:${m}`) : []), 'error', 'close:1006'],
    'open, the earlier messages echoed, then error and close 1006: no bomb message dispatched',
  );
}

async function startChild(t: Test): Promise<Child> {
  const child = new Child(t);
  await child.ready;
  return child;
}

t.test('a server in a child process, permessage-deflate, maxLength 1 MiB', async (t) => {
  const child = await startChild(t);
  const port = await child.serve({ extensions: true, maxLength: MAX_LENGTH });
  const url = `ws://127.0.0.1:${port}/`;

  // A normal compressed exchange first, so that what the bombs add is measured.
  const echo = async (what: string): Promise<void> => {
    const ws = wsClient(t, url, [], { perMessageDeflate: { threshold: 0 } });
    await within(once(ws, 'open'), 5000, `${what}: a ws client to open`);
    t.equal(ws.extensions, 'permessage-deflate', `${what}: permessage-deflate was negotiated`);
    ws.send('x'.repeat(100_000));
    const [data] = await within(once(ws, 'message'), 5000, `${what}: the echo`);
    t.equal(String(data), 'x'.repeat(100_000), `${what}: the child echoes a normal compressed message`);
    ws.close();
  };
  await echo('before the bombs');
  const before = (await child.probe()).peakRSS;

  for (const bomb of BOMBS) {
    for (const shape of SHAPES) {
      t.test(
        `raw frames: ${bomb.name} (${bomb.payload.length} bytes on the wire) ${shapeName(shape)}: close 1009`,
        async (t) => {
          const upgrade = child.nextUpgrade();
          const raw = await connectRaw(t, port, handshake(port, { 'Sec-WebSocket-Extensions': 'permessage-deflate' }));
          const id = await upgrade;
          await within(
            until(() => raw.received().includes('\r\n\r\n')),
            5000,
            'the handshake response',
          );
          t.match(raw.received().toString('latin1'), /\r\nSec-WebSocket-Extensions: permessage-deflate/i);
          if (shape.earlier) {
            const compress = compressor();
            for (const text of EARLIER) raw.socket.write(frame(1, await compress(text), { rsv: 4 }));
            await child.until(id, (events) => events.length === 1 + EARLIER.length, 'the earlier messages');
          }
          for (const bytes of messageFrames(bomb.payload, shape.fragmented, true)) raw.socket.write(bytes);
          await within(raw.closed, 5000, 'the child to close the connection');
          t.equal(closeCodeOf(raw.received()), 1009);
          const events = await child.until(id, (events) => events.at(-1)?.type === 'close', 'the close event');
          expectFailed(t, events.map(describe), shape.earlier);
        },
      );
    }
  }

  // A real ws client compresses the bombs itself (with context takeover),
  // which costs this process about 6 s of CPU a GiB; the raw frames above
  // carry all four sizes precompressed, so ws sends 2 and 16 MiB only.
  for (const { name, size } of BOMBS) {
    for (const shape of size <= WS_SIZE ? SHAPES : []) {
      t.test(
        `a ws client: ${name} ${shapeName(shape).replace('8 fragments', '1 MiB fragments')}: close 1009`,
        async (t) => {
          const upgrade = child.nextUpgrade();
          const ws = wsClient(t, url, [], { perMessageDeflate: { threshold: 0 } });
          // Not events.once: it rejects on an 'error' event, unhandled if the spec failed before awaiting it.
          const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
          await within(once(ws, 'open'), 5000, 'the ws client to open');
          const id = await upgrade;
          if (shape.earlier) {
            for (const text of EARLIER) {
              ws.send(text);
              await within(once(ws, 'message'), 5000, `the echo of ${text}`);
            }
          }
          if (shape.fragmented) await streamZeros(ws, size);
          else ws.send(Buffer.alloc(size));
          t.equal(await within(closed, 5000, 'the child to close the connection'), 1009);
          const events = await child.until(id, (events) => events.at(-1)?.type === 'close', 'the close event');
          expectFailed(t, events.map(describe), shape.earlier);
        },
      );
    }
  }

  t.test('afterwards the child is alive, echoes, and its peak RSS grew by less than 64 MiB', async (t) => {
    await echo('after the bombs');
    t.equal(await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()), 'alive', 'the same HTTP server answers');
    const probe = await child.probe();
    t.ok(
      probe.peakRSS - before < PEAK_RSS_BOUND,
      `peak RSS grew by ${mib(probe.peakRSS - before)} (bound ${mib(PEAK_RSS_BOUND)}) for bombs up to 1024 MiB`,
    );
    t.same(probe.warnings, [], 'no process warning');
  });
});

t.test('a WebSocket.Client in a child process, permessage-deflate, maxLength 1 MiB', async (t) => {
  const child = await startChild(t);
  const options = { extensions: true, maxLength: MAX_LENGTH, closeTimeout: 500 };

  // A ws echo server, and a normal compressed exchange first, so that what the bombs add is measured.
  const echoes = new WebSocketServer({ noServer: true, perMessageDeflate: { threshold: 0 } });
  const echoServer = http.createServer();
  echoServer.on('upgrade', (request, socket, head) =>
    echoes.handleUpgrade(request, socket, head, (ws) => ws.on('message', (data, binary) => ws.send(data, { binary }))),
  );
  const echoUrl = `ws://127.0.0.1:${await listen(t, echoServer)}/`;
  t.teardown(() => echoes.close());
  const echo = async (what: string): Promise<void> => {
    const id = child.connect(echoUrl, options);
    await child.until(id, (events) => events.some((e) => e.type === 'open'), `${what}: the client to open`);
    child.send(id, 'x'.repeat(100_000));
    await child.until(id, (events) => events.some((e) => e.type === 'message'), `${what}: the echo`);
    child.close(id, 1000);
    const events = await child.until(id, (events) => events.at(-1)?.type === 'close', `${what}: the close event`);
    t.same(
      events.map((e) => (e.type === 'message' ? `message:${e.dataLength}` : describe(e))),
      ['open', 'message:100000', 'close:1000'],
      `${what}: the client sends, receives a compressed echo, and closes cleanly`,
    );
  };
  await echo('before the bombs');
  const before = (await child.probe()).peakRSS;

  /** The close code in the first close frame the client sent. */
  const closeCodeSent = (bytes: Buffer): number | undefined => {
    const close = decodeFrames(bytes).find((f) => f.opcode === 8);
    return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
  };

  // Raw frames: each connection takes the next plan.
  const plans: Array<{ payload: Buffer; shape: Shape; id: string; sent: Buffer[] }> = [];
  const raw = await rawServer(t, (head, key, socket: net.Socket) => {
    const plan = plans.shift();
    if (!plan) return 'HTTP/1.1 500 Unplanned\r\n\r\n';
    socket.on('data', (chunk: Buffer) => {
      plan.sent.push(chunk);
      // The client's close frame: the server closes TCP (RFC 6455 §7.1.1), so the client need not wait.
      if (closeCodeSent(Buffer.concat(plan.sent)) !== undefined) socket.end();
    });
    const extensions = /\r\nSec-WebSocket-Extensions: *permessage-deflate/i.test(head)
      ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n'
      : '';
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n${extensions}\r\n`,
    );
    void (async () => {
      if (plan.shape.earlier) {
        const compress = compressor();
        for (const text of EARLIER) socket.write(frame(1, await compress(text), { rsv: 4, masked: false }));
        await child.until(plan.id, (events) => events.length === 1 + EARLIER.length, 'the earlier messages');
      }
      for (const bytes of messageFrames(plan.payload, plan.shape.fragmented, false)) socket.write(bytes);
    })().catch(() => socket.destroy());
    return undefined;
  });

  for (const bomb of BOMBS) {
    for (const shape of SHAPES) {
      t.test(`raw frames: ${bomb.name} ${shapeName(shape)}: the client sends 1009`, async (t) => {
        const plan = { payload: bomb.payload, shape, id: '', sent: [] as Buffer[] };
        plans.push(plan);
        plan.id = child.connect(raw.url, options);
        const events = await child.until(plan.id, (events) => events.at(-1)?.type === 'close', 'the close event');
        expectFailed(t, events.map(describe), shape.earlier);
        await within(
          until(() => closeCodeSent(Buffer.concat(plan.sent)) !== undefined),
          5000,
          'the client close frame',
        );
        t.equal(closeCodeSent(Buffer.concat(plan.sent)), 1009);
      });
    }
  }

  // A ws server compresses the bombs itself (2 and 16 MiB, as above).
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: { threshold: 0 } });
  const wsPlans: Array<{ size: number; shape: Shape; id: string; code: Promise<number> }> = [];
  const server = http.createServer();
  server.on('upgrade', (request, socket, head) => {
    const plan = wsPlans.shift();
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', () => {});
      if (!plan) return ws.terminate();
      plan.code = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
      void (async () => {
        if (plan.shape.earlier) {
          for (const text of EARLIER) ws.send(text);
          await child.until(plan.id, (events) => events.length === 1 + EARLIER.length, 'the earlier messages');
        }
        if (plan.shape.fragmented) await streamZeros(ws, plan.size);
        else ws.send(Buffer.alloc(plan.size));
      })().catch(() => ws.terminate());
    });
  });
  const wsPort = await listen(t, server);
  t.teardown(() => wss.close());

  for (const { name, size } of BOMBS) {
    for (const shape of size <= WS_SIZE ? SHAPES : []) {
      t.test(
        `a ws server: ${name} ${shapeName(shape).replace('8 fragments', '1 MiB fragments')}: the client sends 1009`,
        async (t) => {
          const plan = { size, shape, id: '', code: new Promise<number>(() => {}) };
          wsPlans.push(plan);
          plan.id = child.connect(`ws://127.0.0.1:${wsPort}/`, options);
          const events = await child.until(plan.id, (events) => events.at(-1)?.type === 'close', 'the close event');
          expectFailed(t, events.map(describe), shape.earlier);
          t.equal(await within(plan.code, 5000, 'the ws server to see the close'), 1009);
        },
      );
    }
  }

  t.test('afterwards the child is alive, echoes, and its peak RSS grew by less than 64 MiB', async (t) => {
    await echo('after the bombs');
    const probe = await child.probe();
    t.ok(
      probe.peakRSS - before < PEAK_RSS_BOUND,
      `peak RSS grew by ${mib(probe.peakRSS - before)} (bound ${mib(PEAK_RSS_BOUND)}) for bombs up to 1024 MiB`,
    );
    t.same(probe.warnings, [], 'no process warning');
  });
});
