// WebSocketStream against real servers over loopback (a `ws` server and an
// isosocket server for every behaviour, hand-written ones for failures), its
// server-side form over isosocket's WebSocket, backpressure both ways, and
// the client's Node-only options. Chromium's own WebSocketStream runs the same
// scenarios in spec/browser/stream.test.ts.

import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import t from 'tap';
import {
  Client,
  type CloseEvent,
  WebSocket,
  WebSocketError,
  WebSocketStream,
  type WebSocketStreamMessage,
} from '../../src/index.js';
import { within } from '../helpers/bounded.js';
import { freePort, listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { startConnectProxy } from '../helpers/proxies.js';
import { requirePeer } from '../helpers/require-peer.js';
import { PEERS, rawServer } from '../helpers/servers.js';
import { certificates } from '../helpers/tls.js';

const MiB = 1024 * 1024;

/** What a promise did: `resolved <value>` or `rejected <name> <closeCode>`. */
async function outcome(promise: Promise<unknown>, ms = 5000): Promise<string> {
  try {
    const value = await within(promise, ms, 'a WebSocketStream promise');
    return `resolved ${JSON.stringify(value)}`;
  } catch (error) {
    const e = error as Error & { closeCode?: number | null };
    if (/nothing within/.test(e.message)) throw error;
    return `rejected ${e.constructor.name} ${e.name}${'closeCode' in e ? ` ${e.closeCode}` : ''}`;
  }
}

/** Polls `read` until its value has not changed for `quietMs`; bounded by `ms`. */
async function settledValue(read: () => number, quietMs = 300, ms = 10_000): Promise<number> {
  const start = Date.now();
  let value = read();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() - start > ms) throw new Error(`value still changing after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = read();
    if (now !== value) {
      value = now;
      since = Date.now();
    }
  }
  return value;
}

function bytes(value: WebSocketStreamMessage | undefined): string {
  return typeof value === 'string' ? value : `${value?.constructor.name} ${[...(value ?? [])].join(',')}`;
}

t.test('WebSocketStream', async (t) => {
  for (const makePeer of PEERS) {
    t.test(`against a ${makePeer === PEERS[0] ? 'ws' : 'isosocket'} server`, async (t) => {
      t.test('opened gives the streams; text reads as a string, binary as a Uint8Array of its own', async (t) => {
        const peer = await makePeer(t, { protocols: ['b'] });
        const wss = new WebSocketStream(peer.url, { protocols: ['a', 'b'] });
        t.teardown(() => wss.close());
        t.equal(wss.url, peer.url);
        const info = await within(wss.opened, 5000, 'opened');
        t.same(Object.keys(info), ['extensions', 'protocol', 'readable', 'writable']);
        t.equal(info.protocol, 'b');
        t.match(info.extensions, /^permessage-deflate|^$/);
        ReadableStream.prototype.getReader.call(info.readable).releaseLock();
        WritableStream.prototype.getWriter.call(info.writable).releaseLock();
        const writer = info.writable.getWriter();
        const reader = info.readable.getReader();
        await writer.write('hello ☃');
        await writer.write(Uint8Array.of(1, 2, 3));
        await writer.write(Uint16Array.of(0x0201).buffer);
        const big = new Uint8Array(100_000).fill(7);
        await writer.write(big);
        big.fill(0);
        t.equal((await reader.read()).value, 'hello ☃');
        const binary = (await reader.read()).value as Uint8Array;
        t.equal(binary.constructor, Uint8Array);
        t.same([...binary], [1, 2, 3]);
        t.equal(binary.byteOffset, 0);
        t.equal(binary.buffer.byteLength, 3, 'a buffer of its own, not a view of the socket chunk');
        t.same([...((await reader.read()).value as Uint8Array)], [1, 2]);
        const echoed = (await reader.read()).value as Uint8Array;
        t.ok(
          echoed.length === 100_000 && echoed.every((b) => b === 7),
          'the write was copied: changing the chunk after write() changes nothing',
        );
      });

      t.test('close({ closeCode, reason }) is sent; closed resolves with the peer close frame', async (t) => {
        const peer = await makePeer(t);
        const wss = new WebSocketStream(peer.url);
        const { readable, writable } = await within(wss.opened, 5000, 'opened');
        const connection = await peer.next();
        wss.close({ closeCode: 3456, reason: 'pizza' });
        t.same(await within(wss.closed, 5000, 'closed'), { closeCode: 3456, reason: 'pizza' });
        t.equal(await within(connection.closed, 5000, 'the server close'), 3456);
        t.same(await readable.getReader().read(), { done: true, value: undefined }, 'the readable is closed');
        t.equal(await outcome(writable.getWriter().ready), 'rejected DOMException InvalidStateError');
      });

      t.test('close() sends an empty close frame (1005); a reason without a code is 1000', async (t) => {
        const peer = await makePeer(t);
        const plain = new WebSocketStream(peer.url);
        await plain.opened;
        plain.close();
        t.same(await within(plain.closed, 5000, 'closed'), { closeCode: 1005, reason: '' });
        const reasoned = new WebSocketStream(peer.url);
        await reasoned.opened;
        reasoned.close({ reason: 'only' });
        t.same(await within(reasoned.closed, 5000, 'closed'), { closeCode: 1000, reason: 'only' });
      });

      t.test(
        "closing the writable closes cleanly, and the writer's close() waits for the closing handshake",
        async (t) => {
          const peer = await makePeer(t);
          const wss = new WebSocketStream(peer.url);
          const { writable } = await wss.opened;
          const order: string[] = [];
          const closing = writable
            .getWriter()
            .close()
            .then(() => order.push('writer closed'));
          const closed = wss.closed.then((info) => order.push(`closed ${info.closeCode}`));
          await within(Promise.all([closing, closed]), 5000, 'close');
          t.same(order.sort(), ['closed 1005', 'writer closed']);
        },
      );

      t.test('abort() and cancel() take a WebSocketError code and reason, and ignore anything else', async (t) => {
        const peer = await makePeer(t);
        const cases: Array<
          [string, (info: { readable: ReadableStream; writable: WritableStream }) => unknown, object]
        > = [
          [
            'abort with a WebSocketError',
            (i) => i.writable.abort(new WebSocketError('', { closeCode: 3333, reason: 'ab' })),
            { closeCode: 3333, reason: 'ab' },
          ],
          [
            'cancel with a WebSocketError',
            (i) => i.readable.cancel(new WebSocketError('', { closeCode: 3334 })),
            { closeCode: 3334, reason: '' },
          ],
          [
            'cancel with a plain object',
            (i) => i.readable.cancel({ closeCode: 3335, reason: 'no' }),
            { closeCode: 1005, reason: '' },
          ],
          [
            'abort with a DOMException',
            (i) => i.writable.abort(new DOMException('yes', 'DataCloneError')),
            { closeCode: 1005, reason: '' },
          ],
          ['abort with nothing', (i) => i.writable.abort(), { closeCode: 1005, reason: '' }],
        ];
        for (const [name, act, expected] of cases) {
          const wss = new WebSocketStream(peer.url);
          act(await wss.opened);
          t.same(await within(wss.closed, 5000, name), expected, name);
        }
      });

      t.test('for await reads until the server closes cleanly; breaking out closes the connection', async (t) => {
        const peer = await makePeer(t, { echo: false });
        const wss = new WebSocketStream(peer.url);
        const { readable } = await wss.opened;
        const connection = await peer.next();
        for (const n of [1, 2, 3]) connection.send(`message ${n}`);
        connection.close(4000, 'robot');
        const seen: WebSocketStreamMessage[] = [];
        for await (const message of readable) seen.push(message);
        t.same(seen, ['message 1', 'message 2', 'message 3']);
        t.same(await wss.closed, { closeCode: 4000, reason: 'robot' });

        const early = new WebSocketStream(peer.url);
        const opened = await early.opened;
        const server = await peer.next();
        server.send('one');
        server.send('two');
        for await (const message of opened.readable) {
          t.equal(message, 'one');
          break;
        }
        t.same(
          await within(early.closed, 5000, 'closed'),
          { closeCode: 1005, reason: '' },
          'break cancels: a clean close',
        );
      });

      t.test('an abrupt drop rejects closed with a WebSocketError 1006 that also errors both streams', async (t) => {
        const peer = await makePeer(t);
        const wss = new WebSocketStream(peer.url);
        const { readable, writable } = await wss.opened;
        (await peer.next()).terminate();
        const error = (await within(
          wss.closed.then(
            () => undefined,
            (e: unknown) => e,
          ),
          5000,
          'closed',
        )) as WebSocketError;
        t.equal(error.constructor, WebSocketError);
        t.equal(error.name, 'WebSocketError');
        t.equal(error.closeCode, 1006);
        await t.rejects(readable.getReader().read(), error);
        const reason = await writable.getWriter().ready.then(
          () => undefined,
          (e: unknown) => e,
        );
        t.equal(reason, error, 'the same object');
      });
    });
  }

  t.test('when the connection cannot be made', async (t) => {
    t.test(
      'a refused upgrade rejects opened (closeCode null) and closed (1006), with the reason as cause',
      async (t) => {
        const server = await rawServer(t, () => 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        const wss = new WebSocketStream(server.url);
        const opened = (await wss.opened.then(
          () => undefined,
          (e: unknown) => e,
        )) as WebSocketError;
        const closed = (await wss.closed.then(
          () => undefined,
          (e: unknown) => e,
        )) as WebSocketError;
        t.equal(opened.constructor, WebSocketError);
        t.equal(opened.message, 'WebSocket closed before handshake complete.');
        t.equal(opened.closeCode, null);
        t.match(String((opened.cause as Error).message), /404/);
        t.equal(closed.constructor, WebSocketError);
        t.equal(closed.closeCode, 1006);
      },
    );

    t.test('close() during the handshake fails it: both promises reject', async (t) => {
      const server = await rawServer(t, () => undefined);
      const wss = new WebSocketStream(server.url);
      wss.close();
      t.equal(await outcome(wss.opened), 'rejected WebSocketError WebSocketError null');
      t.equal(await outcome(wss.closed), 'rejected WebSocketError WebSocketError 1006');
    });

    t.test('nobody awaiting the promises of a failed stream is no unhandled rejection', async (t) => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown): void => {
        unhandled.push(reason);
      };
      process.on('unhandledRejection', onUnhandled);
      t.teardown(() => process.off('unhandledRejection', onUnhandled));
      const url = `ws://127.0.0.1:${await freePort()}/`;
      void new WebSocketStream(url);
      const watched = new WebSocketStream(url);
      await outcome(watched.closed);
      await new Promise((resolve) => setTimeout(resolve, 50));
      t.same(unhandled, []);
    });

    t.test(
      'the signal: aborted before, nothing connects; during the handshake, AbortError; after open, nothing',
      async (t) => {
        let requests = 0;
        const silent = await rawServer(t, () => {
          requests++;
          return undefined;
        });
        const before = new AbortController();
        before.abort();
        const early = new WebSocketStream(silent.url, { signal: before.signal });
        t.equal(await outcome(early.opened), 'rejected DOMException AbortError');
        t.equal(await outcome(early.closed), 'rejected DOMException AbortError');
        t.equal(silent.sockets.length, 0, 'no connection was made');

        const during = new AbortController();
        const hanging = new WebSocketStream(silent.url, { signal: during.signal });
        await until(() => requests === 1);
        during.abort(new DOMException('stop', 'AbortError'));
        t.equal(await outcome(hanging.opened), 'rejected DOMException AbortError');
        t.equal(await outcome(hanging.closed), 'rejected DOMException AbortError');

        const peer = await PEERS[1](t);
        const after = new AbortController();
        const open = new WebSocketStream(peer.url, { signal: after.signal });
        const { readable, writable } = await open.opened;
        after.abort();
        await writable.getWriter().write('still here');
        t.equal((await readable.getReader().read()).value, 'still here');
        open.close();
        t.same(await open.closed, { closeCode: 1005, reason: '' });
      },
    );
  });

  t.test('arguments', async (t) => {
    const url = 'ws://127.0.0.1:1/';
    t.throws(() => new WebSocketStream('invalid:'), { name: 'SyntaxError' });
    t.throws(() => new WebSocketStream(url, true as never), TypeError);
    t.throws(() => new WebSocketStream(url, { protocols: 'hi' as never }), TypeError, 'protocols must be a list');
    t.throws(() => new WebSocketStream(url, { protocols: ['a', 'A'] }), { name: 'SyntaxError' });
    t.throws(() => new WebSocketStream(url, { signal: {} as never }), TypeError);
    t.throws(() => new WebSocketStream(url, { heders: {} } as never), { name: 'TypeError', message: /headers/ });
    const controller = new AbortController();
    controller.abort();
    const ignored = new WebSocketStream('http://127.0.0.1:1/x', { foo: 1, signal: controller.signal } as never);
    t.equal(ignored.url, 'ws://127.0.0.1:1/x', 'http: becomes ws:, and unrelated keys are ignored');

    const peer = await PEERS[1](t);
    const wss = new WebSocketStream(peer.url);
    const { writable } = await wss.opened;
    t.throws(() => wss.close(true as never), TypeError);
    for (const closeCode of [999, 1001, 2999, 5000]) {
      t.throws(() => wss.close({ closeCode }), { name: 'InvalidAccessError' }, String(closeCode));
    }
    t.throws(() => wss.close({ closeCode: 70_000 }), TypeError, '[EnforceRange]');
    t.throws(() => wss.close({ closeCode: Number.NaN }), TypeError, '[EnforceRange]');
    t.throws(() => wss.close({ reason: '.'.repeat(124) }), { name: 'SyntaxError' });
    const writer = writable.getWriter();
    const cannotStringify = {
      toString() {
        return this;
      },
    };
    t.equal(await outcome(writer.write(cannotStringify as never)), 'rejected TypeError TypeError');
    wss.close();
    await wss.closed;
    const Resizable = ArrayBuffer as unknown as new (size: number, options: { maxByteLength: number }) => ArrayBuffer;
    for (const chunk of [new Resizable(8, { maxByteLength: 16 }), new Uint8Array(new SharedArrayBuffer(8))]) {
      const other = new WebSocketStream(peer.url);
      const opened = await other.opened;
      t.equal(await outcome(opened.writable.getWriter().write(chunk)), 'rejected TypeError TypeError');
      other.close();
      await other.closed;
    }
  });

  t.test('WebSocketError', async (t) => {
    const plain = new WebSocketError();
    t.same([plain.name, plain.message, plain.code, plain.closeCode, plain.reason], ['WebSocketError', '', 0, null, '']);
    t.ok(plain instanceof DOMException);
    const full = new WebSocketError('message', { closeCode: 3456, reason: 'reason' });
    t.same([full.message, full.closeCode, full.reason], ['message', 3456, 'reason']);
    t.equal(new WebSocketError('', { reason: 'specified' }).closeCode, 1000);
    for (const closeCode of [999, 1001, 2999, 5000]) {
      t.throws(() => new WebSocketError('', { closeCode }), { name: 'InvalidAccessError' }, String(closeCode));
    }
    t.throws(() => new WebSocketError('', { closeCode: 1000, reason: 'x'.repeat(124) }), { name: 'SyntaxError' });
    t.throws(() => new WebSocketError('', { reason: '🔌'.repeat(32) }), { name: 'SyntaxError' }, 'UTF-8 bytes');
  });
});

t.test('backpressure', async (t) => {
  t.test('a reader that holds off stops the socket: the server cannot hand its data to the OS', async (t) => {
    const sockets: WebSocket[] = [];
    const server = http.createServer();
    server.on('upgrade', (request, socket, head) => sockets.push(new WebSocket(request, socket, head)));
    const port = await listen(t, server);
    const wss = new WebSocketStream(`ws://127.0.0.1:${port}/`);
    const { readable } = await wss.opened;
    await until(() => sockets.length === 1);
    const serverSocket = sockets[0] as WebSocket;
    const COUNT = 32;
    for (let n = 0; n < COUNT; n++) serverSocket.send(Buffer.alloc(MiB, n));
    const stuck = await settledValue(() => serverSocket.bufferedAmount);
    t.ok(stuck > 8 * MiB, `the server still holds ${(stuck / MiB).toFixed(1)} MiB of its 32 MiB`);

    const reader = readable.getReader();
    for (let n = 0; n < COUNT; n++) {
      const { value } = await within(reader.read(), 5000, `message ${n}`);
      const message = value as Uint8Array;
      t.ok(message.length === MiB && message[0] === n && message[MiB - 1] === n, `message ${n} whole and in order`);
    }
    await until(() => serverSocket.bufferedAmount === 0);
    wss.close();
    await wss.closed;
  });

  t.test('writes wait while the peer does not read, and all arrive once it does', async (t) => {
    const sockets: WebSocket[] = [];
    const received: number[] = [];
    const server = http.createServer();
    server.on('upgrade', (request, socket, head) => {
      const ws = new WebSocket(request, socket, head);
      ws.onopen = () => ws.pause();
      ws.onmessage = (event) => received.push((event.data as Buffer)[0] as number);
      sockets.push(ws);
    });
    const port = await listen(t, server);
    const wss = new WebSocketStream(`ws://127.0.0.1:${port}/`);
    const { writable } = await wss.opened;
    await until(() => sockets.length === 1);
    const writer = writable.getWriter();
    const COUNT = 32;
    let written = 0;
    const writing = (async () => {
      for (let n = 0; n < COUNT; n++) {
        await writer.write(new Uint8Array(MiB).fill(n));
        written++;
      }
    })();
    const stuckAt = await settledValue(() => written);
    t.ok(stuckAt < COUNT, `the writes stopped at ${stuckAt} of ${COUNT} while the server did not read`);
    (sockets[0] as WebSocket).resume();
    await within(writing, 20_000, 'the remaining writes');
    await until(() => received.length === COUNT, 20_000);
    t.same(
      received,
      Array.from({ length: COUNT }, (_, n) => n),
    );
    wss.close();
    await wss.closed;
  });
});

t.test('WebSocketStream.from(): a server WebSocket as streams', async (t) => {
  t.test('both ends read with for await: an echo server over streams, and a client over streams', async (t) => {
    const serverSide: Array<Promise<unknown>> = [];
    const server = http.createServer();
    server.on('upgrade', (request, socket, head) => {
      const stream = WebSocketStream.from(new WebSocket(request, socket, head));
      serverSide.push(
        (async () => {
          const { readable, writable } = await stream.opened;
          const writer = writable.getWriter();
          for await (const message of readable) {
            await writer.write(typeof message === 'string' ? message.toUpperCase() : message.reverse());
          }
          return stream.closed;
        })(),
      );
    });
    const port = await listen(t, server);
    const wss = new WebSocketStream(`ws://127.0.0.1:${port}/`);
    const { readable, writable } = await wss.opened;
    const writer = writable.getWriter();
    await writer.write('shout');
    await writer.write(Uint8Array.of(1, 2, 3));
    const got: string[] = [];
    for await (const message of readable) {
      got.push(bytes(message));
      if (got.length === 2) break;
    }
    t.same(got, ['SHOUT', 'Uint8Array 3,2,1']);
    t.same(await wss.closed, { closeCode: 1005, reason: '' });
    t.same(await within(serverSide[0] as Promise<unknown>, 5000, 'the server side'), { closeCode: 1005, reason: '' });
  });

  t.test("an open socket's opened resolves at once; close() follows the server socket's rules", async (t) => {
    let opened: (ws: WebSocket) => void = () => {};
    const ready = new Promise<WebSocket>((resolve) => {
      opened = resolve;
    });
    const server = http.createServer();
    server.on('upgrade', (request, socket, head) => {
      const ws = new WebSocket(request, socket, head);
      ws.onopen = () => opened(ws);
    });
    const port = await listen(t, server);
    const client = new Client(`ws://127.0.0.1:${port}/`);
    const closed = new Promise<CloseEvent>((resolve) =>
      client.addEventListener('close', (e) => resolve(e as CloseEvent)),
    );
    const serverSocket = await ready;
    const stream = WebSocketStream.from(serverSocket);
    t.equal(stream.url, serverSocket.url);
    const info = await within(stream.opened, 5000, 'opened');
    t.equal(info.protocol, '');
    stream.close({ closeCode: 1001, reason: 'going away' });
    const event = await within(closed, 5000, 'the client close');
    t.same([event.code, event.reason, event.wasClean], [1001, 'going away', true]);
    t.same(await stream.closed, { closeCode: 1001, reason: 'going away' });
    t.throws(() => WebSocketStream.from(serverSocket), { name: 'InvalidStateError' });
    t.throws(() => WebSocketStream.from({} as never), TypeError);
  });
});

t.test("the client's Node-only options", async (t) => {
  t.test('headers and origin are sent; handshakeTimeout fails a silent server with the reason as cause', async (t) => {
    let head = '';
    const server = await rawServer(t, (request) => {
      head = request;
      return undefined;
    });
    const wss = new WebSocketStream(server.url, {
      headers: { Authorization: 'Bearer t' },
      origin: 'https://app.example',
      handshakeTimeout: 200,
    });
    const error = (await within(
      wss.opened.then(
        () => undefined,
        (e: unknown) => e,
      ),
      5000,
      'opened',
    )) as WebSocketError;
    t.match(head, /\r\nAuthorization: Bearer t\r\n/);
    t.match(head, /\r\nOrigin: https:\/\/app\.example\r\n/);
    t.equal(error.constructor, WebSocketError);
    t.equal((error.cause as Error).name, 'TimeoutError');
  });

  t.test('wss: with a CA, through a CONNECT proxy', async (t) => {
    if (!requirePeer(t, 'openssl', 'openssl')) return;
    const { ca, key, cert } = certificates();
    const secure = https.createServer({ key, cert });
    secure.on('upgrade', (request, socket, head) => {
      const ws = new WebSocket(request, socket, head);
      ws.onmessage = (event) => ws.send(event.data);
    });
    const port = await listen(t, secure);
    const proxy = await startConnectProxy(t);
    const wss = new WebSocketStream(`wss://localhost:${port}/`, { ca, proxy: { origin: proxy.origin } });
    const { readable, writable } = await within(wss.opened, 5000, 'opened');
    await writable.getWriter().write('through the tunnel');
    t.equal((await readable.getReader().read()).value, 'through the tunnel');
    t.match(proxy.requests[0] ?? '', /^CONNECT localhost:\d+ HTTP\/1\.1/);
    wss.close();
    await wss.closed;

    const untrusted = new WebSocketStream(`wss://localhost:${port}/`);
    const error = (await untrusted.opened.then(
      () => undefined,
      (e: unknown) => e,
    )) as WebSocketError;
    t.match(String((error.cause as Error).message), /certificate/);
  });
});

t.test('a server close with data still unsent is not clean (WPT remote-close, write)', async (t) => {
  // An isosocket server that closes with 4567 at the first message, or at once.
  const server = http.createServer();
  server.on('upgrade', (request, socket, head) => {
    const ws = new WebSocket(request, socket, head);
    if (request.url === '/at-once') ws.onopen = () => ws.close(4567, 'bye');
    else ws.onmessage = () => ws.close(4567, 'bye');
  });
  const port = await listen(t, server);

  t.test('a write waiting for buffer space when the close frame arrives', async (t) => {
    const wss = new WebSocketStream(`ws://127.0.0.1:${port}/`);
    const { writable, readable } = await within(wss.opened, 5000, 'opened');
    const writer = writable.getWriter();
    const goodbye = writer.write('Goodbye');
    const big = writer.write(new Uint8Array(8 * MiB));
    await goodbye;
    t.equal(await outcome(wss.closed), 'rejected WebSocketError WebSocketError 4567', 'closed rejects with the code');
    t.equal(await outcome(big), 'rejected DOMException InvalidStateError', 'the unsent write rejects');
    const error = await big.catch((e: unknown) => e);
    t.equal(await writer.write('word').catch((e: unknown) => e), error, 'the writable is errored with it');
    t.equal(await outcome(readable.getReader().read()), 'rejected WebSocketError WebSocketError 4567');
  });

  t.test('a write made after the close frame arrived', async (t) => {
    // A server that sends its close frame right after the 101 and holds the
    // TCP connection for a second, so the client is CLOSING meanwhile.
    const holding = http.createServer();
    holding.on('upgrade', (request, socket) => {
      const accept = createHash('sha1')
        .update(`${request.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64');
      const close = Buffer.from([0x88, 5, 0x11, 0xd7, 0x62, 0x79, 0x65]); // 4567 'bye'
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      socket.write(close);
      socket.resume();
      const timer = setTimeout(() => socket.end(), 1000);
      socket.on('close', () => clearTimeout(timer));
    });
    const holdingPort = await listen(t, holding);
    const wss = new WebSocketStream(`ws://127.0.0.1:${holdingPort}/`);
    const { writable } = await within(wss.opened, 5000, 'opened');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const write = writable.getWriter().write(new Uint8Array(1024));
    t.equal(await outcome(wss.closed), 'rejected WebSocketError WebSocketError 4567');
    t.equal(await outcome(write), 'rejected DOMException InvalidStateError');
  });

  t.test('writes that completed, then a server close: clean, as before', async (t) => {
    const wss = new WebSocketStream(`ws://127.0.0.1:${port}/`);
    const { writable } = await within(wss.opened, 5000, 'opened');
    await writable.getWriter().write(new Uint8Array(8 * MiB));
    t.equal(await outcome(wss.closed), 'resolved {"closeCode":4567,"reason":"bye"}');
  });

  t.test('a client close() with a large write pending stays clean', async (t) => {
    const echo = http.createServer();
    echo.on('upgrade', (request, socket, head) => {
      new WebSocket(request, socket, head);
    });
    const echoPort = await listen(t, echo);
    const wss = new WebSocketStream(`ws://127.0.0.1:${echoPort}/`);
    const { writable } = await within(wss.opened, 5000, 'opened');
    const big = writable.getWriter().write(new Uint8Array(8 * MiB));
    wss.close({ closeCode: 1000 });
    t.equal(await outcome(big), 'resolved undefined');
    t.equal(await outcome(wss.closed), 'resolved {"closeCode":1000,"reason":""}');
  });
});
