// shutdown(server): every server WebSocket (HTTP/1.1 and HTTP/2) gets close
// 1001 and every event stream its end, seen by real peers (ws, isosocket's
// client, the `eventsource` package, Node's HTTP/2 client); new upgrades,
// extended CONNECTs and event streams get 503 meanwhile; a peer that never
// answers the close is terminated at the timeout; and it runs beside the
// HTTP side's server.close() + closeIdleConnections().

import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { EventSource as PackageEventSource } from 'eventsource';
import t, { type Test } from 'tap';
import type WS from 'ws';
import { Client, type CloseEvent, EventSource, shutdown, WebSocket } from '../../src/index.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { http2Server, http2Session, rawConnect } from '../helpers/http2.js';
import { listen } from '../helpers/listen.js';
import { opened, until, wsClient } from '../helpers/peers.js';
import { connectRaw, handshake } from '../helpers/raw.js';
import { requirePeer } from '../helpers/require-peer.js';
import { certificates } from '../helpers/tls.js';
import { closeCodeOf } from '../helpers/wire.js';

interface Served {
  server: http.Server;
  port: number;
  origin: string;
  /** Server-side sockets and streams, as made. */
  sockets: WebSocket[];
  streams: EventSource[];
}

/** An HTTP/1.1 server whose upgrades become echoing WebSockets and whose event-stream requests become streams. */
async function serve(t: Test, server: http.Server = http.createServer()): Promise<Served> {
  const served: Served = { server, port: 0, origin: '', sockets: [], streams: [] };
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const ws = new WebSocket(request, socket, head);
    ws.onmessage = (event) => ws.send(event.data);
    served.sockets.push(ws);
  });
  server.on('request', (request, response) => {
    if (EventSource.isEventSource(request)) {
      const es = new EventSource(request, response, { ping: 0, retry: 0.02 });
      es.send('hello');
      served.streams.push(es);
    } else response.end('page');
  });
  served.port = await listen(t, server);
  served.origin = `http://127.0.0.1:${served.port}`;
  return served;
}

/** Resolves with a ws client's close code and reason. */
function wsClosed(client: WS): Promise<{ code: number; reason: string }> {
  return within(
    new Promise((resolve) => client.once('close', (code, reason) => resolve({ code, reason: String(reason) }))),
    5000,
    'the ws client to close',
  );
}

t.test('shutdown(server)', async (t) => {
  t.test('a ws client sees close 1001; shutdown resolves once the closing handshake completed', async (t) => {
    const served = await serve(t);
    const client = wsClient(t, `ws://127.0.0.1:${served.port}/`);
    await opened(client);
    const closed = wsClosed(client);
    const serverClosed = nextWithin<CloseEvent>(served.sockets[0] as WebSocket, 'close');
    const result = await within(shutdown(served.server, { timeout: 5000 }), 5000, 'shutdown');
    t.same(await closed, { code: 1001, reason: '' }, 'the client got 1001 (Going Away)');
    const event = await serverClosed;
    t.same([event.code, event.wasClean], [1001, true], 'the server socket closed cleanly, before shutdown resolved');
    t.same(result, { closed: 1, terminated: 0 });
  });

  t.test("isosocket's client sees close 1001, wasClean", async (t) => {
    const served = await serve(t);
    const ws = new Client(`ws://127.0.0.1:${served.port}/`);
    t.teardown(() => ws.terminate());
    await nextWithin(ws, 'open');
    const closed = nextWithin<CloseEvent>(ws, 'close');
    t.same(await shutdown(served.server), { closed: 1, terminated: 0 });
    const event = await closed;
    t.same([event.code, event.wasClean], [1001, true]);
  });

  t.test('the eventsource package sees its stream end; its reconnection during shutdown gets 503', async (t) => {
    const served = await serve(t);
    const source = new PackageEventSource(`${served.origin}/`);
    t.teardown(() => source.close());
    const message = await within(
      new Promise<MessageEvent>((resolve) => source.addEventListener('message', resolve, { once: true })),
      5000,
      'the first event',
    );
    t.equal(message.data, 'hello');
    const errors: Array<{ readyState: number; code: number | undefined }> = [];
    source.addEventListener('error', (event) => {
      errors.push({ readyState: source.readyState, code: (event as { code?: number }).code });
    });
    t.same(await shutdown(served.server), { closed: 1, terminated: 0 });
    t.equal(served.streams[0]?.readyState, EventSource.CLOSED);
    // The end of the stream makes it reconnect (retry: 20 ms); the server,
    // shutting down, answers 503, and a 503 ends an EventSource for good.
    await until(() => source.readyState === PackageEventSource.CLOSED);
    t.same(errors, [
      { readyState: PackageEventSource.CONNECTING, code: undefined },
      { readyState: PackageEventSource.CLOSED, code: 503 },
    ]);
    t.equal(served.streams.length, 2, 'the second request made an EventSource, which answered 503');
    t.equal(served.streams[1]?.readyState, EventSource.CLOSED, 'born closed, with no events');
  });

  t.test('a new upgrade during shutdown gets 503, and its server socket fails', async (t) => {
    const served = await serve(t);
    // One peer that never answers the close keeps the shutdown going.
    const raw = await connectRaw(t, served.port);
    await until(() => raw.received().includes('\r\n\r\n'));
    const done = shutdown(served.server, { timeout: 1000 });
    const late = wsClient(t, `ws://127.0.0.1:${served.port}/`);
    const status = await within(
      new Promise<number | undefined>((resolve) =>
        late.once('unexpected-response', (_req, res) => resolve(res.statusCode)),
      ),
      5000,
      'the refused upgrade',
    );
    t.equal(status, 503);
    const refused = served.sockets[1] as WebSocket;
    const events: string[] = [];
    refused.onerror = (event) => events.push(`error:${(event as unknown as { message: string }).message}`);
    refused.onclose = (event) => events.push(`close:${event.code}`);
    await until(() => events.length === 2);
    t.same(events, ['error:The server is shutting down (503 Service Unavailable)', 'close:1006']);
    t.same(await done, { closed: 0, terminated: 1 }, 'the refused socket was never counted');
  });

  t.test('a WebSocket made just before shutdown (handshake pending) opens, then gets 1001', async (t) => {
    const server = http.createServer();
    let result: Promise<unknown> | undefined;
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      new WebSocket(request, socket, head);
      result = shutdown(server); // in the same task: its handshake has not run yet
    });
    const port = await listen(t, server);
    const client = wsClient(t, `ws://127.0.0.1:${port}/`);
    const closed = wsClosed(client);
    await opened(client);
    t.equal((await closed).code, 1001);
    t.same(await result, { closed: 1, terminated: 0 });
  });

  t.test('a peer that never answers the close is terminated at the timeout', async (t) => {
    const served = await serve(t);
    const raw = await connectRaw(t, served.port);
    await until(() => raw.received().includes('\r\n\r\n'));
    const server = served.sockets[0] as WebSocket;
    const closed = nextWithin<CloseEvent>(server, 'close');
    let settled = false;
    const done = shutdown(served.server, { timeout: 300 }).finally(() => {
      settled = true;
    });
    await until(() => closeCodeOf(raw.received()) !== undefined);
    t.equal(closeCodeOf(raw.received()), 1001, 'the raw peer was sent 1001');
    t.equal(server.readyState, WebSocket.CLOSING, 'and is waited for');
    t.notOk(settled, 'shutdown waits for it');
    t.same(await within(done, 5000, 'shutdown'), { closed: 0, terminated: 1 });
    await within(raw.closed, 5000, 'the TCP connection to drop');
    const event = await closed;
    t.same([event.code, event.wasClean], [1006, false], 'terminated: no closing handshake');
  });

  t.test(
    'HTTP/2: an open WebSocket and event stream close, their session gets GOAWAY, a new extended CONNECT 503',
    async (t) => {
      const server = http2.createServer({ settings: { enableConnectProtocol: true } });
      const sessions = new Set<http2.ServerHttp2Session>();
      server.on('session', (session) => {
        sessions.add(session);
        session.on('error', () => {});
      });
      const made: WebSocket[] = [];
      // With a 'request' listener, extended CONNECTs come as 'connect' events.
      server.on('connect', (request, response) => {
        made.push(new WebSocket(request, response));
      });
      server.on('request', (request, response) => {
        if (EventSource.isEventSource(request)) new EventSource(request, response, { ping: 0 }).send('h2');
        else response.end('page');
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      t.teardown(() => {
        for (const session of sessions) session.destroy();
        server.close();
      });
      const { port } = server.address() as AddressInfo;
      const connect = (): http2.ClientHttp2Session => {
        const session = http2.connect(`http://127.0.0.1:${port}`);
        session.on('error', () => {});
        t.teardown(() => session.destroy());
        return session;
      };
      const session = connect();
      // Another connection, which carries a page and no WebSocket or event stream.
      const other = connect();
      const page = other.request({ ':path': '/' });
      page.resume();
      await within(once(page, 'end'), 5000, 'the page');

      const ws = new Client(`ws://127.0.0.1:${port}/`, [], { http2: session });
      t.teardown(() => ws.terminate());
      await nextWithin(ws, 'open');
      const stream = session.request({ ':path': '/feed', accept: 'text/event-stream' });
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        body += chunk;
      });
      const ended = within(once(stream, 'end'), 5000, 'the event stream to end');
      await until(() => body.includes('data: h2'));

      const closed = nextWithin<CloseEvent>(ws, 'close');
      const goaway = within(once(session, 'goaway'), 5000, 'GOAWAY on the WebSocket session');
      const result = await within(shutdown(server, { timeout: 5000 }), 5000, 'shutdown');
      t.same(result, { closed: 2, terminated: 0 });
      const event = await closed;
      t.same([event.code, event.wasClean], [1001, true], 'the WebSocket over HTTP/2 got 1001');
      await ended;
      await goaway;
      await within(once(session, 'close'), 5000, 'the WebSocket session to close');
      t.pass('the session that carried them got GOAWAY and closed once its streams were done');

      const late = await rawConnect(other, '/');
      t.equal(late.response[':status'], 503, 'a new extended CONNECT gets 503');
      late.stream.resume();
      await within(late.closed, 5000, 'the refused stream to close');
      t.equal(made.length, 2);
      t.equal(made[1]?.readyState, WebSocket.CLOSED);
    },
  );

  t.test('over TLS (https): the socket is found through the TLS connection', async (t) => {
    const certs = certificates(t);
    if (!certs) return;
    const served = await serve(t, https.createServer({ key: certs.key, cert: certs.cert }));
    const client = wsClient(t, `wss://localhost:${served.port}/`, [], { ca: certs.ca });
    await opened(client);
    const closed = wsClosed(client);
    t.same(await shutdown(served.server), { closed: 1, terminated: 0 });
    t.equal((await closed).code, 1001);
  });

  t.test('an HTTP/2 secure server with allowHTTP1: WebSockets over both protocols get 1001', async (t) => {
    if (!requirePeer(t, 'openssl', 'openssl')) return;
    const peer = await http2Server(t);
    const accept = (
      request: IncomingMessage | Http2ServerRequest,
      socket: Duplex | Http2ServerResponse,
      head?: Buffer,
    ) => new WebSocket(request, socket, head);
    peer.server.on('upgrade', accept);
    peer.server.on('connect', accept);
    peer.server.on('request', (_request, response) => response.end('page'));
    const http1 = wsClient(t, `${peer.wss}/`, [], { ca: peer.ca });
    await opened(http1);
    const session = http2Session(t, peer.origin, peer.ca);
    const h2 = new Client(`${peer.wss}/`, [], { http2: session });
    t.teardown(() => h2.terminate());
    await nextWithin(h2, 'open');
    const closed = [wsClosed(http1), nextWithin<CloseEvent>(h2, 'close')] as const;
    t.same(await within(shutdown(peer.server), 5000, 'shutdown'), { closed: 2, terminated: 0 });
    t.equal((await closed[0]).code, 1001, 'over HTTP/1.1 (TLS)');
    t.equal((await closed[1]).code, 1001, 'over HTTP/2 (TLS)');
  });

  t.test('beside server.close() and closeIdleConnections(): the server closes once shutdown is done', async (t) => {
    const served = await serve(t);
    const client = wsClient(t, `ws://127.0.0.1:${served.port}/`);
    await opened(client);
    const source = new PackageEventSource(`${served.origin}/`);
    t.teardown(() => source.close());
    await within(once(source as unknown as EventTarget, 'message'), 5000, 'the first event');
    // An idle keep-alive connection, as a browser leaves one.
    const agent = new http.Agent({ keepAlive: true });
    t.teardown(() => agent.destroy());
    await new Promise<void>((resolve) =>
      http.get(`${served.origin}/`, { agent }, (res) => res.resume().on('end', resolve)),
    );

    let serverClosed = false;
    served.server.close(() => {
      serverClosed = true;
    });
    served.server.closeIdleConnections();
    const closed = wsClosed(client);
    const result = await shutdown(served.server, { timeout: 5000 });
    t.same(result, { closed: 2, terminated: 0 });
    t.equal((await closed).code, 1001);
    await until(() => serverClosed);
    t.pass("server.close()'s callback ran: no connection was left open");
  });

  t.test('sockets and streams that closed on their own leave no entry: a later shutdown finds nothing', async (t) => {
    const served = await serve(t);
    const client = wsClient(t, `ws://127.0.0.1:${served.port}/`);
    await opened(client);
    const closed = wsClosed(client);
    client.close(1000);
    await closed;
    const source = new PackageEventSource(`${served.origin}/`);
    await within(once(source as unknown as EventTarget, 'message'), 5000, 'the first event');
    source.close();
    await until(() => served.streams[0]?.readyState === EventSource.CLOSED);
    // One refused at its handshake (426, a wrong version) leaves too.
    const refused = await connectRaw(t, served.port, handshake(served.port, {}, { 'Sec-WebSocket-Version': '8' }));
    await within(refused.closed, 5000, 'the refused handshake');
    t.match(String(refused.received()), /^HTTP\/1.1 426/);
    await until(() => served.sockets.every((ws) => ws.readyState === WebSocket.CLOSED) && served.sockets.length === 2);
    t.same(await shutdown(served.server), { closed: 0, terminated: 0 });
  });

  t.test('a second call returns the first call’s promise; WebSocket.shutdown is the same function', async (t) => {
    const served = await serve(t);
    const first = shutdown(served.server);
    t.equal(shutdown(served.server, { timeout: 1 }), first);
    t.equal(WebSocket.shutdown, shutdown);
    t.same(await first, { closed: 0, terminated: 0 });
  });

  t.test('bad arguments are a TypeError', async (t) => {
    const server = http.createServer();
    t.throws(() => shutdown({} as http.Server), { name: 'TypeError', message: /server must be the http/ });
    t.throws(() => shutdown(undefined as unknown as http.Server), TypeError);
    for (const timeout of [-1, Number.NaN, '5000']) {
      t.throws(() => shutdown(server, { timeout: timeout as number }), {
        name: 'TypeError',
        message: /timeout must be a non-negative number/,
      });
    }
    t.throws(() => shutdown(server, { time: 5 } as never), { name: 'TypeError', message: /Unrecognized option/ });
  });
});
