// The server-side WebSocket against a real `ws` client (and a raw TCP client
// where `ws` would be too polite), over loopback.

import { once } from 'node:events';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import deflate from 'permessage-deflate';
import t from 'tap';
import WS from 'ws';
import { Client, CloseEvent, ErrorEvent, type PongEvent, WebSocket } from '../../src/index.js';
import { nextWithin as nextEvent, within } from '../helpers/bounded.js';
import { listen } from '../helpers/listen.js';
import { isOpen, opened, startServer, until, wsClient } from '../helpers/peers.js';
import { rawClient } from '../helpers/raw.js';
import { recordEvents } from '../helpers/trace.js';

t.test('WebSocket (server)', async (t) => {
  t.test('when open', async (t) => {
    t.test('echoes text messages', async (t) => {
      const server = await startServer(t, { setup: (ws) => ws.on('message', (e) => ws.send(e.data)) });
      const client = wsClient(t, server.url);
      await opened(client);
      client.send('hello ☃');
      const [data, isBinary] = await once(client, 'message');
      t.equal(String(data), 'hello ☃');
      t.equal(isBinary, false);
    });

    t.test('delivers binary messages as Buffer by default', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await opened(client);
      t.equal(ws.binaryType, 'nodebuffer');
      client.send(Buffer.from([1, 2, 3]));
      const event = await nextEvent<MessageEvent>(ws, 'message');
      t.ok(Buffer.isBuffer(event.data));
      t.same([...event.data], [1, 2, 3]);
    });

    t.test('delivers binary messages as ArrayBuffer when binaryType is arraybuffer', async (t) => {
      const server = await startServer(t, { options: { binaryType: 'arraybuffer' } });
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await opened(client);
      client.send(Buffer.from([4, 5]));
      const event = await nextEvent<MessageEvent>(ws, 'message');
      t.ok(event.data instanceof ArrayBuffer);
      t.same([...new Uint8Array(event.data)], [4, 5]);
    });

    t.test('delivers binary messages as Blob when binaryType is set to blob', async (t) => {
      const server = await startServer(t, { setup: (ws) => (ws.binaryType = 'blob') });
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await opened(client);
      client.send(Buffer.from([6, 7, 8]));
      const event = await nextEvent<MessageEvent>(ws, 'message');
      t.ok(event.data instanceof Blob);
      t.same([...new Uint8Array(await (event.data as Blob).arrayBuffer())], [6, 7, 8]);
    });

    t.test('ignores an unknown binaryType, as browsers do', async (t) => {
      const server = await startServer(t);
      wsClient(t, server.url);
      const ws = await server.next();
      ws.binaryType = 'bogus' as 'blob';
      t.equal(ws.binaryType, 'nodebuffer');
    });

    t.test('sends string, Buffer, ArrayBuffer, typed array views, DataView and Blob in order', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await opened(client);
      const got: Array<[string, boolean]> = [];
      client.on('message', (data, isBinary) =>
        got.push([isBinary ? [...(data as Buffer)].join(',') : String(data), isBinary]),
      );
      const bytes = new Uint8Array([9, 1, 2, 3, 9]);
      ws.send('a');
      ws.send(new Blob([Uint8Array.of(1, 1)]));
      ws.send(Buffer.from([2]));
      ws.send(Uint8Array.of(3).buffer);
      ws.send(bytes.subarray(1, 4));
      ws.send(new DataView(bytes.buffer, 4, 1));
      ws.send(new Blob(['b']));
      ws.send('c');
      await until(() => got.length === 8);
      t.same(got, [
        ['a', false],
        ['1,1', true],
        ['2', true],
        ['3', true],
        ['1,2,3', true],
        ['9', true],
        ['98', true],
        ['c', false],
      ]);
    });

    t.test('sends and receives empty messages', async (t) => {
      const server = await startServer(t, { setup: (ws) => ws.on('message', (e) => ws.send(e.data)) });
      const client = wsClient(t, server.url);
      await opened(client);
      client.send('');
      const [text] = await once(client, 'message');
      t.equal(String(text), '');
      client.send(Buffer.alloc(0));
      const [binary, isBinary] = await once(client, 'message');
      t.equal((binary as Buffer).length, 0);
      t.equal(isBinary, true);
    });

    t.test('echoes a 16 MiB message intact', async (t) => {
      const server = await startServer(t, { setup: (ws) => ws.on('message', (e) => ws.send(e.data)) });
      const client = wsClient(t, server.url);
      await opened(client);
      const big = Buffer.alloc(16 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
      client.send(big);
      const [data] = await once(client, 'message');
      t.equal((data as Buffer).length, big.length);
      t.ok((data as Buffer).equals(big));
    });

    t.test('reassembles fragmented messages', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await opened(client);
      client.send('frag', { fin: false });
      client.send('men', { fin: false });
      client.send('ted', { fin: true });
      const event = await nextEvent<MessageEvent>(ws, 'message');
      t.equal(event.data, 'fragmented');
    });

    t.test('negotiates the first subprotocol the client offers that the server supports', async (t) => {
      const server = await startServer(t, { protocols: ['chat', 'superchat'] });
      const client = wsClient(t, server.url, ['superchat', 'chat']);
      const ws = await server.next();
      await Promise.all([opened(client), isOpen(ws)]);
      t.equal(ws.protocol, 'superchat');
      t.equal(client.protocol, 'superchat');
    });

    t.test('leaves protocol empty when no subprotocol matches', async (t) => {
      const server = await startServer(t, { protocols: ['chat'] });
      const client = wsClient(t, server.url, ['other']);
      const ws = await server.next();
      await isOpen(ws);
      t.equal(ws.protocol, '');
      await once(client, 'error').catch(() => {});
    });

    t.test('negotiates and uses permessage-deflate', async (t) => {
      const server = await startServer(t, {
        options: { extensions: [deflate] },
        setup: (ws) => ws.on('message', (e) => ws.send(e.data)),
      });
      const client = wsClient(t, server.url, [], { perMessageDeflate: true });
      const ws = await server.next();
      await Promise.all([opened(client), isOpen(ws)]);
      t.match(ws.extensions, /^permessage-deflate/);
      t.match(client.extensions, /permessage-deflate/);
      const text = 'compressible '.repeat(1000);
      client.send(text);
      const [data] = await once(client, 'message');
      t.equal(String(data), text);
    });

    t.test('sends custom headers on the handshake response', async (t) => {
      const server = await startServer(t, { options: { headers: { 'X-Served-By': 'isosocket', 'X-Count': 3 } } });
      const client = wsClient(t, server.url);
      const [response] = await once(client, 'upgrade');
      t.equal(response.headers['x-served-by'], 'isosocket');
      t.equal(response.headers['x-count'], '3');
    });

    t.test('exposes url, version, readyState and the constants on class and instance', async (t) => {
      const server = await startServer(t);
      wsClient(t, `${server.url}/chat?room=1`);
      const ws = await server.next();
      t.equal(ws.url, `${server.url}/chat?room=1`);
      t.equal(ws.version, 'hybi-13');
      t.equal(ws.readyState, WebSocket.CONNECTING);
      await isOpen(ws);
      t.equal(ws.readyState, ws.OPEN);
      t.same(
        [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
        [ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED],
      );
      t.same([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
    });

    t.test('uses wss: in url for X-Forwarded-Proto: https only with trustProxy', async (t) => {
      const trusting = await startServer(t, { options: { trustProxy: true } });
      wsClient(t, trusting.url, [], { headers: { 'X-Forwarded-Proto': 'https' } });
      t.match((await trusting.next()).url, /^wss:\/\//);
      // By default the socket decides: a client cannot make itself look secure.
      const plain = await startServer(t);
      wsClient(t, plain.url, [], { headers: { 'X-Forwarded-Proto': 'https' } });
      t.match((await plain.next()).url, /^ws:\/\//);
      t.throws(
        () => new WebSocket({ headers: {} } as never, new PassThrough(), undefined, [], { trustProxy: 'yes' as never }),
        TypeError,
      );
    });
  });

  t.test('ws conveniences', async (t) => {
    t.test('terminate() drops the connection at once: close 1006 here and at the peer, no error', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const events = recordEvents(ws);
      await isOpen(ws);
      ws.terminate();
      const [[code]] = await Promise.all([once(client, 'close'), nextEvent(ws, 'close')]);
      t.equal(code, 1006, 'the peer saw no close frame');
      t.same(events, ['open@1', 'close:1006@3']);
    });

    t.test('handleProtocols chooses the subprotocol from those offered', async (t) => {
      const offered: string[][] = [];
      const server = await startServer(t, {
        protocols: ['ignored'],
        options: {
          handleProtocols: (list) => {
            offered.push(list);
            return list.at(-1) ?? false;
          },
        },
      });
      const client = wsClient(t, server.url, ['v1', 'v2', 'v3']);
      const ws = await server.next();
      await opened(client);
      t.same(offered, [['v1', 'v2', 'v3']]);
      t.equal(ws.protocol, 'v3');
      t.equal(client.protocol, 'v3');
    });

    t.test('WebSocket.refuse() answers an upgrade with a status, headers and a body, then closes', async (t) => {
      const server = http.createServer();
      server.on('upgrade', (_request, socket) => {
        WebSocket.refuse(socket, 401, { headers: { 'WWW-Authenticate': 'Bearer' }, body: 'log in first' });
      });
      const port = await listen(t, server);
      const client = new WS(`ws://127.0.0.1:${port}/`);
      client.on('error', () => {});
      const [, response] = (await once(client, 'unexpected-response')) as [unknown, http.IncomingMessage];
      t.equal(response.statusCode, 401);
      t.equal(response.headers['www-authenticate'], 'Bearer');
      let body = '';
      for await (const chunk of response) body += chunk;
      t.equal(body, 'log in first');
      t.throws(() => WebSocket.refuse(new PassThrough(), 200), TypeError);
      t.throws(() => WebSocket.refuse(new PassThrough(), 403, { headers: { X: 'a\r\nb: c' } }), TypeError);
    });

    t.test('a mistaken argument order says what goes where', async (t) => {
      t.throws(() => new WebSocket('ws://example.com' as never, undefined as never), {
        name: 'TypeError',
        message: /WebSocket\.Client/,
      });
      t.throws(() => new WebSocket({ headers: {} } as never, new PassThrough(), undefined, { ping: 30 } as never), {
        name: 'TypeError',
        message: /options go in the fifth/,
      });
      t.throws(() => new WebSocket.Client('ws://example.com', { headers: {} } as never), {
        name: 'TypeError',
        message: /protocols must be a string or an array/,
      });
    });
  });

  t.test('ws habits kept on the server socket', async (t) => {
    t.test("'pong' is an event whose data is the pong's payload, for on() and addEventListener", async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      await opened(client);
      const seen: string[] = [];
      ws.on('pong', (event: Event) => {
        t.type(event, Event);
        seen.push(`on:${String((event as PongEvent).data)}`);
      });
      ws.addEventListener('pong', (event) => seen.push(`listener:${String((event as PongEvent).data)}`));
      client.pong('unsolicited');
      await until(() => seen.length === 2);
      await within(new Promise<void>((resolve) => ws.ping('answer', resolve)), 5000, 'the pong');
      t.same(seen, ['on:unsolicited', 'listener:unsolicited', 'on:answer', 'listener:answer']);
      t.ok(Buffer.isBuffer((await nextEventAfter(ws, () => client.pong('b'))).data), 'data is a Buffer');
    });

    t.test("WebSocket.Client, like a browser's, dispatches no 'pong'", async (t) => {
      const server = await startServer(t);
      const client = new Client(server.url);
      t.teardown(() => client.close());
      await nextEvent(client, 'open');
      let pongs = 0;
      client.addEventListener('pong', () => pongs++);
      await within(new Promise<void>((resolve) => client.ping('x', resolve)), 5000, 'the pong');
      t.equal(pongs, 0);
    });

    t.test('send(data, callback) calls back once each message was handed to the OS, in order', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      await opened(client);
      const called: unknown[] = [];
      const received: string[] = [];
      client.on('message', (data: Buffer) => received.push(String(data)));
      t.equal(
        ws.send('one', (error) => called.push(['one', error])),
        true,
      );
      ws.send(Buffer.from('two'), (error) => called.push(['two', error]));
      ws.send(new Blob(['three']), (error) => called.push(['three', error]));
      await until(() => called.length === 3 && received.length === 3);
      t.same(called, [
        ['one', undefined],
        ['two', undefined],
        ['three', undefined],
      ]);
      t.same(received, ['one', 'two', 'three']);
    });

    t.test('send(data, callback) while CONNECTING calls back after open', async (t) => {
      const server = await startServer(t, {
        setup: (ws) => {
          ws.send('early', (error) => {
            t.equal(error, undefined);
            t.equal(ws.readyState, WebSocket.OPEN);
            called = true;
          });
        },
      });
      let called = false;
      const client = wsClient(t, server.url);
      const [data] = await within(once(client, 'message'), 5000, 'the early message');
      t.equal(String(data), 'early');
      await until(() => called);
    });

    t.test("send(data, callback) after close() calls back with ws's error", async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      await opened(client);
      ws.close();
      const error = await new Promise<Error | undefined>((resolve) => t.equal(ws.send('late', resolve), false));
      t.match(error, { message: 'WebSocket is not open: readyState 2 (CLOSING)' });
    });

    t.test('a message never handed to the OS calls back with an error when the connection drops', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      await opened(client);
      // The client stops reading: 32 MiB cannot all leave.
      (client as unknown as { _socket: import('node:net').Socket })._socket.pause();
      const error = new Promise<Error | undefined>((resolve) => ws.send(Buffer.alloc(32 * 1024 * 1024), resolve));
      ws.terminate();
      t.match(await within(error, 5000, 'the callback'), { message: /closed before the message was sent/ });
    });

    t.test("ws's options object as send()'s second argument is a TypeError that says so", async (t) => {
      const server = await startServer(t);
      wsClient(t, server.url);
      const ws = await server.next();
      t.throws(() => ws.send('x', { binary: true } as never), {
        name: 'TypeError',
        message: /second argument must be a function; ws's options/,
      });
    });
  });

  t.test('ping and pong', async (t) => {
    t.test('ping() calls back when the matching pong arrives', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      await opened(client);
      const pings: string[] = [];
      client.on('ping', (data: Buffer) => pings.push(String(data)));
      const ponged = new Promise<string[]>((resolve) => {
        // The callback runs once the pong is back: the client saw the ping by then.
        t.equal(
          ws.ping('probe', () => resolve([...pings])),
          true,
          'ping() returns true while open',
        );
      });
      t.same(await within(ponged, 5000, "ping()'s callback"), ['probe'], 'called back after the pong to that ping');
    });

    t.test('answers the client ping with a pong carrying the same data', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      await opened(client);
      client.ping('are you there');
      const [data] = await once(client, 'pong');
      t.equal(String(data), 'are you there');
    });

    t.test('ping() before open is queued (faye), and returns false after close', async (t) => {
      const server = await startServer(t);
      wsClient(t, server.url);
      const ws = await server.next();
      const ponged = new Promise<void>((resolve) => t.equal(ws.ping('early', resolve), true));
      await isOpen(ws);
      await within(ponged, 5000, 'the pong to the queued ping');
      ws.close();
      t.equal(ws.ping(), false);
    });

    t.test('the ping option keeps a responsive peer open across intervals', async (t) => {
      // 200 ms: a pong late by a scheduling hiccup on a loaded machine (tens of
      // ms) is still in time; 50 ms failed 2 runs in 40 under CPU throttling.
      const server = await startServer(t, { options: { ping: 0.2 } });
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const closes: number[] = [];
      ws.addEventListener('close', (event) => closes.push(event.code));
      let pings = 0;
      client.on('ping', () => pings++);
      await within(isOpen(ws), 5000, 'open');
      await within(
        until(() => pings >= 3, 4000),
        5000,
        '3 pings',
      );
      t.same(closes, [], 'no close across 3 intervals');
      t.equal(ws.readyState, WebSocket.OPEN);
      client.close();
      await within(nextEvent(ws, 'close'), 5000, 'the close');
    });

    t.test('the ping option closes a peer that never answers (1006 here, 1001 sent)', async (t) => {
      const events: string[] = [];
      const server = await startServer(t, { options: { ping: 0.05 }, setup: (ws) => recordEvents(ws, events) });
      const raw = await rawClient(t, server.port);
      const ws = await server.next();
      const error = nextEvent<ErrorEvent>(ws, 'error');
      const close = await within(nextEvent<CloseEvent>(ws, 'close'), 5000, 'the close');
      t.equal(close.code, 1006);
      t.equal(close.wasClean, false);
      t.match((await error).message, /No pong received/);
      t.same(events, ['open@1', 'error@3', 'close:1006@3']);
      await until(() => raw.socket.destroyed || raw.socket.readableEnded);
      const bytes = raw.received();
      const closeAt = bytes.indexOf(Buffer.from([0x88]));
      t.ok(closeAt >= 0, 'a close frame was sent');
      t.equal(bytes.readUInt16BE(closeAt + 2), 1001);
    });
  });

  t.test('closing', async (t) => {
    t.test('a client close gives a clean close event with its code and reason', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const events = recordEvents(ws);
      await opened(client);
      client.close(4000, 'bye');
      const event = await nextEvent<CloseEvent>(ws, 'close');
      t.ok(event instanceof CloseEvent);
      t.ok(event instanceof Event);
      t.same([event.code, event.reason, event.wasClean], [4000, 'bye', true]);
      t.same(events, ['open@1', 'close:4000@3']);
      const [code, reason] = await once(client, 'close');
      t.same([code, String(reason)], [4000, 'bye']);
    });

    t.test('a server close sends its code and reason and closes cleanly', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      ws.close(3001, 'done here');
      t.equal(ws.readyState, WebSocket.CLOSING);
      const [[code, reason], event] = await Promise.all([once(client, 'close'), nextEvent<CloseEvent>(ws, 'close')]);
      t.same([code, String(reason)], [3001, 'done here']);
      t.same([event.code, event.reason, event.wasClean], [3001, 'done here', true]);
      t.equal(ws.readyState, WebSocket.CLOSED);
    });

    t.test('close() with no arguments sends 1000', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      ws.close();
      const [code] = await once(client, 'close');
      t.equal(code, 1000);
    });

    t.test('close() refuses the codes no endpoint may send, and an over-long reason', async (t) => {
      const server = await startServer(t);
      wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
        t.throws(() => ws.close(code), { name: 'InvalidAccessError' }, String(code));
      }
      t.throws(() => ws.close(1000, 'x'.repeat(124)), { name: 'SyntaxError' });
      t.equal(ws.readyState, WebSocket.OPEN, 'a bad call changes nothing');
    });

    for (const code of [1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) {
      t.test(`close(${code}) is allowed on the server socket, as RFC 6455 §7.4 lets an endpoint send it`, async (t) => {
        const server = await startServer(t);
        const client = wsClient(t, server.url);
        const ws = await server.next();
        await isOpen(ws);
        ws.close(code, 'going');
        const [received, reason] = await once(client, 'close');
        t.same([received, String(reason)], [code, 'going']);
      });
    }

    t.test('close() while CONNECTING completes the handshake then closes at once, without open', async (t) => {
      const server = await startServer(t, { setup: (ws) => ws.close(4001, 'not now') });
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const events = recordEvents(ws);
      const [code, reason] = await once(client, 'close');
      t.same([code, String(reason)], [4001, 'not now']);
      await until(() => ws.readyState === WebSocket.CLOSED);
      t.same(events, ['close:4001@3']);
    });

    t.test('an abrupt reset after open gives close 1006, not clean, and no error (as Chromium)', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const events = recordEvents(ws);
      await isOpen(ws);
      await opened(client);
      (client as unknown as { _socket: import('node:net').Socket })._socket.resetAndDestroy();
      const event = await nextEvent<CloseEvent>(ws, 'close');
      t.same([event.code, event.reason, event.wasClean], [1006, '', false]);
      t.same(events, ['open@1', 'close:1006@3']);
    });

    t.test('the close timeout drops a peer that never completes the closing handshake', async (t) => {
      const server = await startServer(t, { options: { closeTimeout: 100 } });
      const raw = await rawClient(t, server.port);
      const ws = await server.next();
      await until(() => ws.readyState === WebSocket.OPEN);
      const started = Date.now();
      ws.close(1000, 'please answer');
      const event = await nextEvent<CloseEvent>(ws, 'close');
      t.same([event.code, event.wasClean], [1006, false]);
      t.ok(Date.now() - started >= 90, 'waited for the timeout');
      await until(() => raw.socket.destroyed || raw.socket.readableEnded);
    });

    t.test('a message over maxLength closes with 1009', async (t) => {
      const server = await startServer(t, { options: { maxLength: 1024 } });
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const events = recordEvents(ws);
      await opened(client);
      client.send(Buffer.alloc(1025));
      const [code] = await once(client, 'close');
      t.equal(code, 1009);
      await until(() => ws.readyState === WebSocket.CLOSED);
      t.same(events, ['open@1', 'error@3', 'close:1006@3']);
    });

    t.test('a fragmented message whose fragments add up past maxLength closes with 1009', async (t) => {
      const server = await startServer(t, { options: { maxLength: 1024 } });
      const client = wsClient(t, server.url);
      await opened(client);
      client.send(Buffer.alloc(600), { fin: false });
      client.send(Buffer.alloc(600), { fin: true });
      const [code] = await once(client, 'close');
      t.equal(code, 1009);
    });

    t.test('invalid UTF-8 in a text message closes with 1007', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const error = nextEvent<ErrorEvent>(ws, 'error');
      await opened(client);
      client.send(Buffer.from([0xc3, 0x28]), { binary: false });
      const [code] = await once(client, 'close');
      t.equal(code, 1007);
      t.match((await error).message, /UTF-8/);
    });

    t.test('a socket that arrives already destroyed gives error then close 1006', async (t) => {
      const server = await startServer(t, {
        setup: () => {},
      });
      server.server.removeAllListeners('upgrade');
      const created = new Promise<WebSocket>((resolve) => {
        server.server.on('upgrade', (request, socket, head) => {
          socket.destroy();
          resolve(new WebSocket(request, socket, head));
        });
      });
      wsClient(t, server.url);
      const ws = await created;
      const events = recordEvents(ws);
      await nextEvent(ws, 'close');
      t.same(events, ['error@3', 'close:1006@3']);
    });
  });

  t.test('a socket that closed long before the WebSocket was created still gives close 1006', async (t) => {
    const server = await startServer(t);
    server.server.removeAllListeners('upgrade');
    const created = new Promise<WebSocket>((resolve) => {
      server.server.on('upgrade', async (request, socket, head) => {
        socket.destroy();
        await once(socket, 'close');
        resolve(new WebSocket(request, socket, head));
      });
    });
    wsClient(t, server.url);
    const ws = await created;
    const events = recordEvents(ws);
    await nextEvent(ws, 'close');
    t.same(events, ['error@3', 'close:1006@3']);
  });

  t.test('sending', async (t) => {
    t.test('send() before open queues until the handshake completes', async (t) => {
      const server = await startServer(t, { setup: (ws) => t.equal(ws.send('early'), true) });
      const client = wsClient(t, server.url);
      const [data] = await once(client, 'message');
      t.equal(String(data), 'early');
    });

    t.test('send() after close sends nothing, returns false and counts in bufferedAmount', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      ws.close();
      t.equal(ws.send('late'), false);
      // WHATWG send() step 2: data that cannot be sent still counts.
      t.equal(ws.bufferedAmount, 4);
      let got = 0;
      client.on('message', () => got++);
      await once(client, 'close');
      t.equal(got, 0);
    });

    t.test('bufferedAmount counts unsent bytes and drains back to 0', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      await opened(client);
      ws.send('☃☃');
      t.equal(ws.bufferedAmount, 6, 'counted in UTF-8 bytes');
      ws.send(Buffer.alloc(10));
      t.equal(ws.bufferedAmount, 16);
      await t.resolves(
        within(
          until(() => ws.bufferedAmount === 0),
          5000,
          'bufferedAmount',
        ),
        'drained back to 0',
      );
    });

    t.test('send() returns false over the high-water mark, and drain follows', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      await opened(client);
      const clientSocket = (client as unknown as { _socket: import('node:net').Socket })._socket;
      clientSocket.pause();
      const chunk = Buffer.alloc(64 * 1024);
      let sent = 0;
      while (ws.send(chunk)) {
        sent++;
        if (sent > 10_000) break;
      }
      t.ok(sent < 10_000, 'send() reported backpressure');
      t.ok(ws.bufferedAmount > 0);
      const received: number[] = [];
      client.on('message', (data: Buffer) => received.push(data.length));
      const drained = new Promise<void>((resolve) => ws.once('drain', () => resolve()));
      clientSocket.resume();
      await within(drained, 5000, "'drain'");
      await within(
        until(() => received.length >= sent + 1),
        5000,
        `${sent + 1} messages`,
      );
      t.equal(received.length, sent + 1, 'every message arrived, once');
      t.ok(
        received.every((length) => length === chunk.length),
        'each whole',
      );
    });
  });

  t.test('events', async (t) => {
    t.test('are real Event objects through EventTarget with once, signal and handleEvent', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      t.ok(ws instanceof EventTarget);
      const seen: string[] = [];
      ws.addEventListener('message', () => seen.push('once'), { once: true });
      const controller = new AbortController();
      ws.addEventListener('message', () => seen.push('signal'), { signal: controller.signal });
      ws.addEventListener('message', { handleEvent: (event: MessageEvent) => seen.push(`object:${event.data}`) });
      ws.onmessage = (event) => seen.push(`onmessage:${event.data}`);
      await opened(client);
      client.send('1');
      await nextEvent(ws, 'message');
      controller.abort();
      client.send('2');
      await nextEvent(ws, 'message');
      t.same(seen, ['once', 'signal', 'object:1', 'onmessage:1', 'object:2', 'onmessage:2']);
    });

    t.test('on* attributes keep their place, and null removes them', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const seen: string[] = [];
      ws.onmessage = () => seen.push('first handler');
      ws.addEventListener('message', () => seen.push('listener'));
      ws.onmessage = () => seen.push('second handler');
      t.type(ws.onmessage, 'function');
      await opened(client);
      client.send('a');
      await nextEvent(ws, 'message');
      ws.onmessage = null;
      t.equal(ws.onmessage, null);
      client.send('b');
      await nextEvent(ws, 'message');
      t.same(seen, ['second handler', 'listener', 'listener']);
    });

    t.test("faye's on/off/once receive the W3C events", async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const seen: string[] = [];
      const counter = (event: MessageEvent): void => {
        seen.push(`on:${event.data}`);
      };
      ws.on('message', counter);
      ws.once('message', (event) => seen.push(`once:${event.data}`));
      await opened(client);
      client.send('a');
      await nextEvent(ws, 'message');
      ws.off('message', counter);
      client.send('b');
      await nextEvent(ws, 'message');
      t.same(seen, ['on:a', 'once:a']);
    });

    t.test('a message event carries origin and an empty lastEventId', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url, [], { origin: 'http://example.test' });
      const ws = await server.next();
      await opened(client);
      client.send('x');
      const event = await nextEvent<MessageEvent>(ws, 'message');
      t.ok(event instanceof MessageEvent);
      t.equal(event.origin, 'http://example.test');
      t.equal(event.lastEventId, '');
    });

    t.test('an error event carries message and error, at most once, and never after close', async (t) => {
      const server = await startServer(t, { options: { maxLength: 10 } });
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const errors: ErrorEvent[] = [];
      let closes = 0;
      ws.addEventListener('error', (e) => errors.push(e));
      ws.addEventListener('close', () => closes++);
      await opened(client);
      client.send('x'.repeat(11));
      client.send('y'.repeat(11));
      await nextEvent(ws, 'close');
      await new Promise((resolve) => setTimeout(resolve, 50));
      t.equal(errors.length, 1);
      t.equal(closes, 1);
      t.ok(errors[0] instanceof ErrorEvent);
      t.type(errors[0]?.message, 'string');
      t.ok(errors[0]?.error instanceof Error);
    });
  });

  t.test('options', async (t) => {
    t.test('an unknown key is a TypeError', async (t) => {
      const server = await startServer(t);
      server.server.removeAllListeners('upgrade');
      const thrown = new Promise<unknown>((resolve) => {
        server.server.on('upgrade', (request, socket, head) => {
          try {
            new WebSocket(request, socket, head, [], { pingg: 1 } as never);
          } catch (error) {
            resolve(error);
          }
          socket.destroy();
        });
      });
      wsClient(t, server.url);
      const error = await thrown;
      t.ok(error instanceof TypeError);
      t.match((error as Error).message, /Unrecognized option: "pingg"/);
    });

    t.test('validateOptions() throws a TypeError for unknown keys', async (t) => {
      t.throws(() => WebSocket.validateOptions({ a: 1 }, ['b']), TypeError);
      t.doesNotThrow(() => WebSocket.validateOptions({ b: 1 }, ['b']));
    });

    t.test('header values with CR or LF are refused', async (t) => {
      const server = await startServer(t);
      server.server.removeAllListeners('upgrade');
      const thrown = new Promise<unknown>((resolve) => {
        server.server.on('upgrade', (request, socket, head) => {
          try {
            new WebSocket(request, socket, head, [], { headers: { 'X-A': 'a\r\nSet-Cookie: x=1' } });
          } catch (error) {
            resolve(error);
          }
          socket.destroy();
        });
      });
      wsClient(t, server.url);
      t.match(await thrown, { name: 'TypeError', message: /CR, LF or NUL/ });
    });

    t.test('isWebSocket() tells upgrade requests from the rest', async (t) => {
      const server = await startServer(t);
      const results: boolean[] = [];
      server.server.on('request', (request) => results.push(WebSocket.isWebSocket(request)));
      server.server.prependListener('upgrade', (request) => results.push(WebSocket.isWebSocket(request)));
      await fetch(`http://127.0.0.1:${server.port}/`).then((r) => r.text());
      const client = wsClient(t, server.url);
      await opened(client);
      t.same(results, [false, true]);
    });
  });

  t.test("faye's stream interface", async (t) => {
    t.test('ws.pipe(ws) echoes', async (t) => {
      const server = await startServer(t, { setup: (ws) => ws.pipe(ws) });
      const client = wsClient(t, server.url);
      await opened(client);
      client.send('piped');
      const [data] = await once(client, 'message');
      t.equal(String(data), 'piped');
      client.send(Buffer.from([1]));
      const [binary, isBinary] = await once(client, 'message');
      t.same([[...(binary as Buffer)], isBinary], [[1], true]);
    });

    t.test("emits 'data' and 'end', and write()/end() send then close", async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      const data: unknown[] = [];
      ws.on('data', (chunk: unknown) => data.push(chunk));
      const ended = new Promise<void>((resolve) => ws.on('end', () => resolve()));
      await opened(client);
      client.send('one');
      await nextEvent(ws, 'message');
      t.equal(ws.write('two'), true);
      ws.end('three');
      const received: string[] = [];
      client.on('message', (m) => received.push(String(m)));
      const [code] = await once(client, 'close');
      await ended;
      t.same(data, ['one']);
      t.same(received, ['two', 'three']);
      t.equal(code, 1000);
    });

    t.test('pause() stops reading and resume() starts again', async (t) => {
      const server = await startServer(t);
      const client = wsClient(t, server.url);
      const ws = await server.next();
      await isOpen(ws);
      await opened(client);
      ws.pause();
      let got = 0;
      ws.on('message', () => got++);
      client.send('while paused');
      await new Promise((resolve) => setTimeout(resolve, 50));
      t.equal(got, 0);
      ws.resume();
      await t.resolves(
        within(
          until(() => got === 1),
          5000,
          'the message',
        ),
        'delivered after resume',
      );
    });
  });
});

/** The next 'pong' event of `ws` after `act()`. */
function nextEventAfter(ws: WebSocket, act: () => void): Promise<PongEvent> {
  const next = nextEvent<PongEvent>(ws, 'pong');
  act();
  return next;
}
