// Both clients through SOCKS5 (RFC 1928, RFC 1929): Debian's microsocks as
// the real proxy (with and without a username and password, socks5: and
// socks5h:, ws:/wss:/http:/https: targets with TLS inside the tunnel), the
// environment (ALL_PROXY), and hostile SOCKS servers written here against
// isosocket in a child process that must stay alive, serving and bounded.

import { once } from 'node:events';
import http from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import t, { type Test } from 'tap';
import {
  Client,
  type CloseEvent,
  type ErrorEvent,
  EventSource,
  EventSourceClient,
  type EventSourceErrorEvent,
  WebSocket,
  WebSocketStream,
} from '../../src/index.js';
import { resolveTransport } from '../../src/net/options.js';
import { ConnectionAttempt, connect } from '../../src/net/transport.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { Child, type ChildEvent, mib } from '../helpers/child.js';
import { http2Server } from '../helpers/http2.js';
import { freePort, listen } from '../helpers/listen.js';
import { startConnectProxy, startMicrosocks } from '../helpers/proxies.js';
import { requirePeer } from '../helpers/require-peer.js';
import { certificates } from '../helpers/tls.js';
import { trace } from '../helpers/trace.js';

const USER = 'user';
/** A password with the characters a URL must percent-encode, and one outside ASCII. */
const PASSWORD = 'p@ss:w/rd é';
const CREDENTIALS = `${USER}:${encodeURIComponent(PASSWORD)}@`;
const FAILED = ['error@3', 'close:1006@3'];

interface Target {
  port: number;
  /** The raw request headers of every request the target saw (name, value, name, value...). */
  requests: string[][];
}

/** An HTTP(S) server that echoes WebSockets and sends one event on any other request, recording the headers. */
async function startTarget(t: Test, tlsOptions?: { key: string; cert: string }): Promise<Target> {
  const requests: string[][] = [];
  const server = tlsOptions
    ? https.createServer(tlsOptions, (request, response) => {
        requests.push(request.rawHeaders);
        new EventSource(request, response, { ping: 0 }).send('through');
      })
    : http.createServer((request, response) => {
        requests.push(request.rawHeaders);
        new EventSource(request, response, { ping: 0 }).send('through');
      });
  server.on('upgrade', (request, socket, head) => {
    requests.push(request.rawHeaders);
    const ws = new WebSocket(request, socket, head);
    ws.on('message', (event) => ws.send(event.data));
  });
  return { port: await listen(t, server), requests };
}

async function echoes(t: Test, ws: Client): Promise<void> {
  const events = trace(ws);
  const error = new Promise<ErrorEvent>((resolve) => ws.addEventListener('error', (e) => resolve(e as ErrorEvent)));
  const opened = await within(
    Promise.race([once(ws, 'open').then(() => true), error.then((e) => e.message)]),
    5000,
    'open',
  );
  t.equal(opened, true, 'opened');
  ws.send('through');
  const [message] = (await within(once(ws, 'message'), 5000, 'the echo')) as [MessageEvent];
  t.equal(message.data, 'through');
  ws.close();
  await within(once(ws, 'close'), 5000, 'close');
  t.same(events, ['open@1', 'message@1', 'close:1005@3']);
}

async function streams(t: Test, source: EventSourceClient): Promise<void> {
  t.teardown(() => source.close());
  const error = new Promise<ErrorEvent>((resolve) => source.addEventListener('error', (e) => resolve(e as ErrorEvent)));
  const got = await within(
    Promise.race([
      once(source, 'message').then(([event]) => (event as MessageEvent).data),
      error.then((e) => `error: ${e.message}`),
    ]),
    5000,
    'the event',
  );
  t.equal(got, 'through');
  source.close();
}

/** The target saw nothing of the proxy's credentials: no (Proxy-)Authorization, no user:password in any form. */
function sawNoCredentials(t: Test, target: Target): void {
  t.ok(target.requests.length > 0, 'the target was reached');
  for (const raw of target.requests) {
    const names = raw.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
    t.notOk(names.includes('proxy-authorization'), 'no Proxy-Authorization at the target');
    t.notOk(names.includes('authorization'), 'no Authorization at the target');
    const text = raw.join('\n');
    for (const secret of [
      PASSWORD,
      encodeURIComponent(PASSWORD),
      Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
    ]) {
      t.notOk(text.includes(secret), `the target saw no ${JSON.stringify(secret)}`);
    }
  }
}

async function failure(ws: Client): Promise<{ events: string[]; message: string; close: CloseEvent }> {
  const events = trace(ws);
  // Not events.once: on an EventTarget it rejects with an 'error' event.
  const error = nextWithin<ErrorEvent>(ws, 'error');
  const close = await nextWithin<CloseEvent>(ws, 'close');
  return { events, message: (await error).message, close };
}

t.test('through microsocks', async (t) => {
  if (!requirePeer(t, 'microsocks', 'microsocks') || !requirePeer(t, 'openssl', 'openssl')) return;
  const { ca, key, cert } = certificates();
  const open = await startMicrosocks(t);
  const guarded = await startMicrosocks(t, { user: USER, pass: PASSWORD });
  if (!open || !guarded) return;
  const plain = await startTarget(t);
  const secure = await startTarget(t, { key, cert });

  for (const client of ['WebSocket.Client', 'EventSource.Client'] as const) {
    for (const tlsInside of [false, true]) {
      for (const scheme of ['socks5', 'socks5h'] as const) {
        for (const withAuth of [false, true]) {
          const target = tlsInside ? secure : plain;
          const url =
            client === 'WebSocket.Client'
              ? `${tlsInside ? 'wss' : 'ws'}://localhost:${target.port}/`
              : `${tlsInside ? 'https' : 'http'}://localhost:${target.port}/feed`;
          const proxy = withAuth ? guarded : open;
          t.test(
            `${client} to ${url.split(':')[0]}://localhost through ${scheme}:${withAuth ? ' with user:password' : ''}: the proxy is asked for ${scheme === 'socks5h' ? 'the name' : 'the address resolved here'}`,
            async (t) => {
              const before = target.requests.length;
              const proxyUrl = proxy.url(scheme, withAuth ? CREDENTIALS : '');
              // Both forms: the URL string, and { origin }.
              const option = withAuth ? proxyUrl : { origin: proxyUrl };
              if (client === 'WebSocket.Client') await echoes(t, new Client(url, [], { proxy: option, ca }));
              else await streams(t, new EventSourceClient(url, { proxy: option, ca }));
              const asked = scheme === 'socks5h' ? 'localhost' : '127.0.0.1';
              t.match(proxy.log(), `: connected to ${asked}:${target.port}\n`);
              t.equal(target.requests.length, before + 1);
              if (withAuth) sawNoCredentials(t, { ...target, requests: target.requests.slice(before) });
            },
          );
        }
      }
    }
  }

  t.test('WebSocketStream and HTTP/2 (RFC 8441) go through the same tunnel, TLS inside', async (t) => {
    const stream = new WebSocketStream(`wss://localhost:${secure.port}/`, {
      ca,
      proxy: guarded.url('socks5h', CREDENTIALS),
    });
    const { readable, writable } = await within(stream.opened, 5000, 'opened');
    await writable.getWriter().write('a stream through SOCKS5');
    t.equal((await readable.getReader().read()).value, 'a stream through SOCKS5');
    stream.close();
    await stream.closed;
    t.match(guarded.log(), `: connected to localhost:${secure.port}\n`);

    const peer = await http2Server(t);
    // Without a 'request' listener the compatibility API takes no extended CONNECT.
    peer.server.on('request', (_request, response) => response.end('page'));
    peer.server.on('connect', (request: Http2ServerRequest, response: Http2ServerResponse) => {
      const ws = new WebSocket(request, response);
      ws.onmessage = (event) => ws.send(event.data);
    });
    await echoes(t, new Client(`${peer.wss}/`, [], { http2: true, ca: peer.ca, proxy: open.url('socks5h') }));
    t.equal(peer.sessions.length, 1, 'one HTTP/2 session, through the proxy');
    t.match(open.log(), `: connected to localhost:${peer.port}\n`);
  });

  t.test('socks5h: never looks the name up here; socks5: uses net.lookup and net.family', async (t) => {
    const looked: Array<[string, unknown]> = [];
    const lookup = (host: string, options: { family?: number }, callback: (...args: unknown[]) => void): void => {
      looked.push([host, options.family]);
      callback(null, '127.0.0.1', 4);
    };
    const url = `ws://localhost:${plain.port}/`;
    await echoes(t, new Client(url, [], { proxy: open.url('socks5h'), net: { lookup } }));
    t.same(looked, [], 'socks5h: no lookup');
    await echoes(t, new Client(url, [], { proxy: open.url('socks5'), net: { lookup, family: 4 } }));
    t.same(looked, [['localhost', 4]], 'socks5: looked up here, once');
  });

  t.test('socks5: a name that does not resolve here fails, saying socks5h would let the proxy try', async (t) => {
    const { events, message } = await failure(
      new Client('ws://no-such-host.invalid/', [], { proxy: open.url('socks5') }),
    );
    t.same(events, FAILED);
    t.match(
      message,
      /^Could not connect to ws:\/\/no-such-host\.invalid\/: Could not resolve no-such-host\.invalid to ask SOCKS5 proxy 127\.0\.0\.1:\d+ for it: [A-Z_]+ \(socks5:\/\/ resolves names here; socks5h:\/\/ lets the proxy resolve them\)$/,
    );
  });

  t.test('wss: through the proxy still verifies the target: an unknown CA fails', async (t) => {
    const { events, message } = await failure(
      new Client(`wss://localhost:${secure.port}/`, [], { proxy: open.url('socks5h') }),
    );
    t.same(events, FAILED);
    t.match(message, /certificate/i);
  });

  t.test('a wrong password: a clear error event, the password in no message', async (t) => {
    const wrong = guarded.url('socks5', `${USER}:wrong-secret@`);
    const { events, message, close } = await failure(new Client(`ws://localhost:${plain.port}/`, [], { proxy: wrong }));
    t.same(events, FAILED);
    t.equal(close.wasClean, false);
    t.equal(
      message,
      `Could not connect to ws://localhost:${plain.port}/: SOCKS5 proxy 127.0.0.1:${guarded.port} refused the username and password (status 2): check the user:password of the proxy URL`,
    );
    t.notMatch(message, /wrong-secret/);

    const source = new EventSourceClient(`http://localhost:${plain.port}/feed`, { proxy: { origin: wrong } });
    t.teardown(() => source.close());
    const event = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.match(event.message, /SOCKS5 proxy 127\.0\.0\.1:\d+ refused the username and password \(status 2\)/);
    t.notMatch(event.message, /wrong-secret/);
    t.equal(source.readyState, EventSourceClient.CONNECTING, 'a network error: EventSource.Client retries');
    t.equal(event.status, undefined, "the proxy's refusal is not the target's status");
    source.close();
  });

  t.test('no credentials for a proxy that needs them: the message says to give some', async (t) => {
    const { events, message } = await failure(
      new Client(`ws://localhost:${plain.port}/`, [], { proxy: guarded.url('socks5h') }),
    );
    t.same(events, FAILED);
    t.match(
      message,
      /accepts none of the authentication methods offered \(none\): it may need a user:password in the proxy URL$/,
    );
  });

  t.test('auth-once (-1): credentials offered first are still checked after a success from this address', async (t) => {
    const once_ = await startMicrosocks(t, { user: USER, pass: PASSWORD, once: true });
    if (!once_) return;
    const url = `ws://localhost:${plain.port}/`;
    await echoes(t, new Client(url, [], { proxy: once_.url('socks5h', CREDENTIALS) }));
    const { message } = await failure(new Client(url, [], { proxy: once_.url('socks5h', `${USER}:wrong@`) }));
    t.match(message, /refused the username and password/);
  });

  t.test('the target refuses: the proxy says so, and the message names it with its reply code', async (t) => {
    const closed = await freePort();
    const { events, message } = await failure(
      new Client(`ws://127.0.0.1:${closed}/`, [], { proxy: open.url('socks5') }),
    );
    t.same(events, FAILED);
    t.equal(
      message,
      `Could not connect to ws://127.0.0.1:${closed}/: SOCKS5 proxy 127.0.0.1:${open.port} refused CONNECT to 127.0.0.1:${closed}: connection refused (reply 5)`,
    );
  });

  t.test('the proxy is not there: the message says SOCKS5 proxy and the reason', async (t) => {
    const port = await freePort();
    const { events, message } = await failure(
      new Client(`ws://localhost:${plain.port}/`, [], { proxy: `socks5h://127.0.0.1:${port}` }),
    );
    t.same(events, FAILED);
    t.match(message, `Could not connect to SOCKS5 proxy 127.0.0.1:${port}: ECONNREFUSED`);
  });

  t.test("proxy: 'env': ALL_PROXY after HTTP(S)_PROXY, NO_PROXY applies, lower case wins", async (t) => {
    const names = [
      'http_proxy',
      'HTTP_PROXY',
      'https_proxy',
      'HTTPS_PROXY',
      'all_proxy',
      'ALL_PROXY',
      'no_proxy',
      'NO_PROXY',
    ];
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    t.teardown(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    for (const name of names) delete process.env[name];
    const tunnels = (): number => open.log().split(`connected to localhost:`).length - 1;
    const url = `ws://localhost:${plain.port}/`;

    process.env.ALL_PROXY = open.url('socks5h');
    let count = tunnels();
    await echoes(t, new Client(url, [], { proxy: 'env' }));
    t.equal(tunnels(), count + 1, 'ALL_PROXY: through microsocks');

    count = tunnels();
    await echoes(t, new Client(`wss://localhost:${secure.port}/`, [], { proxy: 'env', ca }));
    t.equal(tunnels(), count + 1, 'ALL_PROXY for wss: too, TLS inside');

    process.env.all_proxy = `socks5h://127.0.0.1:${await freePort()}`;
    const { message } = await failure(new Client(url, [], { proxy: 'env' }));
    t.match(
      message,
      /Could not connect to SOCKS5 proxy 127\.0\.0\.1:\d+: ECONNREFUSED/,
      'all_proxy won over ALL_PROXY',
    );
    delete process.env.all_proxy;

    const http = await startConnectProxy(t);
    process.env.HTTP_PROXY = http.origin;
    count = tunnels();
    await echoes(t, new Client(url, [], { proxy: 'env' }));
    t.equal(http.requests.length, 1, 'HTTP_PROXY first, as curl');
    t.equal(tunnels(), count, 'not through ALL_PROXY');
    delete process.env.HTTP_PROXY;

    process.env.NO_PROXY = 'localhost';
    count = tunnels();
    await echoes(t, new Client(url, [], { proxy: 'env' }));
    t.equal(tunnels(), count, 'NO_PROXY: direct');
    delete process.env.NO_PROXY;

    process.env.ALL_PROXY = 'socks4://127.0.0.1:1080';
    const wrong = await failure(new Client(url, [], { proxy: 'env' }));
    t.match(
      wrong.message,
      /ALL_PROXY must be an http:, https:, socks5: or socks5h: URL, not socks4: \(SOCKS4 is not supported/,
    );
    process.env.ALL_PROXY = 'socks5://user:hunter2@[broken';
    const broken = await failure(new Client(url, [], { proxy: 'env' }));
    t.match(broken.message, /ALL_PROXY is not a valid URL: socks5:\/\/\*\*\*@\[broken/);
    t.notMatch(broken.message, /hunter2/);
  });
});

/** What a hostile SOCKS server does with each connection, after the client's greeting. */
type Behaviour = (socket: net.Socket, chunk: Buffer, turn: number) => void;

const write = (...values: number[]): Buffer => Buffer.from(values);

/** Writes `total` bytes of `fill` in 64 KiB pieces, as fast as the client reads, until it closes. */
function flood(socket: net.Socket, fill: number, total = 64 * 2 ** 20): void {
  const piece = Buffer.alloc(64 * 1024, fill);
  let sent = 0;
  const more = (): void => {
    while (sent < total && !socket.destroyed) {
      sent += piece.length;
      if (!socket.write(piece)) return void socket.once('drain', more);
    }
  };
  more();
}

const HOSTILE: Record<string, { behaviour: Behaviour; message: RegExp }> = {
  'garbage (an HTTP answer)': {
    behaviour: (socket) => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'),
    message:
      /answered the greeting with version 72, not 5: is it a SOCKS5 proxy\? \(it answered as an HTTP server: use an http:\/\/ proxy URL\)$/,
  },
  'close at once': {
    behaviour: (socket) => socket.destroy(),
    message: /SOCKS5 proxy 127\.0\.0\.1:\d+ closed the connection before sending its method selection$/,
  },
  'close halfway through the method selection': {
    behaviour: (socket) => socket.end(write(5)),
    message: /closed the connection before sending its method selection$/,
  },
  'reset after the greeting': {
    behaviour: (socket) => socket.resetAndDestroy(),
    message:
      /SOCKS5 proxy 127\.0\.0\.1:\d+: ECONNRESET \(waiting for its method selection\)|closed the connection before sending its method selection/,
  },
  'a method selection that never ends (64 MiB)': {
    behaviour: (socket) => flood(socket, 5),
    message: /sent more than the 2-byte method selection before it was asked for more$/,
  },
  'a method it was not offered': {
    behaviour: (socket) => socket.write(write(5, 0x80)),
    message: /chose authentication method 128, which was not offered$/,
  },
  'close before the CONNECT reply': {
    behaviour: (socket, _chunk, turn) => (turn === 0 ? socket.write(write(5, 0)) : socket.end(write(5, 0, 0))),
    message: /closed the connection before sending its reply to CONNECT 127\.0\.0\.1:9$/,
  },
  'an address type RFC 1928 does not define': {
    behaviour: (socket, _chunk, turn) => {
      if (turn === 0) return void socket.write(write(5, 0));
      socket.write(write(5, 0, 0, 7));
      flood(socket, 7);
    },
    message: /answered CONNECT 127\.0\.0\.1:9 with address type 7, which RFC 1928 does not define$/,
  },
  'a general failure': {
    behaviour: (socket, _chunk, turn) =>
      turn === 0 ? socket.write(write(5, 0)) : socket.end(write(5, 1, 0, 1, 0, 0, 0, 0, 0, 0)),
    message: /refused CONNECT to 127\.0\.0\.1:9: general SOCKS server failure \(reply 1\)$/,
  },
  'a CONNECT reply of the longest name, then a target that never stops talking': {
    behaviour: (socket, _chunk, turn) => {
      if (turn === 0) return void socket.write(write(5, 0));
      socket.write(Buffer.concat([write(5, 0, 0, 3, 255), Buffer.alloc(255, 0x61), write(0, 9)]));
      flood(socket, 0x61);
    },
    // Past the reply the bytes are the target's: the WebSocket handshake's own bound fails them.
    message: /Parse Error: Expected HTTP\/[^;]*$/,
  },
  // WebSocket.Client and EventSource.Client say what the deadline was; connect()'s own
  // message naming the proxy and the reply it waited for is checked in process below.
  'silence after the method selection (handshakeTimeout)': {
    behaviour: (socket, _chunk, turn) => void (turn === 0 && socket.write(write(5, 0))),
    message: /The opening handshake took longer than 500 ms \(handshakeTimeout\)/,
  },
  'silence (handshakeTimeout)': {
    behaviour: () => {},
    message: /The opening handshake took longer than 500 ms \(handshakeTimeout\)/,
  },
};

/** A SOCKS "proxy" that answers each message of the client as `behaviour` says. */
async function hostileSocks(t: Test, behaviour: Behaviour): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let turn = 0;
    socket.on('data', (chunk: Buffer) => {
      if (socket.destroyed) return;
      behaviour(socket, chunk, turn++);
    });
  });
  return listen(t, server);
}

/** Peak RSS growth allowed over the whole hostile run: the floods are 64 MiB each. */
const PEAK_RSS_BOUND = 32 * 2 ** 20;

t.test('hostile SOCKS servers, against isosocket in a child process', async (t) => {
  const child = new Child(t);
  await child.ready;
  const servePort = await child.serve();
  const servedUrl = `ws://127.0.0.1:${servePort}/`;
  const warm = child.connect(servedUrl);
  await child.until(warm, (events) => events.some((event) => event.type === 'open'), 'the warm-up open');
  child.close(warm);
  await child.until(warm, (events) => events.some((event) => event.type === 'close'), 'the warm-up close');
  const baseline = (await child.probe()).peakRSS;
  const failed = (events: ChildEvent[]): boolean => events.some((event) => event.type === 'close');
  const errored = (events: ChildEvent[]): boolean => events.some((event) => event.type === 'error');

  for (const [name, { behaviour, message }] of Object.entries(HOSTILE)) {
    t.test(`${name}: WebSocket.Client fails with a clear error, EventSource.Client too`, async (t) => {
      const port = await hostileSocks(t, behaviour);
      const options = { proxy: `socks5://127.0.0.1:${port}`, handshakeTimeout: 500 };
      const ws = child.connect('ws://127.0.0.1:9/', options);
      const events = await child.until(ws, failed, 'the close');
      t.same(
        events.map((event) => `${event.type}${event.code ? `:${event.code}` : ''}`),
        ['error', 'close:1006'],
      );
      t.match(events[0]?.message, message);
      const es = child.source('http://127.0.0.1:9/', options);
      const sourceEvents = await child.until(es, errored, 'the error');
      child.close(es);
      // EventSource.Client adds when it will retry.
      const reconnecting = new RegExp(`${message.source.replace(/\$$/, '')}; reconnecting in \\d+ ms$`);
      t.match(sourceEvents.find((event) => event.type === 'error')?.message, reconnecting);
    });
  }

  t.test('afterwards the child is alive, still serves and connects, printed no warning, memory bounded', async (t) => {
    const served = child.nextUpgrade();
    const id = child.connect(servedUrl);
    await child.until(id, (events) => events.some((event) => event.type === 'open'), 'a fresh connection');
    child.send(id, 'still here');
    await child.until(id, (events) => events.some((event) => event.data === 'still here'), 'the echo');
    child.close(id);
    await child.until(id, failed, 'the close');
    // The server's side closes when the client's TCP FIN reaches it, which may be after the client's close event.
    await child.until(await served, failed, "the server side's close");
    const probe = await child.probe();
    const growth = probe.peakRSS - baseline;
    t.comment(`child peak RSS ${mib(probe.peakRSS)} (grew ${mib(growth)}; bound ${mib(PEAK_RSS_BOUND)})`);
    t.ok(child.alive, 'alive');
    t.same(probe.warnings, []);
    t.equal(probe.open, 0, 'every client closed');
    t.same(
      probe.handles.filter((handle) => handle === 'Timeout'),
      [],
      'no timer left',
    );
    t.ok(growth < PEAK_RSS_BOUND, `peak RSS grew ${growth} bytes, under ${PEAK_RSS_BOUND}`);
    t.equal(child.stderr, '');
  });
});

t.test('connect() through SOCKS5: the deadline names the reply waited for; the tunnel keeps early bytes', async (t) => {
  const settle = (promise: Promise<unknown>): Promise<Error> =>
    within(
      promise.then(
        () => new Error('connected, which it should not have'),
        (error: Error) => error,
      ),
      5000,
      'connect() to settle',
    );
  for (const [silentAfter, waited] of [
    [0, 'its method selection'],
    [1, 'its reply to CONNECT 127.0.0.1:9'],
  ] as const) {
    const port = await hostileSocks(t, (socket, _chunk, turn) => {
      if (turn < silentAfter) socket.write(write(5, 0));
    });
    const transport = resolveTransport({ handshakeTimeout: 200, proxy: `socks5://127.0.0.1:${port}` });
    const error = await settle(connect(new URL('ws://127.0.0.1:9/'), transport, new ConnectionAttempt(transport)));
    t.equal(
      error.message,
      `SOCKS5 proxy 127.0.0.1:${port} did not send ${waited}: The opening handshake took longer than 200 ms (handshakeTimeout)`,
    );
    t.match((error as Error & { cause: unknown }).cause, { name: 'TimeoutError' });
  }

  const port = await hostileSocks(t, (socket, _chunk, turn) => {
    if (turn === 0) return void socket.write(write(5, 0));
    socket.write(Buffer.concat([write(5, 0, 0, 1, 127, 0, 0, 1, 0, 9), Buffer.from('first bytes from the target')]));
  });
  const transport = resolveTransport({ proxy: `socks5h://127.0.0.1:${port}` });
  const attempt = new ConnectionAttempt(transport);
  t.teardown(() => attempt.finish());
  const socket = await within(connect(new URL('ws://example.test:9/'), transport, attempt), 5000, 'the tunnel');
  t.teardown(() => socket.destroy());
  const data = once(socket, 'data');
  socket.resume();
  const [first] = (await within(data, 5000, 'the first bytes')) as [Buffer];
  t.equal(first.toString(), 'first bytes from the target', 'handed over paused, nothing lost');
});

t.test('connect() through SOCKS5: what the CONNECT carries, and every way a local lookup can fail', async (t) => {
  /** A SOCKS server that grants every CONNECT and records its bytes. */
  const recording = async (): Promise<{ port: number; requests: Buffer[] }> => {
    const requests: Buffer[] = [];
    const port = await hostileSocks(t, (socket, chunk, turn) => {
      if (turn === 0) return void socket.write(write(5, 0));
      requests.push(chunk);
      socket.write(write(5, 0, 0, 1, 127, 0, 0, 1, 0, 9));
    });
    return { port, requests };
  };
  const open = async (url: string, options: Record<string, unknown>): Promise<void> => {
    const transport = resolveTransport(options);
    const attempt = new ConnectionAttempt(transport);
    const socket = await within(connect(new URL(url), transport, attempt), 5000, 'the tunnel');
    attempt.finish();
    socket.destroy();
  };
  const settle = async (url: string, options: Record<string, unknown>): Promise<Error> => {
    const transport = resolveTransport(options);
    const attempt = new ConnectionAttempt(transport);
    t.teardown(() => attempt.finish());
    return within(
      connect(new URL(url), transport, attempt).then(
        (socket) => {
          socket.destroy();
          return new Error('connected, which it should not have');
        },
        (error: Error) => error,
      ),
      5000,
      'connect() to settle',
    );
  };

  const server = await recording();
  await open('ws://example.test:8080/', { proxy: `socks5h://127.0.0.1:${server.port}` });
  t.same(
    server.requests.at(-1),
    Buffer.concat([write(5, 1, 0, 3, 12), Buffer.from('example.test'), write(0x1f, 0x90)]),
    'socks5h: ATYP 3 and the name',
  );
  const lookup = (_host: string, _options: unknown, callback: (...args: unknown[]) => void): void =>
    callback(null, [{ address: '::1', family: 6 }]);
  await open('ws://example.test:8080/', { proxy: `socks5://127.0.0.1:${server.port}`, net: { lookup } });
  t.same(
    server.requests.at(-1),
    Buffer.concat([write(5, 1, 0, 4), Buffer.alloc(15), write(1, 0x1f, 0x90)]),
    'socks5: ATYP 4 and the address the lookup gave (an `all` answer takes its first)',
  );
  await open('ws://[::1]:8080/', { proxy: `socks5h://127.0.0.1:${server.port}` });
  t.equal(server.requests.at(-1)?.[3], 4, 'an IPv6 literal goes as an address even with socks5h');

  const proxy = `socks5://127.0.0.1:${server.port}`;
  const cases: Array<[string, unknown, RegExp]> = [
    [
      'a lookup that throws',
      () => {
        throw new Error('boom');
      },
      /^Could not resolve example\.test to ask SOCKS5 proxy 127\.0\.0\.1:\d+ for it: boom \(socks5:\/\/ resolves names here/,
    ],
    [
      'a lookup that answers no address',
      (_h: string, _o: unknown, callback: (...args: unknown[]) => void) => callback(null, 'not an address', 4),
      /for it: the lookup gave no IP address \(not an address\)/,
    ],
    [
      'an empty answer',
      (_h: string, _o: unknown, callback: (...args: unknown[]) => void) => callback(null, []),
      /for it: the lookup gave no IP address \(undefined\)/,
    ],
  ];
  for (const [name, badLookup, message] of cases) {
    t.match((await settle('ws://example.test/', { proxy, net: { lookup: badLookup } })).message, message, name);
  }
  const never = await settle('ws://example.test/', { proxy, handshakeTimeout: 200, net: { lookup: () => {} } });
  t.match(
    never,
    { name: 'TimeoutError', message: /took longer than 200 ms \(handshakeTimeout\)/ },
    'a lookup that never answers',
  );
  const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.test`;
  t.match(
    (await settle(`ws://${long}/`, { proxy: `socks5h://127.0.0.1:${server.port}` })).message,
    /^Cannot ask SOCKS5 proxy 127\.0\.0\.1:\d+ for a+\.b+\.c+\.d+\.e+\.test:80: A host name sent to a SOCKS5 proxy is 1 to 255 bytes \(RFC 1928 §5\), not 309$/,
  );
  t.equal(server.requests.length, 3, 'none of the failures reached the proxy with a CONNECT');
});
