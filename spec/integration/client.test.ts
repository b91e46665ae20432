// WebSocket.Client against real servers over loopback: a `ws` server and an
// isosocket server for every behaviour, and hand-written servers for failures.

import net from 'node:net';
import deflate from 'permessage-deflate';
import t from 'tap';
import { type BinaryType, Client, type CloseEvent, type ErrorEvent } from '../../src/index.js';
import { nextWithin as next } from '../helpers/bounded.js';
import { freePort } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { acceptFor, PEERS, rawServer } from '../helpers/servers.js';
import { trace } from '../helpers/trace.js';

const FAILED = ['error@3', 'close:1006@3'];

t.test('WebSocket.Client', async (t) => {
  for (const makePeer of PEERS) {
    t.test(`against a ${makePeer === PEERS[0] ? 'ws' : 'isosocket'} server`, async (t) => {
      t.test('echoes text, with origin set to the URL origin', async (t) => {
        const peer = await makePeer(t);
        const ws = new Client(peer.url);
        t.teardown(() => ws.close());
        await next(ws, 'open');
        ws.send('hello ☃');
        const event = await next<MessageEvent>(ws, 'message');
        t.equal(event.data, 'hello ☃');
        t.equal(event.origin, `ws://127.0.0.1:${peer.port}`);
        t.equal(ws.url, peer.url);
      });

      t.test('delivers binary as Blob by default', async (t) => {
        const peer = await makePeer(t);
        const ws = new Client(peer.url);
        t.teardown(() => ws.close());
        t.equal(ws.binaryType, 'blob');
        await next(ws, 'open');
        ws.send(Uint8Array.of(1, 2, 3));
        const event = await next<MessageEvent>(ws, 'message');
        t.ok(event.data instanceof Blob);
        t.same([...new Uint8Array(await (event.data as Blob).arrayBuffer())], [1, 2, 3]);
      });

      t.test('delivers binary as ArrayBuffer and as Buffer when asked', async (t) => {
        const peer = await makePeer(t);
        const ws = new Client<BinaryType>(peer.url, [], { binaryType: 'arraybuffer' });
        t.teardown(() => ws.close());
        await next(ws, 'open');
        ws.send(new Blob([Uint8Array.of(4, 5)]));
        const first = await next<MessageEvent>(ws, 'message');
        t.ok(first.data instanceof ArrayBuffer);
        t.same([...new Uint8Array(first.data)], [4, 5]);
        ws.binaryType = 'nodebuffer';
        ws.send(Uint8Array.of(6).buffer);
        const second = await next<MessageEvent>(ws, 'message');
        t.ok(Buffer.isBuffer(second.data));
        t.same([...second.data], [6]);
      });

      t.test('negotiates a subprotocol', async (t) => {
        const peer = await makePeer(t, { protocols: ['b'] });
        const ws = new Client(peer.url, ['a', 'b']);
        t.teardown(() => ws.close());
        await next(ws, 'open');
        t.equal(ws.protocol, 'b');
      });

      t.test('negotiates and uses permessage-deflate', async (t) => {
        const peer = await makePeer(t, { deflate: true });
        const ws = new Client(peer.url, [], { extensions: [deflate] });
        t.teardown(() => ws.close());
        await next(ws, 'open');
        t.match(ws.extensions, /^permessage-deflate/);
        const text = 'squeeze me '.repeat(2000);
        ws.send(text);
        t.equal((await next<MessageEvent>(ws, 'message')).data, text);
      });

      t.test('ping() calls back on the pong, and the client answers pings', async (t) => {
        const peer = await makePeer(t);
        const ws = new Client(peer.url);
        t.teardown(() => ws.close());
        const connection = await peer.next();
        await next(ws, 'open');
        await new Promise<void>((resolve) => t.ok(ws.ping('x', resolve)));
        await connection.ping();
        t.pass('both pongs arrived');
      });

      t.test('a client close is clean, and the server sees its code', async (t) => {
        const peer = await makePeer(t);
        const ws = new Client(peer.url);
        const events = trace(ws);
        const connection = await peer.next();
        await next(ws, 'open');
        ws.close(4001, 'leaving');
        t.equal(ws.readyState, ws.CLOSING);
        const event = await next<CloseEvent>(ws, 'close');
        t.same([event.code, event.reason, event.wasClean], [4001, 'leaving', true]);
        t.equal(await connection.closed, 4001);
        t.same(events, ['open@1', 'close:4001@3']);
      });

      t.test('a server close gives its code and reason, cleanly', async (t) => {
        const peer = await makePeer(t);
        const ws = new Client(peer.url);
        const events = trace(ws);
        const connection = await peer.next();
        await next(ws, 'open');
        connection.close(4002, 'server says bye');
        const event = await next<CloseEvent>(ws, 'close');
        t.same([event.code, event.reason, event.wasClean], [4002, 'server says bye', true]);
        t.same(events, ['open@1', 'close:4002@3']);
      });

      t.test('an abrupt server reset after open gives close 1006 and no error (as Chromium)', async (t) => {
        const peer = await makePeer(t);
        const ws = new Client(peer.url);
        const events = trace(ws);
        const connection = await peer.next();
        await next(ws, 'open');
        connection.terminate();
        const event = await next<CloseEvent>(ws, 'close');
        t.same([event.code, event.wasClean], [1006, false]);
        t.same(events, ['open@1', 'close:1006@3']);
      });

      t.test('a message over maxLength fails the connection and sends 1009', async (t) => {
        const peer = await makePeer(t, { echo: false });
        const ws = new Client(peer.url, [], { maxLength: 100 });
        const events = trace(ws);
        const connection = await peer.next();
        await next(ws, 'open');
        connection.send('x'.repeat(101));
        await next(ws, 'close');
        t.equal(await connection.closed, 1009);
        t.same(events, ['open@1', ...FAILED]);
      });
    });
  }

  t.test('the constructor', async (t) => {
    t.test('maps http: and https: to ws: and wss:', async (t) => {
      const port = await freePort();
      const a = new Client(`http://127.0.0.1:${port}/a?b`);
      const b = new Client('https://127.0.0.1:1/');
      a.onerror = b.onerror = () => {};
      t.equal(a.url, `ws://127.0.0.1:${port}/a?b`);
      t.equal(b.url, 'wss://127.0.0.1:1/');
      await Promise.all([next(a, 'close'), next(b, 'close')]);
    });

    t.test('throws SyntaxError for another scheme, a fragment or an unparsable URL', async (t) => {
      for (const url of [
        'ftp://example.com/',
        'ws://example.com/#frag',
        'ws://example.com/#',
        'not a url',
        '/relative',
      ]) {
        t.throws(() => new Client(url), { name: 'SyntaxError' }, url);
      }
    });

    t.test('throws SyntaxError for duplicate or invalid protocols', async (t) => {
      t.throws(() => new Client('ws://127.0.0.1:1/', ['a', 'a']), { name: 'SyntaxError' });
      t.throws(() => new Client('ws://127.0.0.1:1/', 'with space'), { name: 'SyntaxError' });
      t.throws(() => new Client('ws://127.0.0.1:1/', ['']), { name: 'SyntaxError' });
      t.throws(() => new Client('ws://127.0.0.1:1/', ['a,b']), { name: 'SyntaxError' });
    });

    t.test('throws TypeError for an unknown option or a bad proxy', async (t) => {
      t.throws(() => new Client('ws://127.0.0.1:1/', [], { pingInterval: 1 } as never), TypeError);
      t.throws(() => new Client('ws://127.0.0.1:1/', [], { proxy: { origin: 'socks4://x' } }), TypeError);
      t.throws(() => new Client('ws://127.0.0.1:1/', [], { headers: { A: 'b\nc' } }), TypeError);
    });
  });

  t.test('while CONNECTING', async (t) => {
    t.test('send() throws InvalidStateError', async (t) => {
      const port = await freePort();
      const ws = new Client(`ws://127.0.0.1:${port}/`);
      ws.onerror = () => {};
      t.throws(() => ws.send('too early'), { name: 'InvalidStateError' });
      await next(ws, 'close');
    });

    t.test('close() fails the connection: CLOSING at once, then error and close 1006', async (t) => {
      const server = await rawServer(t, () => undefined);
      const ws = new Client(server.url);
      const events = trace(ws);
      ws.close();
      t.equal(ws.readyState, ws.CLOSING);
      const event = await next<CloseEvent>(ws, 'close');
      t.equal(event.wasClean, false);
      t.same(events, FAILED);
    });

    t.test('close() after the TCP connection, before the handshake answer, also fails it', async (t) => {
      let requested: () => void = () => {};
      const gotRequest = new Promise<void>((resolve) => (requested = resolve));
      const server = await rawServer(t, () => {
        requested();
        return undefined;
      });
      const ws = new Client(server.url);
      const events = trace(ws);
      await gotRequest;
      ws.close(1000);
      await next(ws, 'close');
      t.same(events, FAILED);
    });
  });

  t.test('after close', async (t) => {
    t.test('send() raises bufferedAmount by the data size and sends nothing', async (t) => {
      const peer = await PEERS[0](t);
      const ws = new Client(peer.url);
      await next(ws, 'open');
      ws.close();
      ws.send('four');
      ws.send(new Uint8Array(6));
      t.equal(ws.bufferedAmount, 10);
      await next(ws, 'close');
      t.equal(ws.readyState, ws.CLOSED);
    });
  });

  t.test('a failed connection dispatches error then close 1006, with no open', async (t) => {
    t.test('connection refused', async (t) => {
      const ws = new Client(`ws://127.0.0.1:${await freePort()}/`);
      const events = trace(ws);
      const error = next<ErrorEvent>(ws, 'error');
      await next(ws, 'close');
      t.same(events, FAILED);
      t.match((await error).message, /ECONNREFUSED/);
    });

    t.test('a name that does not resolve', async (t) => {
      const ws = new Client('ws://nonexistent.invalid/');
      const events = trace(ws);
      const error = next<ErrorEvent>(ws, 'error');
      await next(ws, 'close');
      t.same(events, FAILED);
      t.match((await error).message, /nonexistent\.invalid/);
    });

    t.test('a non-101 response, with statusCode and headers exposed', async (t) => {
      const server = await rawServer(
        t,
        () => 'HTTP/1.1 403 Forbidden\r\nX-Reason: no entry\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
      );
      const ws = new Client(server.url);
      const events = trace(ws);
      const error = next<ErrorEvent>(ws, 'error');
      await next(ws, 'close');
      t.same(events, FAILED);
      t.equal(ws.statusCode, 403);
      t.equal(ws.headers?.['x-reason'], 'no entry');
      t.match((await error).message, /403/);
    });

    t.test('a wrong Sec-WebSocket-Accept', async (t) => {
      const server = await rawServer(
        t,
        () =>
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n',
      );
      const ws = new Client(server.url);
      const events = trace(ws);
      const error = next<ErrorEvent>(ws, 'error');
      await next(ws, 'close');
      t.same(events, FAILED);
      t.match((await error).message, /Sec-WebSocket-Accept/);
      t.equal(ws.statusCode, 101);
    });

    t.test('a subprotocol the client did not offer', async (t) => {
      const server = await rawServer(
        t,
        (_head, key) =>
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\nSec-WebSocket-Protocol: other\r\n\r\n`,
      );
      const ws = new Client(server.url, ['mine']);
      const events = trace(ws);
      await next(ws, 'close');
      t.same(events, FAILED);
    });

    t.test('an extension the client did not offer', async (t) => {
      const server = await rawServer(
        t,
        (_head, key) =>
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
      );
      const ws = new Client(server.url, [], { perMessageDeflate: false });
      const events = trace(ws);
      await next(ws, 'close');
      t.same(events, FAILED);
    });

    t.test('the server closes the connection during the handshake', async (t) => {
      const server = await rawServer(t, (_head, _key, socket) => {
        socket.destroy();
        return undefined;
      });
      const ws = new Client(server.url);
      const events = trace(ws);
      await next(ws, 'close');
      t.same(events, FAILED);
    });
  });

  t.test('the close timeout drops a server that never answers the close frame', async (t) => {
    const server = await rawServer(
      t,
      (_head, key) =>
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
    );
    const ws = new Client(server.url, [], { closeTimeout: 100 });
    const events = trace(ws);
    await next(ws, 'open');
    ws.close(1000);
    const event = await next<CloseEvent>(ws, 'close');
    t.same([event.code, event.wasClean], [1006, false]);
    t.same(events, ['open@1', 'close:1006@3'], 'the app asked to close: no error event');
  });

  t.test('after both close frames crossed, the server closes the transport (RFC 6455 §7.1.1)', async (t) => {
    const OPEN = (key: string): string =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`;
    /** Answers the client's close frame with close 1000 (unmasked), then calls `after`. */
    const answerClose = (socket: net.Socket, after: () => void): void => {
      socket.on('data', (chunk: Buffer) => {
        if (((chunk[0] as number) & 0x0f) !== 8) return;
        socket.write(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
        after();
      });
    };

    t.test('close fires once the server closed TCP, not at its close frame (WPT Close-delayed)', async (t) => {
      let serverClosed = false;
      let finFromClient = false;
      // A Node server (allowHalfOpen false): a FIN from the client would close it at once.
      const server = await rawServer(t, (_head, key, socket) => {
        socket.on('end', () => {
          if (!serverClosed) finFromClient = true;
        });
        answerClose(socket, () =>
          setTimeout(() => {
            serverClosed = true;
            socket.end();
          }, 1000),
        );
        return OPEN(key);
      });
      const ws = new Client(server.url);
      await next(ws, 'open');
      ws.close(1000);
      const event = await next<CloseEvent>(ws, 'close');
      t.ok(serverClosed, 'the server had closed TCP when close fired');
      t.notOk(finFromClient, 'the client left closing TCP to the server');
      t.same([event.code, event.wasClean], [1000, true], 'a clean close with the code');
    });

    t.test('a server that never closes TCP is dropped after a wait (as Chromium), still a clean close', async (t) => {
      let dropped = false;
      const sockets: net.Socket[] = [];
      const server = net.createServer({ allowHalfOpen: true }, (socket) => {
        sockets.push(socket);
        socket.on('error', () => {});
        // Half-open allowed: the client's FIN, when it comes, is all this
        // server sees; it never closes its side.
        socket.on('end', () => {
          dropped = true;
        });
        socket.once('data', (head: Buffer) => {
          const key = /\r\nSec-WebSocket-Key: *([^\r]*)/i.exec(head.toString('latin1'))?.[1] ?? '';
          socket.write(OPEN(key));
          answerClose(socket, () => {});
        });
      });
      t.teardown(() => {
        for (const socket of sockets) socket.destroy();
        server.close();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      // The default closeTimeout (30 s) is not what ends it.
      const ws = new Client(`ws://127.0.0.1:${port}/`);
      await next(ws, 'open');
      ws.close(1000);
      const event = await next<CloseEvent>(ws, 'close', 8000);
      t.same([event.code, event.wasClean], [1000, true], 'a clean close with the code');
      await until(() => dropped);
      t.pass('the client dropped the connection');
    });
  });

  t.test('handshakeTimeout fails a server that accepts TCP and never answers: error, then close 1006', async (t) => {
    const server = await rawServer(t, () => undefined);
    const started = Date.now();
    const ws = new Client(server.url, [], { handshakeTimeout: 150 });
    const events = trace(ws);
    const error = next<ErrorEvent>(ws, 'error');
    await next(ws, 'close');
    t.same(events, FAILED);
    t.match((await error).message, /handshakeTimeout/);
    t.ok(Date.now() - started >= 140, 'not before the timeout');
  });

  t.test('handshakeTimeout does not cut a connection that opened in time', async (t) => {
    const peer = await PEERS[0](t);
    const ws = new Client(peer.url, [], { handshakeTimeout: 100 });
    await next(ws, 'open');
    await new Promise((resolve) => setTimeout(resolve, 250));
    t.equal(ws.readyState, Client.OPEN, 'still open after 2.5 timeouts');
    ws.close();
    await next(ws, 'close');
  });

  t.test('an aborted signal fails a connection in progress, and closes an open one cleanly', async (t) => {
    const silent = await rawServer(t, () => undefined);
    const controller = new AbortController();
    const connecting = new Client(silent.url, [], { signal: controller.signal });
    const events = trace(connecting);
    setTimeout(() => controller.abort(new Error('the user went away')), 50);
    const error = next<ErrorEvent>(connecting, 'error');
    await next(connecting, 'close');
    t.same(events, FAILED);
    t.match((await error).message, /the user went away/);

    const peer = await PEERS[1](t);
    const open = new AbortController();
    const ws = new Client(peer.url, [], { signal: open.signal });
    const openEvents = trace(ws);
    await next(ws, 'open');
    open.abort();
    const close = await next<CloseEvent>(ws, 'close');
    t.same(openEvents, ['open@1', 'close:1005@3']);
    t.equal(close.wasClean, true, 'a clean closing handshake, as close() gives');

    const before = new AbortController();
    before.abort();
    const never = new Client(peer.url, [], { signal: before.signal });
    const neverEvents = trace(never);
    await next(never, 'close');
    t.same(neverEvents, FAILED, 'an already aborted signal never opens');
  });

  t.test('the origin option is sent as Origin', async (t) => {
    let head = '';
    const server = await rawServer(t, (request, key) => {
      head = request;
      return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`;
    });
    const ws = new Client(server.url, [], { origin: 'https://app.example' });
    await next(ws, 'open');
    t.match(head, /\r\nOrigin: https:\/\/app\.example\r\n/);
    ws.close();
    t.throws(() => new Client(server.url, [], { origin: 'https://app.example/path' }), TypeError);
  });

  t.test('sends custom headers on the handshake request', async (t) => {
    let head = '';
    const server = await rawServer(t, (request) => {
      head = request;
      return undefined;
    });
    const ws = new Client(server.url, [], { headers: { 'X-Token': 'abc' } });
    ws.onerror = () => {};
    await until(() => head.includes('\r\n\r\n'));
    ws.close();
    t.match(head, /\r\nX-Token: abc\r\n/);
    t.match(head, /^GET \/ HTTP\/1\.1\r\n/);
  });
});
