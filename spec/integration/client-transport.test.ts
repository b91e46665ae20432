// The client transport (WebSocket.Client, EventSource.Client and connect()) over
// TLS and through HTTP proxies, with deadlines: a certificate authority
// made with openssl, Debian's tinyproxy, and a CONNECT proxy written here.

import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import {
  Client,
  type CloseEvent,
  type ErrorEvent,
  EventSource,
  EventSourceClient,
  type EventSourceErrorEvent,
  WebSocket,
} from '../../src/index.js';
import { resolveTransport } from '../../src/net/options.js';
import { ConnectionAttempt, connect, MAX_PROXY_RESPONSE_HEAD } from '../../src/net/transport.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { freePort, listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { startConnectProxy, startTinyproxy } from '../helpers/proxies.js';
import { requirePeer } from '../helpers/require-peer.js';
import { isoPeer, wsPeer } from '../helpers/servers.js';
import { certificates } from '../helpers/tls.js';
import { trace } from '../helpers/trace.js';

const FAILED = ['error@3', 'close:1006@3'];

async function echoes(t: Test, ws: Client): Promise<void> {
  await nextWithin(ws, 'open');
  ws.send('through');
  t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, 'through');
  ws.close();
  await nextWithin(ws, 'close');
}

t.test('WebSocket.Client transport', async (t) => {
  t.test('TLS', async (t) => {
    if (!requirePeer(t, 'openssl', 'openssl')) return;
    const { ca, key, cert } = certificates();

    t.test('verifies certificates by default: an unknown CA fails the connection', async (t) => {
      const peer = await isoPeer(t, { tls: { key, cert } });
      const ws = new Client(peer.url);
      const events = trace(ws);
      const error = nextWithin<ErrorEvent>(ws, 'error');
      await nextWithin(ws, 'close');
      t.same(events, FAILED);
      t.match((await error).message, /certificate/i);
    });

    t.test('connects with the ca shorthand', async (t) => {
      const peer = await isoPeer(t, { tls: { key, cert } });
      await echoes(t, new Client(peer.url, [], { ca }));
    });

    t.test('connects with tls.ca, to a ws server, by host name', async (t) => {
      const peer = await wsPeer(t, { tls: { key, cert } });
      await echoes(t, new Client(`wss://localhost:${peer.port}/`, [], { tls: { ca } }));
    });

    t.test('checks the host name against the certificate', async (t) => {
      const peer = await isoPeer(t, { tls: { key, cert } });
      const ws = new Client(peer.url, [], { tls: { ca, servername: 'wrong.example' } });
      const events = trace(ws);
      await nextWithin(ws, 'close');
      t.same(events, FAILED);
    });

    t.test('the EventSource endpoint serves over https, with an https: url', async (t) => {
      const urls: string[] = [];
      const server = https.createServer({ key, cert }, (request, response) => {
        const es = new EventSource(request, response, { ping: 0 });
        urls.push(es.url);
        es.send('over TLS');
      });
      const port = await listen(t, server);
      const source = new EventSourceClient(`https://localhost:${port}/secure`, { ca });
      t.teardown(() => source.close());
      t.equal((await nextWithin<MessageEvent>(source, 'message')).data, 'over TLS');
      t.same(urls, [`https://localhost:${port}/secure`]);
    });

    t.test('EventSource.Client verifies certificates by default too, and connects with ca', async (t) => {
      const server = https.createServer({ key, cert }, (_request, response) => {
        response.writeHead(200, { 'Content-Type': 'text/event-stream' });
        response.write('data: secure\n\n');
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      t.teardown(() => server.closeAllConnections());
      t.teardown(() => server.close());
      const url = `https://localhost:${(server.address() as AddressInfo).port}/`;
      const unverified = new EventSourceClient(url);
      const error = await nextWithin<ErrorEvent>(unverified, 'error');
      unverified.close();
      t.match(error.message, /certificate/i);
      const verified = new EventSourceClient(url, { ca });
      t.teardown(() => verified.close());
      t.equal((await nextWithin<MessageEvent>(verified, 'message')).data, 'secure');
    });

    t.test('rejectUnauthorized: false turns verification off when asked', async (t) => {
      const peer = await isoPeer(t, { tls: { key, cert } });
      await echoes(t, new Client(peer.url, [], { tls: { rejectUnauthorized: false } }));
    });
  });

  t.test('through tinyproxy', async (t) => {
    if (!requirePeer(t, 'tinyproxy', 'tinyproxy') || !requirePeer(t, 'openssl', 'openssl')) return;
    const { ca, key, cert } = certificates();

    t.test('ws: through CONNECT', async (t) => {
      const proxy = await startTinyproxy(t);
      if (!proxy) return;
      const peer = await wsPeer(t);
      await echoes(t, new Client(peer.url, [], { proxy: { origin: proxy.origin } }));
      t.match(proxy.log(), /CONNECT/);
    });

    t.test('wss: with TLS inside the tunnel, verified against the target', async (t) => {
      const proxy = await startTinyproxy(t);
      if (!proxy) return;
      const peer = await isoPeer(t, { tls: { key, cert } });
      await echoes(t, new Client(`wss://localhost:${peer.port}/`, [], { ca, proxy: { origin: proxy.origin } }));
    });

    t.test('wss: through the proxy still refuses an unknown CA', async (t) => {
      const proxy = await startTinyproxy(t);
      if (!proxy) return;
      const peer = await isoPeer(t, { tls: { key, cert } });
      const ws = new Client(peer.url, [], { proxy: { origin: proxy.origin } });
      const events = trace(ws);
      await nextWithin(ws, 'close');
      t.same(events, FAILED);
    });
  });

  t.test('through a CONNECT proxy with authentication', async (t) => {
    t.test('407 without credentials, naming the status line', async (t) => {
      const proxy = await startConnectProxy(t, { credentials: 'user:secret' });
      const peer = await wsPeer(t);
      const ws = new Client(peer.url, [], { proxy: { origin: proxy.origin } });
      const events = trace(ws);
      const error = nextWithin<ErrorEvent>(ws, 'error');
      const close = await nextWithin<CloseEvent>(ws, 'close');
      t.same(events, FAILED);
      t.equal(close.wasClean, false);
      t.match((await error).message, /Proxy refused CONNECT to 127\.0\.0\.1:\d+: 407 Proxy Authentication Required/);
    });

    t.test('connects with credentials in the origin, sent to the proxy only', async (t) => {
      const proxy = await startConnectProxy(t, { credentials: 'user:p@ss word' });
      const peer = await isoPeer(t);
      const ws = new Client(peer.url, [], {
        proxy: {
          origin: `http://user:${encodeURIComponent('p@ss word')}@${proxy.origin.slice(7)}`,
          headers: { 'X-Via': 'test' },
        },
      });
      await echoes(t, ws);
      const upgradeHead = proxy.requests.join('\n');
      t.match(upgradeHead, /Proxy-Authorization: Basic /);
      t.match(upgradeHead, /X-Via: test/);
      t.equal(proxy.requests.length, 1);
    });

    t.test('never sends Proxy-Authorization to the target', async (t) => {
      const proxy = await startConnectProxy(t, { credentials: 'u:p' });
      const server = http.createServer();
      const seen: http.IncomingHttpHeaders[] = [];
      server.on('upgrade', (request, socket, head) => {
        seen.push(request.headers);
        const ws = new WebSocket(request, socket, head);
        ws.pipe(ws);
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      t.teardown(() => server.close());
      const { port } = server.address() as AddressInfo;
      await echoes(
        t,
        new Client(`ws://127.0.0.1:${port}/`, [], { proxy: { origin: `http://u:p@${proxy.origin.slice(7)}` } }),
      );
      t.equal(seen.length, 1);
      t.notOk(seen[0]?.['proxy-authorization'], 'the target saw no Proxy-Authorization');
      t.notOk(seen[0]?.authorization, 'nor an Authorization made from the proxy credentials');
      t.match(proxy.requests[0] ?? '', /Proxy-Authorization: Basic dTpw/);
    });
  });

  t.test('an https: proxy origin means TLS to the proxy, verified with proxy.tls', async (t) => {
    if (!requirePeer(t, 'openssl', 'openssl')) return;
    const { ca, key, cert } = certificates();
    const proxy = await startConnectProxy(t, { tls: { key, cert } });
    const peer = await wsPeer(t);
    await echoes(t, new Client(peer.url, [], { proxy: { origin: proxy.origin, tls: { ca } } }));
    t.equal(proxy.requests.length, 1);
    const unverified = new Client(peer.url, [], { proxy: { origin: proxy.origin } });
    const events = trace(unverified);
    const error = nextWithin<ErrorEvent>(unverified, 'error');
    await nextWithin(unverified, 'close');
    t.same(events, FAILED, 'the proxy certificate is verified too');
    t.match((await error).message, /Could not connect to proxy 127\.0\.0\.1:\d+: .*certificate.* \([A-Z_]+\)$/);
  });

  t.test('net options reach net.connect (localAddress)', async (t) => {
    const server = http.createServer();
    const addresses: string[] = [];
    server.on('upgrade', (request, socket, head) => {
      addresses.push(String((socket as import('node:net').Socket).remoteAddress));
      const ws = new WebSocket(request, socket, head);
      ws.pipe(ws);
    });
    const port = await listen(t, server);
    await echoes(t, new Client(`ws://127.0.0.1:${port}/`, [], { net: { localAddress: '127.0.0.7' } }));
    t.same(addresses, ['127.0.0.7']);
  });

  t.test('a proxy that refuses', async (t) => {
    for (const [refuse, pattern] of [
      ['403 Forbidden', /403 Forbidden/],
      ['502 Bad Gateway', /502 Bad Gateway/],
      ['close', /closed the connection before answering CONNECT/],
    ] as const) {
      t.test(`with ${refuse}: error then close 1006, naming the reason`, async (t) => {
        const proxy = await startConnectProxy(t, { refuse });
        const ws = new Client('ws://127.0.0.1:9/', [], { proxy: { origin: proxy.origin } });
        const events = trace(ws);
        const error = nextWithin<ErrorEvent>(ws, 'error');
        await nextWithin(ws, 'close');
        t.same(events, FAILED);
        t.match((await error).message, pattern);
      });
    }

    t.test('with a long reason phrase: the message quotes 200 characters of it', async (t) => {
      const proxy = await startConnectProxy(t, { refuse: `403 ${'x'.repeat(1000)}` });
      const ws = new Client('ws://127.0.0.1:9/', [], { proxy: { origin: proxy.origin } });
      const error = nextWithin<ErrorEvent>(ws, 'error');
      await nextWithin(ws, 'close');
      t.match((await error).message, /Proxy refused CONNECT to 127\.0\.0\.1:9: 403 x{196}…$/);
    });

    t.test('that is not there: the message says the proxy could not be reached', async (t) => {
      const port = await freePort();
      const ws = new Client('ws://127.0.0.1:9/', [], { proxy: { origin: `http://127.0.0.1:${port}` } });
      const events = trace(ws);
      const error = nextWithin<ErrorEvent>(ws, 'error');
      await nextWithin(ws, 'close');
      t.same(events, FAILED);
      t.match((await error).message, `Could not connect to proxy 127.0.0.1:${port}: ECONNREFUSED`);
    });

    t.test('EventSource.Client says "proxy" too, and treats it as a network error (reconnects)', async (t) => {
      const refusing = await startConnectProxy(t, { credentials: 'u:p' });
      const refused = new EventSourceClient('http://127.0.0.1:9/', { proxy: { origin: refusing.origin } });
      t.teardown(() => refused.close());
      const first = await nextWithin<EventSourceErrorEvent>(refused, 'error');
      t.match(
        first.message,
        /Proxy refused CONNECT to 127\.0\.0\.1:9: 407 Proxy Authentication Required \(check the proxy origin's user:password\)/,
      );
      t.equal(refused.readyState, EventSourceClient.CONNECTING);
      t.equal(first.status, undefined, "the proxy's 407 is not the target's status");

      const port = await freePort();
      const down = new EventSourceClient('http://127.0.0.1:9/', { proxy: { origin: `http://127.0.0.1:${port}` } });
      t.teardown(() => down.close());
      t.match(
        (await nextWithin<ErrorEvent>(down, 'error')).message,
        `Could not connect to proxy 127.0.0.1:${port}: ECONNREFUSED`,
      );
    });
  });

  t.test(`a proxy's answer to CONNECT is read up to ${MAX_PROXY_RESPONSE_HEAD} bytes`, async (t) => {
    t.test('a head of exactly 16 KiB is read, and the tunnel works', async (t) => {
      const proxy = await paddedProxy(t, MAX_PROXY_RESPONSE_HEAD, true);
      const peer = await isoPeer(t);
      await echoes(t, new Client(peer.url, [], { proxy: { origin: proxy } }));
    });

    for (const [name, size, complete] of [
      ['one byte more', MAX_PROXY_RESPONSE_HEAD + 1, true],
      ['a head that never ends', 4 * MAX_PROXY_RESPONSE_HEAD, false],
    ] as const) {
      t.test(`${name} fails the connection at once, naming the proxy`, async (t) => {
        const proxy = await paddedProxy(t, size, complete);
        const peer = await isoPeer(t);
        const ws = new Client(peer.url, [], { proxy: { origin: proxy } });
        const events = trace(ws);
        const error = nextWithin<ErrorEvent>(ws, 'error');
        await nextWithin(ws, 'close');
        t.same(events, FAILED);
        const message = (await error).message;
        t.match(message, /Proxy 127\.0\.0\.1:\d+ sent a response head over 16384 bytes to CONNECT/, message);
      });
    }
  });

  t.test("proxy: 'env' reads both cases of the variables; lower case wins; NO_PROXY; opt-in", async (t) => {
    const proxy = await startConnectProxy(t);
    const peer = await wsPeer(t);
    const names = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    t.teardown(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    // Whatever this machine has set, in either case, is cleared first.
    for (const name of names) delete process.env[name];

    process.env.HTTP_PROXY = proxy.origin;
    await echoes(t, new Client(peer.url, [], { proxy: 'env' }));
    t.equal(proxy.requests.length, 1, 'HTTP_PROXY: went through the proxy');

    process.env.no_proxy = '127.0.0.1';
    await echoes(t, new Client(peer.url, [], { proxy: 'env' }));
    t.equal(proxy.requests.length, 1, 'no_proxy: went direct');
    delete process.env.no_proxy;

    process.env.HTTP_PROXY = `http://127.0.0.1:${await freePort()}`;
    process.env.http_proxy = proxy.origin.replace('http://', '');
    await echoes(t, new Client(peer.url, [], { proxy: 'env' }));
    t.equal(proxy.requests.length, 2, 'http_proxy (without a scheme) won over HTTP_PROXY');

    await echoes(t, new Client(peer.url));
    t.equal(proxy.requests.length, 2, 'without the option the environment is ignored');

    process.env.http_proxy = 'http://[';
    const ws = new Client(peer.url, [], { proxy: 'env' });
    const error = nextWithin<ErrorEvent>(ws, 'error');
    await nextWithin(ws, 'close');
    t.match((await error).message, /HTTP_PROXY is not a valid URL: http:\/\/\[/);

    process.env.https_proxy = 'socks4://127.0.0.1:1080';
    const secure = new Client('wss://127.0.0.1:9/', [], { proxy: 'env' });
    const secureError = nextWithin<ErrorEvent>(secure, 'error');
    await nextWithin(secure, 'close');
    t.match((await secureError).message, /HTTPS_PROXY must be an http:, https:, socks5: or socks5h: URL, not socks4:/);
  });
});

t.test("faye-websocket's client usage: { proxy: { origin, tls }, tls } with origin undefined or set", async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;
  const { ca, key, cert } = certificates();
  // faye-websocket's spec/faye/websocket/client_spec.js opens every socket
  // this way, with proxy_url undefined when the spec runs without a proxy.
  const tlsOptions = { ca };
  for (const proxied of ['no proxy', 'a proxy', 'a secure proxy'] as const) {
    for (const secure of [false, true]) {
      t.test(
        `${proxied}, a ${secure ? 'secure' : 'plain-text'} server: opens with 101, picks echo, echoes`,
        async (t) => {
          const peer = await wsPeer(t, { protocols: ['echo'], ...(secure ? { tls: { key, cert } } : {}) });
          const proxy =
            proxied === 'no proxy'
              ? undefined
              : await startConnectProxy(t, proxied === 'a secure proxy' ? { tls: { key, cert } } : {});
          const ws = new WebSocket.Client(`${secure ? 'wss' : 'ws'}://localhost:${peer.port}/bayeux`, ['foo', 'echo'], {
            proxy: { origin: proxy?.origin, tls: tlsOptions },
            tls: tlsOptions,
          });
          await nextWithin(ws, 'open');
          t.equal(ws.statusCode, 101);
          t.equal(ws.protocol, 'echo');
          ws.send('I expect this to be echoed');
          t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, 'I expect this to be echoed');
          ws.close();
          await nextWithin(ws, 'close');
          t.equal(proxy?.requests.length ?? 0, proxied === 'no proxy' ? 0 : 1);
        },
      );
    }
  }

  t.test('every proxy shape faye treats as none connects directly', async (t) => {
    const peer = await isoPeer(t);
    const shapes = [undefined, null, false, '', {}, { origin: undefined }, { origin: null }, { origin: '' }] as const;
    for (const proxy of shapes) {
      await echoes(t, new Client(peer.url, [], { proxy }));
    }
    await echoes(t, new Client(peer.url, [], { proxy: { origin: undefined, tls: { ca: 'not even a certificate' } } }));
  });
});

t.test('net applies to every transport', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;
  const { ca, key, cert } = certificates();

  t.test('a direct wss: connection, with localAddress and family', async (t) => {
    const server = https.createServer({ key, cert });
    const addresses: string[] = [];
    server.on('upgrade', (request, socket, head) => {
      addresses.push(String(request.socket.remoteAddress));
      const ws = new WebSocket(request, socket, head);
      ws.pipe(ws);
    });
    const port = await listen(t, server);
    await echoes(t, new Client(`wss://localhost:${port}/`, [], { ca, net: { localAddress: '127.0.0.2', family: 4 } }));
    t.same(addresses, ['127.0.0.2']);
  });

  t.test('the connection to an https: proxy, and to a plain one', async (t) => {
    const peer = await wsPeer(t);
    const secureProxy = await startConnectProxy(t, { tls: { key, cert } });
    await echoes(
      t,
      new Client(peer.url, [], {
        proxy: { origin: secureProxy.origin, tls: { ca } },
        net: { localAddress: '127.0.0.3' },
      }),
    );
    t.same(secureProxy.peers, ['127.0.0.3']);
    const plainProxy = await startConnectProxy(t);
    await echoes(
      t,
      new Client(peer.url, [], { proxy: { origin: plainProxy.origin }, net: { localAddress: '127.0.0.4' } }),
    );
    t.same(plainProxy.peers, ['127.0.0.4']);
  });

  t.test('EventSource.Client over https:', async (t) => {
    const addresses: string[] = [];
    const server = https.createServer({ key, cert }, (request, response) => {
      addresses.push(String(request.socket.remoteAddress));
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write('data: hello\n\n');
    });
    const port = await listen(t, server);
    const source = new EventSourceClient(`https://127.0.0.1:${port}/`, { ca, net: { localAddress: '127.0.0.5' } });
    t.teardown(() => source.close());
    t.equal((await nextWithin<MessageEvent>(source, 'message')).data, 'hello');
    t.same(addresses, ['127.0.0.5']);
  });
});

t.test('connect() within a ConnectionAttempt: handshakeTimeout and signal', async (t) => {
  const failure = (promise: Promise<unknown>): Promise<Error> =>
    within(
      promise.then(
        () => new Error('connected, which it should not have'),
        (error: Error) => error,
      ),
      5000,
      'connect() to settle',
    );

  t.test('a server that accepts TCP and never answers TLS: a TimeoutError naming handshakeTimeout', async (t) => {
    const silent = await silentServer(t);
    const transport = resolveTransport({ handshakeTimeout: 200 });
    const started = Date.now();
    const error = await failure(connect(new URL(silent.secureUrl), transport, new ConnectionAttempt(transport)));
    t.comment(`failed after ${Date.now() - started} ms`);
    t.match(error, {
      name: 'TimeoutError',
      message: 'The opening handshake took longer than 200 ms (handshakeTimeout)',
    });
    await until(() => silent.closed === 1);
    t.equal(silent.connections, 1);
  });

  t.test('a proxy that accepts and never answers CONNECT: the message names the proxy', async (t) => {
    const silent = await silentServer(t);
    const transport = resolveTransport({ handshakeTimeout: 200, proxy: { origin: `http://127.0.0.1:${silent.port}` } });
    const error = await failure(connect(new URL('ws://127.0.0.1:9/'), transport, new ConnectionAttempt(transport)));
    t.equal(
      error.message,
      `Proxy 127.0.0.1:${silent.port} did not answer CONNECT to 127.0.0.1:9: The opening handshake took longer than 200 ms (handshakeTimeout)`,
    );
    await until(() => silent.closed === 1);
  });

  t.test("the application's signal abandons the attempt with its reason and closes the socket", async (t) => {
    const silent = await silentServer(t);
    const controller = new AbortController();
    const transport = resolveTransport({ signal: controller.signal, handshakeTimeout: 0 });
    const pending = failure(connect(new URL(silent.secureUrl), transport, new ConnectionAttempt(transport)));
    await until(() => silent.connections === 1);
    const reason = new Error('the user gave up');
    controller.abort(reason);
    t.equal(await pending, reason);
    await until(() => silent.closed === 1);
  });

  t.test('an attempt aborted before connect() makes no connection', async (t) => {
    const silent = await silentServer(t);
    const transport = resolveTransport({});
    const attempt = new ConnectionAttempt(transport);
    attempt.abort('never mind');
    const error = await failure(connect(new URL(silent.secureUrl), transport, attempt));
    t.match(error, { name: 'AbortError', message: 'never mind' });
    const controlAttempt = new ConnectionAttempt(transport);
    const control = await within(
      connect(new URL(`ws://127.0.0.1:${silent.port}/`), transport, controlAttempt),
      5000,
      'the control connection',
    );
    controlAttempt.finish();
    control.destroy();
    // The control connected, so an aborted attempt that had connected would be counted by now.
    await t.resolves(
      until(() => silent.connections >= 1),
      'the control connected',
    );
    t.equal(silent.connections, 1, 'only the control connected: the aborted attempt never did');
  });

  t.test("a proxy's answer in pieces, with the target's first bytes in the same packet", async (t) => {
    const server = net.createServer((client) => {
      client.on('error', () => {});
      client.once('data', () => {
        client.write('HTTP/1.1 200 Connection');
        setTimeout(() => client.write(' Established\r\n\r\nfirst bytes from the target'), 20);
      });
    });
    const port = await listen(t, server);
    const transport = resolveTransport({ proxy: { origin: `http://127.0.0.1:${port}` } });
    const attempt = new ConnectionAttempt(transport);
    t.teardown(() => attempt.finish());
    const socket = await within(connect(new URL('ws://127.0.0.1:9/'), transport, attempt), 5000, 'the tunnel');
    t.teardown(() => socket.destroy());
    // The tunnel is handed over paused: nothing is lost before the caller listens.
    const data = once(socket, 'data');
    socket.resume();
    const [first] = (await within(data, 5000, 'the first bytes')) as [Buffer];
    t.equal(first.toString(), 'first bytes from the target');
  });

  t.test('an IPv6 target through a proxy: CONNECT [::1]:port', async (t) => {
    const proxy = await startConnectProxy(t);
    const server = http.createServer();
    server.on('upgrade', (request, socket, head) => {
      const ws = new WebSocket(request, socket, head);
      ws.pipe(ws);
    });
    server.listen(0, '::1');
    await within(once(server, 'listening'), 5000, 'listening on ::1');
    t.teardown(() => server.close());
    const { port } = server.address() as AddressInfo;
    await echoes(t, new Client(`ws://[::1]:${port}/`, [], { proxy: { origin: proxy.origin } }));
    t.match(proxy.requests[0] ?? '', new RegExp(`^CONNECT \\[::1\\]:${port} HTTP/1\\.1\r\nHost: \\[::1\\]:${port}$`));
  });

  t.test('the deadline runs on past the connection until finish()', async (t) => {
    const silent = await silentServer(t);
    const transport = resolveTransport({ handshakeTimeout: 200 });
    const attempt = new ConnectionAttempt(transport);
    const socket = await within(
      connect(new URL(`ws://127.0.0.1:${silent.port}/`), transport, attempt),
      5000,
      'connect',
    );
    t.teardown(() => socket.destroy());
    t.equal(attempt.signal.aborted, false, 'connected in time');
    await within(new Promise((resolve) => attempt.signal.addEventListener('abort', resolve)), 5000, 'the deadline');
    t.equal(attempt.timedOut, true, 'the caller, still waiting for its response, is told');
  });
});

/** A TCP server that accepts connections and never sends a byte. */
async function silentServer(
  t: Test,
): Promise<{ port: number; secureUrl: string; readonly connections: number; readonly closed: number }> {
  const counts = { connections: 0, closed: 0 };
  const server = net.createServer((socket) => {
    counts.connections++;
    socket.resume(); // reads and drops what the client sends, so its FIN is seen
    socket.on('error', () => {});
    socket.on('close', () => counts.closed++);
  });
  const port = await listen(t, server);
  return {
    port,
    secureUrl: `wss://127.0.0.1:${port}/`,
    get connections() {
      return counts.connections;
    },
    get closed() {
      return counts.closed;
    },
  };
}

/**
 * A CONNECT proxy whose answer head is `size` bytes: a complete 200 padded
 * with a header (then the tunnel works), or that many bytes with no end.
 */
async function paddedProxy(t: Test, size: number, complete: boolean): Promise<string> {
  const server = net.createServer((client) => {
    client.on('error', () => {});
    let head = '';
    const ondata = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', ondata);
      if (!complete) {
        client.write(`HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(size)}`);
        return;
      }
      const authority = head.split(' ')[1] ?? '';
      const colon = authority.lastIndexOf(':');
      const upstream = net.connect(Number(authority.slice(colon + 1)), authority.slice(0, colon));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('connect', () => {
        const start = 'HTTP/1.1 200 Connection Established\r\nX-Pad: ';
        const answer = `${start}${'a'.repeat(size - start.length - 4)}\r\n\r\n`;
        if (Buffer.byteLength(answer) !== size) throw new Error('padding miscounted');
        client.write(answer);
        client.pipe(upstream);
        upstream.pipe(client);
      });
    };
    client.on('data', ondata);
  });
  return `http://127.0.0.1:${await listen(t, server)}`;
}
