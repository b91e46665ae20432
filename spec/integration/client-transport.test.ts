// WebSocket.Client over TLS and through HTTP proxies: a certificate authority
// made with openssl, Debian's tinyproxy, and a CONNECT proxy written here.

import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import {
  Client,
  type CloseEvent,
  type ErrorEvent,
  EventSource,
  EventSourceClient,
  WebSocket,
} from '../../src/index.js';
import { listen } from '../helpers/listen.js';
import { freePort, startConnectProxy, startTinyproxy } from '../helpers/proxies.js';
import { requirePeer } from '../helpers/require-peer.js';
import { isoPeer, wsPeer } from '../helpers/servers.js';
import { certificates } from '../helpers/tls.js';
import { next, trace } from '../helpers/trace.js';

const FAILED = ['error@3', 'close:1006@3'];

async function echoes(t: Test, ws: Client): Promise<void> {
  await next(ws, 'open');
  ws.send('through');
  t.equal((await next<MessageEvent>(ws, 'message')).data, 'through');
  ws.close();
  await next(ws, 'close');
}

t.test('WebSocket.Client transport', async (t) => {
  t.test('TLS', async (t) => {
    if (!requirePeer(t, 'openssl', 'openssl')) return;
    const { ca, key, cert } = certificates();

    t.test('verifies certificates by default: an unknown CA fails the connection', async (t) => {
      const peer = await isoPeer(t, { tls: { key, cert } });
      const ws = new Client(peer.url);
      const events = trace(ws);
      const error = next<ErrorEvent>(ws, 'error');
      await next(ws, 'close');
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
      await next(ws, 'close');
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
      t.equal((await next<MessageEvent>(source, 'message')).data, 'over TLS');
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
      const error = await next<ErrorEvent>(unverified, 'error');
      unverified.close();
      t.match(error.message, /certificate/i);
      const verified = new EventSourceClient(url, { ca });
      t.teardown(() => verified.close());
      t.equal((await next<MessageEvent>(verified, 'message')).data, 'secure');
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
      const peer = await wsPeer(t);
      await echoes(t, new Client(peer.url, [], { proxy: { origin: proxy.origin } }));
      t.match(proxy.log(), /CONNECT/);
    });

    t.test('wss: with TLS inside the tunnel, verified against the target', async (t) => {
      const proxy = await startTinyproxy(t);
      const peer = await isoPeer(t, { tls: { key, cert } });
      await echoes(t, new Client(`wss://localhost:${peer.port}/`, [], { ca, proxy: { origin: proxy.origin } }));
    });

    t.test('wss: through the proxy still refuses an unknown CA', async (t) => {
      const proxy = await startTinyproxy(t);
      const peer = await isoPeer(t, { tls: { key, cert } });
      const ws = new Client(peer.url, [], { proxy: { origin: proxy.origin } });
      const events = trace(ws);
      await next(ws, 'close');
      t.same(events, FAILED);
    });
  });

  t.test('through a CONNECT proxy with authentication', async (t) => {
    t.test('407 without credentials, naming the status line', async (t) => {
      const proxy = await startConnectProxy(t, { credentials: 'user:secret' });
      const peer = await wsPeer(t);
      const ws = new Client(peer.url, [], { proxy: { origin: proxy.origin } });
      const events = trace(ws);
      const error = next<ErrorEvent>(ws, 'error');
      const close = await next<CloseEvent>(ws, 'close');
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
    await next(unverified, 'close');
    t.same(events, FAILED, 'the proxy certificate is verified too');
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
        const error = next<ErrorEvent>(ws, 'error');
        await next(ws, 'close');
        t.same(events, FAILED);
        t.match((await error).message, pattern);
      });
    }

    t.test('that is not there: connection refused', async (t) => {
      const ws = new Client('ws://127.0.0.1:9/', [], { proxy: { origin: `http://127.0.0.1:${await freePort()}` } });
      const events = trace(ws);
      await next(ws, 'close');
      t.same(events, FAILED);
    });
  });

  t.test("proxy: 'env' reads HTTP_PROXY and honours NO_PROXY", async (t) => {
    const proxy = await startConnectProxy(t);
    const peer = await wsPeer(t);
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    t.teardown(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    process.env.HTTP_PROXY = proxy.origin;
    delete process.env.NO_PROXY;
    await echoes(t, new Client(peer.url, [], { proxy: 'env' }));
    t.equal(proxy.requests.length, 1, 'went through the proxy');

    process.env.NO_PROXY = '127.0.0.1';
    await echoes(t, new Client(peer.url, [], { proxy: 'env' }));
    t.equal(proxy.requests.length, 1, 'NO_PROXY went direct');

    delete process.env.NO_PROXY;
    await echoes(t, new Client(peer.url));
    t.equal(proxy.requests.length, 1, 'without the option the environment is ignored');
  });
});
