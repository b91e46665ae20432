// WebSocket.Client and EventSource.Client over HTTP/2 (the `http2` option):
// on a session the application shares or on one of their own, against an
// isosocket server, a plain node:http2 server that does not enable extended
// CONNECT, an HTTPS server without HTTP/2, and servers that never answer.

import { once } from 'node:events';
import http2, {
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import t, { type Test } from 'tap';
import {
  Client,
  type CloseEvent,
  type ErrorEvent,
  EventSource,
  EventSourceClient,
  WebSocket,
} from '../../src/index.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { type Http2Peer, http2Server, http2Session } from '../helpers/http2.js';
import { listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { startConnectProxy } from '../helpers/proxies.js';
import { requirePeer } from '../helpers/require-peer.js';
import { certificates } from '../helpers/tls.js';
import { trace } from '../helpers/trace.js';

const FAILED = ['error@3', 'close:1006@3'];

/**
 * An HTTP/2 server whose CONNECTs become echoing WebSockets; `connects` has
 * each request's headers (in arrival order), `sessionOf` the server session
 * each path arrived on.
 */
async function echoServer(
  t: Test,
): Promise<Http2Peer & { connects: IncomingHttpHeaders[]; sessionOf: Map<string, Http2Session> }> {
  const peer = await http2Server(t);
  const connects: IncomingHttpHeaders[] = [];
  const sessionOf = new Map<string, Http2Session>();
  peer.server.on('request', (_request, response) => response.end('page'));
  peer.server.on('connect', (request: Http2ServerRequest, response: Http2ServerResponse) => {
    connects.push(request.headers);
    if (request.stream.session) sessionOf.set(String(request.headers[':path']), request.stream.session);
    const ws = new WebSocket(request, response, ['chat']);
    ws.onmessage = (event) => ws.send(event.data);
  });
  return { ...peer, connects, sessionOf };
}

/** Resolves with the error event's message and the close event, in order. */
async function failure(ws: Client): Promise<{ events: string[]; message: string }> {
  const events = trace(ws);
  const error = nextWithin<ErrorEvent>(ws, 'error');
  await nextWithin(ws, 'close');
  return { events, message: (await error).message };
}

t.test('WebSocket.Client over HTTP/2', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;

  t.test('the http2 option', async (t) => {
    const session = http2.connect('https://localhost:1');
    session.on('error', () => {});
    t.teardown(() => session.destroy());
    t.throws(() => new Client('wss://localhost/', [], { http2: 'yes' as never }), {
      name: 'TypeError',
      message: /http2 must be true, false, or a ClientHttp2Session/,
    });
    t.throws(() => new Client('wss://localhost/', [], { http2: {} as never }), TypeError);
    t.throws(() => new Client('wss://localhost/', [], { http2: session, ca: 'x' }), {
      name: 'TypeError',
      message: /ca shape a new connection .* pass them to http2\.connect\(\)/,
    });
    t.throws(() => new Client('wss://localhost/', [], { http2: session, proxy: { origin: 'http://proxy:3128' } }), {
      message: /proxy shape a new connection/,
    });
    t.throws(() => new EventSourceClient('https://localhost/', { http2: 5 as never }), TypeError);
    const faye = new Client('wss://localhost:1/', [], { http2: session, proxy: { origin: undefined } });
    faye.onerror = () => {};
    faye.close();
    t.pass("faye's proxy without an origin is no proxy, so it goes with a session");
  });

  t.test('opens on an isosocket server, over a shared session or its own', async (t) => {
    const peer = await echoServer(t);
    const session = http2Session(t, peer.origin, peer.ca);
    const shared = new Client(`${peer.wss}/a`, ['chat'], { http2: session });
    const own = new Client(`${peer.wss}/b`, ['chat'], { http2: true, ca: peer.ca });
    await Promise.all([nextWithin(shared, 'open'), nextWithin(own, 'open')]);
    t.equal(peer.sessions.length, 2, 'the shared session, and one of its own');
    for (const ws of [shared, own]) {
      ws.send(`via ${ws.url}`);
      t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, `via ${ws.url}`);
      t.equal(ws.protocol, 'chat');
      t.equal(ws.statusCode, 200);
    }
    // The two sessions race each other: compare in path order.
    t.same(
      peer.connects
        .map((headers) => [headers[':method'], headers[':protocol'], headers[':path'], headers[':scheme']])
        .sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
      [
        ['CONNECT', 'websocket', '/a', 'https'],
        ['CONNECT', 'websocket', '/b', 'https'],
      ],
    );
    t.equal(peer.connects[0]?.['sec-websocket-key'], undefined, 'no Sec-WebSocket-Key over HTTP/2 (RFC 8441 §5)');
    t.equal(peer.connects[0]?.['sec-websocket-version'], '13');
    const ownSession = peer.sessionOf.get('/b');
    t.not(ownSession, peer.sessionOf.get('/a'), 'two sessions');
    const ownClosed = new Promise((resolve) => ownSession?.once('close', resolve));
    shared.close();
    own.close();
    await Promise.all([nextWithin(shared, 'close'), nextWithin(own, 'close')]);
    await within(ownClosed, 5000, 'its own session to close');
    t.notOk(session.closed || session.destroyed, 'the shared session is left open: it is the application’s');
  });

  t.test('several WebSockets and EventSources share one session', async (t) => {
    const peer = await echoServer(t);
    peer.server.removeAllListeners('request');
    peer.server.on('request', (request, response) => {
      const es = new EventSource(request, response, { ping: 0 });
      es.send(`feed ${request.url}`);
    });
    const session = http2Session(t, peer.origin, peer.ca);
    const sockets = [1, 2, 3].map((n) => new Client(`${peer.wss}/${n}`, [], { http2: session }));
    const sources = [1, 2].map((n) => new EventSourceClient(`${peer.origin}/feed/${n}`, { http2: session }));
    t.teardown(() => {
      for (const source of sources) source.close();
    });
    const feeds = await Promise.all(sources.map((source) => nextWithin<MessageEvent>(source, 'message')));
    t.same(
      feeds.map((event) => event.data),
      ['feed /feed/1', 'feed /feed/2'],
    );
    await Promise.all(sockets.map((ws) => nextWithin(ws, 'open')));
    for (const ws of sockets) ws.send(ws.url);
    const echoes = await Promise.all(sockets.map((ws) => nextWithin<MessageEvent>(ws, 'message')));
    t.same(
      echoes.map((event) => event.data),
      sockets.map((ws) => ws.url),
    );
    t.equal(peer.sessions.length, 1, 'one connection for all five');
    sockets[0]?.close();
    await nextWithin(sockets[0] as Client, 'close');
    sockets[1]?.send('still');
    t.equal((await nextWithin<MessageEvent>(sockets[1] as Client, 'message')).data, 'still');
    for (const ws of sockets) ws.close();
  });

  t.test(
    'twenty WebSockets at once on a new session share one wait for its SETTINGS: no listener warning',
    async (t) => {
      const warnings: string[] = [];
      const onWarning = (warning: Error): void => {
        warnings.push(`${warning.name}: ${warning.message}`);
      };
      process.on('warning', onWarning);
      t.teardown(() => process.off('warning', onWarning));
      const peer = await echoServer(t);
      const session = http2Session(t, peer.origin, peer.ca);
      const sockets = Array.from({ length: 20 }, () => new Client(`${peer.wss}/`, [], { http2: session }));
      await Promise.all(sockets.map((ws) => nextWithin(ws, 'open')));
      for (const ws of sockets) ws.close();
      await Promise.all(sockets.map((ws) => nextWithin(ws, 'close')));
      await new Promise((resolve) => setImmediate(resolve));
      t.same(warnings, []);
      t.equal(session.listenerCount('remoteSettings'), 0, 'no listener left on the session');
    },
  );

  t.test('fails cleanly against a plain node:http2 server that does not enable extended CONNECT', async (t) => {
    const peer = await http2Server(t, { enableConnectProtocol: false });
    let streams = 0;
    peer.server.on('stream', () => streams++);
    const session = http2Session(t, peer.origin, peer.ca);
    for (const options of [{ http2: session }, { http2: true as const, ca: peer.ca }]) {
      const ws = new Client(`${peer.wss}/`, [], options);
      const { events, message } = await failure(ws);
      t.same(events, FAILED);
      t.match(message, /does not accept WebSockets over HTTP\/2: its SETTINGS do not enable .* \(RFC 8441 §3\)/);
    }
    t.equal(streams, 0, 'no CONNECT was sent (RFC 8441 §3)');
    const page = session.request({ ':path': '/' });
    page.on('error', () => {});
    page.end();
    t.pass('the shared session still works for the rest');
  });

  t.test('a non-2xx answer fails the connection, with statusCode and headers', async (t) => {
    const peer = await http2Server(t);
    peer.server.on('request', (_request, response) => response.end());
    peer.server.on('connect', (_request: Http2ServerRequest, response: Http2ServerResponse) => {
      response.writeHead(403, { 'x-why': 'not you' }).end('no');
    });
    const session = http2Session(t, peer.origin, peer.ca);
    const ws = new Client(`${peer.wss}/`, [], { http2: session });
    const { events, message } = await failure(ws);
    t.same(events, FAILED);
    t.match(message, /Unexpected response code: 403/);
    t.equal(ws.statusCode, 403);
    t.equal(ws.headers?.['x-why'], 'not you');
    t.equal(ws.headers?.[':status'], undefined, 'pseudo-headers are left out');
  });

  t.test('a 200 with a subprotocol that was not offered fails the connection', async (t) => {
    const peer = await http2Server(t);
    peer.server.on('stream', (stream: ServerHttp2Stream) => {
      stream.respond({ ':status': 200, 'sec-websocket-protocol': 'surprise' });
    });
    const session = http2Session(t, peer.origin, peer.ca);
    const { events, message } = await failure(new Client(`${peer.wss}/`, ['chat'], { http2: session }));
    t.same(events, FAILED);
    t.match(message, /subprotocol 'surprise', which was not offered/);
  });

  t.test(
    'sends the headers and origin options; Host becomes :authority; HTTP/1.1-only fields are left out',
    async (t) => {
      const peer = await echoServer(t);
      const session = http2Session(t, peer.origin, peer.ca);
      const ws = new Client(`${peer.wss}/`, ['chat'], {
        http2: session,
        origin: 'https://app.example',
        headers: { 'X-Token': 'secret', Host: `localhost:${peer.port}`, Connection: 'keep-alive', 'Keep-Alive': '5' },
      });
      await nextWithin(ws, 'open');
      const headers = peer.connects[0] ?? {};
      t.equal(headers['x-token'], 'secret');
      t.equal(headers.origin, 'https://app.example');
      t.equal(headers[':authority'], `localhost:${peer.port}`);
      t.equal(headers.connection, undefined);
      t.equal(headers['keep-alive'], undefined);
      t.equal(headers['sec-websocket-protocol'], 'chat');
      t.match(
        headers['sec-websocket-extensions'],
        /permessage-deflate/,
        'the client offers permessage-deflate, as browsers do',
      );
      ws.close();
    },
  );

  t.test('TLS: certificates are verified on a session of its own', async (t) => {
    const peer = await echoServer(t);
    const { message } = await failure(new Client(`${peer.wss}/`, [], { http2: true }));
    t.match(message, /certificate/i);
    const trusting = new Client(`${peer.wss}/`, [], { http2: true, tls: { rejectUnauthorized: false } });
    await nextWithin(trusting, 'open');
    trusting.close();
  });

  t.test('through an HTTP proxy: CONNECT to the server, then TLS with ALPN h2 inside the tunnel', async (t) => {
    const peer = await echoServer(t);
    const proxy = await startConnectProxy(t, { credentials: 'user:pass' });
    const ws = new Client(`${peer.wss}/tunnelled`, [], {
      http2: true,
      ca: peer.ca,
      proxy: { origin: `http://user:pass@${proxy.origin.slice('http://'.length)}` },
    });
    await nextWithin(ws, 'open');
    ws.send('through the tunnel');
    t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, 'through the tunnel');
    t.match(proxy.requests[0], /^CONNECT localhost:\d+ HTTP\/1\.1/);
    t.equal(peer.sessions[0]?.alpnProtocol, 'h2');
    ws.close();
  });

  t.test('a TLS server without HTTP/2 (ALPN) fails with a clear message', async (t) => {
    const { key, cert, ca } = certificates();
    const server = https.createServer({ key, cert }, (_request, response) => response.end());
    const port = await listen(t, server);
    const { events, message } = await failure(new Client(`wss://localhost:${port}/`, [], { http2: true, ca }));
    t.same(events, FAILED);
    t.match(
      message,
      /did not agree to HTTP\/2 in the TLS handshake \(ALPN: http\/1\.1\); it may speak HTTP\/1\.1 only/,
    );
  });

  t.test('handshakeTimeout', async (t) => {
    t.test('a CONNECT nobody answers fails in time; the shared session lives on', async (t) => {
      const peer = await echoServer(t);
      peer.server.removeAllListeners('connect');
      peer.server.on('connect', (request: Http2ServerRequest, response: Http2ServerResponse) => {
        if (request.url === '/silent') return;
        const ws = new WebSocket(request, response);
        ws.onmessage = (event) => ws.send(event.data);
      });
      const session = http2Session(t, peer.origin, peer.ca);
      const started = Date.now();
      const { events, message } = await failure(
        new Client(`${peer.wss}/silent`, [], { http2: session, handshakeTimeout: 300 }),
      );
      t.same(events, FAILED);
      t.match(message, /longer than 300 ms \(handshakeTimeout\)/);
      t.ok(Date.now() - started < 4000);
      const ws = new Client(`${peer.wss}/`, [], { http2: session });
      await nextWithin(ws, 'open');
      ws.close();
    });

    t.test('a TLS server that agrees to h2 and never sends its SETTINGS', async (t) => {
      const { key, cert, ca } = certificates();
      const server = tls.createServer({ key, cert, ALPNProtocols: ['h2'] }, (socket) => socket.on('error', () => {}));
      const port = await listen(t, server);
      const { events, message } = await failure(
        new Client(`wss://localhost:${port}/`, [], { http2: true, ca, handshakeTimeout: 300 }),
      );
      t.same(events, FAILED);
      t.match(message, /handshakeTimeout/);
    });

    t.test('the signal abandons the attempt', async (t) => {
      const peer = await echoServer(t);
      peer.server.removeAllListeners('connect');
      peer.server.on('connect', () => {});
      const session = http2Session(t, peer.origin, peer.ca);
      const controller = new AbortController();
      const ws = new Client(`${peer.wss}/`, [], { http2: session, signal: controller.signal });
      const done = failure(ws);
      setTimeout(() => controller.abort(new Error('changed my mind')), 50);
      t.match((await done).message, /changed my mind/);
    });
  });

  t.test('a shared session that is closed, or serves another origin, fails the connection', async (t) => {
    const peer = await echoServer(t);
    const session = http2Session(t, peer.origin, peer.ca);
    await within(once(session, 'connect'), 5000, 'the session to connect');
    const other = await failure(new Client(`wss://127.0.0.1:${peer.port}/`, [], { http2: session }));
    t.match(other.message, /serves https:\/\/localhost:\d+, not https:\/\/127\.0\.0\.1:\d+/);
    session.close();
    const closed = await failure(new Client(`${peer.wss}/`, [], { http2: session }));
    t.same(closed.events, FAILED);
    t.match(closed.message, /session given in the http2 option is closed/);
  });

  t.test('ws: over cleartext HTTP/2 (prior knowledge)', async (t) => {
    const server = http2.createServer({ settings: { enableConnectProtocol: true } });
    const urls: string[] = [];
    server.on('stream', (stream, headers) => {
      const ws = new WebSocket(stream, headers);
      urls.push(ws.url);
      ws.onmessage = (event) => ws.send(event.data);
    });
    server.on('session', (session) => session.on('error', () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (session) => sessions.add(session));
    t.teardown(() => {
      for (const session of sessions) session.destroy();
      server.close();
    });
    const { port } = server.address() as AddressInfo;
    const ws = new Client(`ws://127.0.0.1:${port}/plain`, [], { http2: true });
    await nextWithin(ws, 'open');
    ws.send('h2c');
    t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, 'h2c');
    t.same(urls, [`ws://127.0.0.1:${port}/plain`], 'ws: from the cleartext connection');
    ws.close();
    await nextWithin<CloseEvent>(ws, 'close');
  });
});

t.test('EventSource.Client over HTTP/2', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;

  /** An HTTP/2 server whose requests become event streams, per path; `requests` has their headers. */
  async function feedServer(t: Test, route: (es: EventSource, count: number, path: string) => void) {
    const peer = await http2Server(t);
    const requests: IncomingHttpHeaders[] = [];
    peer.server.on('request', (request, response) => {
      requests.push(request.headers);
      if (request.url === '/404') {
        response.writeHead(404).end();
        return;
      }
      if (request.url?.startsWith('/elsewhere')) {
        response.writeHead(302, { location: `https://127.0.0.1:${peer.port}/feed` }).end();
        return;
      }
      route(new EventSource(request, response, { ping: 0, retry: 0.05 }), requests.length, request.url ?? '');
    });
    return { ...peer, requests };
  }

  t.test('reconnects on the shared session with a UTF-8 Last-Event-ID', async (t) => {
    const peer = await feedServer(t, (es, count) => {
      if (count === 1) {
        es.send('first', { id: 'é☃' });
        setTimeout(() => es.close(), 20);
      } else {
        es.send(`resumed after ${es.lastEventId}`);
      }
    });
    const session = http2Session(t, peer.origin, peer.ca);
    const source = new EventSourceClient(`${peer.origin}/feed`, { http2: session, headers: { 'X-Token': 'a' } });
    t.teardown(() => source.close());
    const events = trace(source as never);
    t.equal((await nextWithin<MessageEvent>(source, 'message')).data, 'first');
    const resumed = await nextWithin<MessageEvent>(source, 'message', 5000);
    t.equal(resumed.data, `resumed after ${Buffer.from('é☃').toString('latin1')}`, 'the id crossed as its UTF-8 bytes');
    t.same(Buffer.from(String(peer.requests[1]?.['last-event-id']), 'latin1'), Buffer.from('é☃'));
    t.equal(peer.requests[1]?.['x-token'], 'a');
    t.equal(peer.requests[1]?.accept, 'text/event-stream');
    t.same(events, ['open@1', 'message@1', 'error@0', 'open@1', 'message@1']);
    t.equal(peer.sessions.length, 1, 'both requests on the one session');
  });

  t.test('a session of its own per request, closed with it', async (t) => {
    const peer = await feedServer(t, (es) => es.send('own'));
    const source = new EventSourceClient(`${peer.origin}/feed`, { http2: true, ca: peer.ca });
    t.equal((await nextWithin<MessageEvent>(source, 'message')).data, 'own');
    const closed = new Promise((resolve) => peer.sessions[0]?.once('close', resolve));
    source.close();
    await within(closed, 5000, 'its session to close');
    t.pass('the session closed with the EventSource');
  });

  t.test('a non-200 answer fails for good, as over HTTP/1.1', async (t) => {
    const peer = await feedServer(t, () => {});
    const session = http2Session(t, peer.origin, peer.ca);
    const source = new EventSourceClient(`${peer.origin}/404`, { http2: session });
    const error = await nextWithin<ErrorEvent>(source, 'error');
    t.equal(source.readyState, EventSourceClient.CLOSED);
    t.match(error.message, /answered 404 Not Found; an event stream needs 200/);
  });

  t.test('a closed shared session, or a redirect to another origin, fails for good', async (t) => {
    const peer = await feedServer(t, (es) => es.send('x'));
    const session = http2Session(t, peer.origin, peer.ca);
    await within(once(session, 'connect'), 5000, 'the session to connect');
    const redirected = new EventSourceClient(`${peer.origin}/elsewhere`, { http2: session });
    const moved = await nextWithin<ErrorEvent>(redirected, 'error');
    t.equal(redirected.readyState, EventSourceClient.CLOSED);
    t.match(moved.message, /serves https:\/\/localhost:\d+, not https:\/\/127\.0\.0\.1/);
    session.close();
    const source = new EventSourceClient(`${peer.origin}/feed`, { http2: session });
    const error = await nextWithin<ErrorEvent>(source, 'error');
    t.equal(source.readyState, EventSourceClient.CLOSED);
    t.match(error.message, /session given in the http2 option is closed/);
  });

  t.test('a session that dies mid-stream: reconnection on a session of its own', async (t) => {
    let served = 0;
    const peer = await feedServer(t, (es) => {
      served++;
      es.send(`stream ${served}`);
    });
    const source = new EventSourceClient(`${peer.origin}/feed`, { http2: true, ca: peer.ca });
    t.teardown(() => source.close());
    t.equal((await nextWithin<MessageEvent>(source, 'message')).data, 'stream 1');
    peer.sessions[0]?.destroy();
    t.equal((await nextWithin<MessageEvent>(source, 'message', 5000)).data, 'stream 2');
    await until(() => peer.sessions.length === 2);
    t.pass('a new session carried the reconnection');
  });
});
