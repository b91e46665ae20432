// Hostile input over HTTP/2: the hostile frames of hostile.test.ts, now on
// extended CONNECT streams, against an isosocket server in a child process
// (spec/fixtures/http2-server.mjs) that is probed afterwards: alive, still
// serving pages and WebSockets over both protocols, peak RSS bounded. Then
// malformed HTTP/2 itself (frames built by hand), resets and dead sessions,
// and a hostile HTTP/2 server against WebSocket.Client.

import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2, { type ServerHttp2Stream } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import t, { type Test } from 'tap';
import WS from 'ws';
import { Client, type CloseEvent } from '../../src/index.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { CLIENT_MAX_LENGTH, clientFrameCases, serverFrameCases } from '../helpers/hostile.js';
import { http2Server, http2Session, rawConnect } from '../helpers/http2.js';
import { until } from '../helpers/peers.js';
import { requirePeer } from '../helpers/require-peer.js';
import { ROOT } from '../helpers/spawn.js';
import { certificates } from '../helpers/tls.js';
import { trace } from '../helpers/trace.js';
import { closeCodeIn, frame } from '../helpers/wire.js';

interface Probe {
  events: Record<string, string[]>;
  rss: number;
  maxRSS: number;
}

/** The fixture server in a child process, killed with the test. */
async function startChild(t: Test): Promise<{ port: number; child: ChildProcess; probe(): Promise<Probe> }> {
  const { key, cert } = certificates();
  const dir = mkdtempSync(join(tmpdir(), 'isosocket-h2-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'key.pem'), key);
  writeFileSync(join(dir, 'cert.pem'), cert);
  const child = fork(`${ROOT}spec/fixtures/http2-server.mjs`, [], {
    env: { ...process.env, KEY_FILE: join(dir, 'key.pem'), CERT_FILE: join(dir, 'cert.pem') },
    // Plain Node, without the spec runner's TypeScript loader: its memory is the server's.
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const [message] = (await within(once(child, 'message'), 15_000, 'the HTTP/2 server process to listen')) as [
    { port: number },
  ];
  return {
    port: message.port,
    child,
    probe: async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the server process exited (${child.exitCode ?? child.signalCode}):\n${output}`);
      }
      const answer = within(once(child, 'message'), 5000, 'the server process to answer a probe');
      child.send('probe');
      return ((await answer) as [Probe])[0];
    },
  };
}

/** An HPACK block of literal fields, never indexed and never Huffman-coded (RFC 7541 §6.2.2). */
function hpack(fields: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    if (name.length > 126 || value.length > 126) throw new Error('short fields only');
    parts.push(Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value));
  }
  return Buffer.concat(parts);
}

/** One HTTP/2 frame (RFC 9113 §4.1). */
function h2frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const GOAWAY = 0x7;
const END_HEADERS = 0x4;

/**
 * Speaks HTTP/2 by hand over TLS: the preface, then `frames`; resolves with
 * the types and stream ids of the frames the server sent until it resets
 * stream 1, sends GOAWAY, or closes the connection.
 */
async function rawHttp2(port: number, frames: Buffer[]): Promise<Array<[number, number]>> {
  const socket = tls.connect({ port, host: '127.0.0.1', ALPNProtocols: ['h2'], rejectUnauthorized: false });
  socket.on('error', () => {});
  await within(once(socket, 'secureConnect'), 5000, 'TLS');
  const seen: Array<[number, number]> = [];
  let buffer = Buffer.alloc(0);
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 9) {
        const length = buffer.readUIntBE(0, 3);
        if (buffer.length < 9 + length) break;
        const type = buffer[3] as number;
        const stream = buffer.readUInt32BE(5) & 0x7fffffff;
        seen.push([type, stream]);
        buffer = buffer.subarray(9 + length);
        if ((type === RST_STREAM && stream === 1) || type === GOAWAY) resolve();
      }
    });
    socket.on('close', () => resolve());
  });
  socket.write(Buffer.concat([PREFACE, h2frame(SETTINGS, 0, 0), ...frames]));
  await within(done, 5000, 'the server to reset the stream');
  socket.destroy();
  return seen;
}

t.test('hostile input over HTTP/2 to a server in a child process', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;
  const server = await startChild(t);
  const origin = `https://localhost:${server.port}`;
  const { ca } = certificates();
  const session = http2Session(t, origin, ca);
  const baseline = await server.probe();

  t.test('each hostile frame gets its close code on the stream, then the stream ends', async (t) => {
    const cases = serverFrameCases();
    for (const [name, frames, code] of cases) {
      const raw = await rawConnect(session, '/frames', { 'x-case': name });
      t.equal(raw.response[':status'], 200);
      for (const bytes of frames) raw.stream.write(bytes);
      await within(raw.closed, 5000, `${name}: the stream to close`);
      t.equal(closeCodeIn(raw.received()), code, `${name}: close ${code}`);
    }
    const { events } = await server.probe();
    for (const [name] of cases) {
      const log = events[name] ?? [];
      t.equal(log.filter((event) => event.startsWith('close')).length, 1, `${name}: exactly one close event`);
      t.ok(log.filter((event) => event === 'error').length <= 1, `${name}: at most one error event`);
      t.match(log.at(-1), /^close:/, `${name}: close comes last`);
    }
  });

  t.test('a permessage-deflate bomb on a stream stops at maxLength with memory near it', async (t) => {
    const raw = await rawConnect(session, '/bomb', {
      'x-case': 'bomb',
      'sec-websocket-extensions': 'permessage-deflate',
    });
    t.match(raw.response['sec-websocket-extensions'], /^permessage-deflate/);
    const before = await server.probe();
    // 1 MiB on the wire that inflates to 1 GiB: sync-flushed blocks of zeros, repeated.
    const block = zlib.deflateRawSync(Buffer.alloc(1 << 20), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    raw.stream.write(frame(2, Buffer.concat(Array(1024).fill(block)), { rsv: 4 }));
    await within(raw.closed, 15_000, 'the bomb stream to close');
    t.equal(closeCodeIn(raw.received()), 1009);
    const after = await server.probe();
    const growth = after.maxRSS - before.rss;
    t.ok(growth < 64 * 1024 * 1024, `peak RSS grew ${(growth / 1048576).toFixed(1)} MiB, far below the 1024 MiB bomb`);
    t.same(after.events.bomb, ['open', 'error', 'close:1006']);
  });

  t.test('malformed HTTP/2 requests are reset by the protocol layer, never reaching a WebSocket', async (t) => {
    const malformed: Array<[string, Array<[string, string]>]> = [
      [
        'an extended CONNECT without :path',
        [
          [':method', 'CONNECT'],
          [':protocol', 'websocket'],
          [':scheme', 'https'],
          [':authority', 'localhost'],
        ],
      ],
      [
        ':protocol on a GET',
        [
          [':method', 'GET'],
          [':protocol', 'websocket'],
          [':scheme', 'https'],
          [':path', '/'],
          [':authority', 'localhost'],
        ],
      ],
      [
        'an upper-case field name',
        [
          [':method', 'CONNECT'],
          [':protocol', 'websocket'],
          [':scheme', 'https'],
          [':path', '/'],
          [':authority', 'localhost'],
          ['X-Case', 'upper'],
        ],
      ],
    ];
    for (const [name, fields] of malformed) {
      const seen = await rawHttp2(server.port, [h2frame(HEADERS, END_HEADERS, 1, hpack(fields))]);
      t.ok(
        seen.some(([type, stream]) => (type === RST_STREAM && stream === 1) || type === GOAWAY),
        `${name}: RST_STREAM or GOAWAY (${JSON.stringify(seen)})`,
      );
      t.notOk(
        seen.some(([type, stream]) => type === HEADERS && stream === 1),
        `${name}: no response head`,
      );
    }
    const { events } = await server.probe();
    t.equal(events.upper, undefined, 'no WebSocket was made for them');
  });

  t.test('resets and dead sessions give close 1006', async (t) => {
    const reset = await rawConnect(session, '/', { 'x-case': 'reset mid-frame' });
    reset.stream.write(frame(1, 'x'.repeat(200)).subarray(0, 50));
    reset.stream.close(http2.constants.NGHTTP2_CANCEL);
    const doomed = http2Session(t, origin, ca);
    const dying = await rawConnect(doomed, '/', { 'x-case': 'session dies mid-frame' });
    dying.stream.write(frame(1, 'x'.repeat(200)).subarray(0, 50));
    doomed.destroy();
    // A flood of streams opened and reset at once.
    for (let i = 0; i < 100; i++) {
      const stream = session.request(
        {
          ':method': 'CONNECT',
          ':protocol': 'websocket',
          ':path': '/',
          'sec-websocket-version': '13',
          'x-case': `flood ${i}`,
        },
        { endStream: false },
      );
      stream.on('error', () => {});
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
    // Probed until every socket has closed, for at most 10 s.
    const closedAll = (probe: Probe): boolean =>
      probe.events['reset mid-frame']?.length === 2 &&
      probe.events['session dies mid-frame']?.length === 2 &&
      Object.entries(probe.events).every(([name, log]) => !name.startsWith('flood') || log.at(-1) === 'close:1006');
    let probe = await server.probe();
    for (const deadline = Date.now() + 10_000; !closedAll(probe) && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      probe = await server.probe();
    }
    t.same(probe.events['reset mid-frame'], ['open', 'close:1006']);
    t.same(probe.events['session dies mid-frame'], ['open', 'close:1006']);
    const flood = Object.entries(probe.events)
      .filter(([name]) => name.startsWith('flood'))
      .map(([, log]) => log);
    t.ok(
      flood.every((log) => log.filter((event) => event.startsWith('close')).length === 1),
      `each of the ${flood.length} flood streams that reached a WebSocket closed once`,
    );
  });

  t.test('afterwards the process is alive and serves pages and WebSockets over both protocols', async (t) => {
    const page = session.request({ ':path': '/' });
    let body = '';
    page.on('data', (chunk) => (body += chunk));
    await within(once(page, 'end'), 5000, 'the page');
    t.equal(body, 'alive');
    const ws = new Client(`wss://localhost:${server.port}/`, [], { http2: session });
    await nextWithin(ws, 'open');
    ws.send('over HTTP/2');
    t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, 'over HTTP/2');
    ws.close();
    const overHttp1 = new WS(`wss://localhost:${server.port}/`, { ca });
    overHttp1.on('error', () => {});
    t.teardown(() => overHttp1.terminate());
    await within(once(overHttp1, 'open'), 5000, 'ws over HTTP/1.1');
    overHttp1.send('over HTTP/1.1');
    t.equal(String((await within(once(overHttp1, 'message'), 5000, 'an echo'))[0]), 'over HTTP/1.1');
    const last = await server.probe();
    t.ok(
      last.maxRSS - baseline.rss < 128 * 1024 * 1024,
      `peak RSS ${(last.maxRSS / 1048576).toFixed(0)} MiB, ${((last.maxRSS - baseline.rss) / 1048576).toFixed(0)} MiB over the start`,
    );
  });
});

t.test('a hostile HTTP/2 server against WebSocket.Client', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;
  for (const [name, bytes, code] of clientFrameCases()) {
    t.test(`${name}: error, close 1006, and ${code} sent on the stream`, async (t) => {
      const peer = await http2Server(t);
      let sent = Buffer.alloc(0);
      peer.server.on('stream', (stream: ServerHttp2Stream) => {
        stream.on('error', () => {});
        stream.on('data', (chunk: Buffer) => {
          sent = Buffer.concat([sent, chunk]);
        });
        stream.respond({ ':status': 200 });
        // A moment later, so that the frame follows the response head.
        setTimeout(() => stream.write(bytes), 20);
      });
      const ws = new Client(`${peer.wss}/`, [], { http2: true, ca: peer.ca, maxLength: CLIENT_MAX_LENGTH });
      const events = trace(ws);
      const close = await nextWithin<CloseEvent>(ws, 'close');
      t.same(events, ['open@1', 'error@3', 'close:1006@3']);
      t.equal(close.wasClean, false);
      await until(() => sent.length >= 8);
      t.equal((sent[0] as number) & 0x0f, 8, 'a close frame was sent');
      const mask = sent.subarray(2, 6);
      const payload = Buffer.from(sent.subarray(6, 8).map((b, i) => b ^ (mask[i] as number)));
      t.equal(payload.readUInt16BE(0), code);
    });
  }
});
