// Every example the README names runs with one command and does what it says,
// so that none of them rots. Each runs as its own process against the built
// package, imported by name.

import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import WS from 'ws';
import { Client, WebSocket } from '../../src/index.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { startConnectProxy } from '../helpers/proxies.js';
import { connectRaw, handshake } from '../helpers/raw.js';
import { requirePeer } from '../helpers/require-peer.js';
import { startNginx } from '../helpers/services.js';
import { run } from '../helpers/spawn.js';
import { certificates } from '../helpers/tls.js';

async function echo(url: string, message: string): Promise<string> {
  const client = new WS(url);
  await once(client, 'open');
  client.send(message);
  const [data] = await once(client, 'message');
  client.close();
  return String(data);
}

/** The first message a `ws` client receives from `url`. */
async function firstMessage(t: Test, url: string, options: WS.ClientOptions = {}): Promise<string> {
  const client = new WS(url, options);
  t.teardown(() => client.terminate());
  const [data] = await once(client, 'message');
  return String(data);
}

/** Whether a TCP connection to the address is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

t.test('examples', async (t) => {
  t.test('echo-server.mjs echoes over WebSocket, ticks over SSE and serves a page', async (t) => {
    const server = run(t, 'examples/echo-server.mjs', [], { PORT: '0' });
    const [, port] = await server.waitFor(/localhost:(\d+)/);
    t.equal(await echo(`ws://127.0.0.1:${port}/echo`, 'hi'), 'hi');
    const page = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
    t.match(page, /new WebSocket\(/);
    t.match(page, /new EventSource\(/);
  });

  t.test('browser-client.mjs runs browser code unchanged against the echo server', async (t) => {
    const server = run(t, 'examples/echo-server.mjs', [], { PORT: '0' });
    const [, port] = await server.waitFor(/localhost:(\d+)/);
    const client = run(t, 'examples/browser-client.mjs', [
      `ws://127.0.0.1:${port}/echo`,
      `http://127.0.0.1:${port}/clock`,
    ]);
    t.equal(await client.exited, 0, client.output());
    t.match(client.output(), /message Hello, world!\nmessage 3 bytes\nclose 1000 done true\ntick \d{4}-/);
  });

  t.test("faye-migration.cjs: faye's README server examples run unchanged against isosocket", async (t) => {
    const server = run(t, 'examples/faye-migration.cjs', [], { PORT: '0' });
    const [, port] = await server.waitFor(/listening on (\d+)/);
    t.equal(await echo(`ws://127.0.0.1:${port}/`, 'faye'), 'faye');
    // ws's close() sends a close frame without a code: RFC 6455 §7.1.5 says 1005.
    await server.waitFor(/close 1005/);
    t.equal(await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()), 'Hello');
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { Accept: 'text/event-stream' } });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('data: Hello')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    t.match(text, /data: Hello\n\n/);
    await server.waitFor(/open http:\/\/127\.0\.0\.1:\d+\/ /);
  });

  t.test("faye-pipe.cjs: ws.pipe(ws) echoes and ping's callback fires", async (t) => {
    const server = run(t, 'examples/faye-pipe.cjs', [], { PORT: '0' });
    const [, port] = await server.waitFor(/listening on (\d+)/);
    t.equal(await echo(`ws://127.0.0.1:${port}/`, 'piped'), 'piped');
    await server.waitFor(/pong/);
  });

  t.test('client-tls-proxy.mjs connects over TLS with a CA file, through a proxy with credentials', async (t) => {
    if (!requirePeer(t, 'openssl', 'openssl')) return;
    const { ca, key, cert } = certificates();
    const dir = mkdtempSync(join(tmpdir(), 'isosocket-example-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'ca.pem'), ca);
    const server = https.createServer({ key, cert });
    server.on('upgrade', (request, socket, head) => {
      const ws = new WebSocket(request, socket, head);
      ws.onmessage = (event) => ws.send(`echo: ${event.data}`);
    });
    const port = await listen(t, server);
    const proxy = await startConnectProxy(t, { credentials: 'user:pass' });
    const client = run(t, 'examples/client-tls-proxy.mjs', [`wss://localhost:${port}/`], {
      CA: join(dir, 'ca.pem'),
      PROXY: `http://user:pass@${proxy.origin.slice(7)}`,
    });
    t.equal(await client.exited, 0, client.output());
    // close() without a code: the server echoes an empty close frame, reported as 1005.
    t.match(client.output(), /open 101 accepted\nmessage echo: over TLS\nclose 1005 true/);
    t.match(proxy.requests[0] ?? '', /X-Purpose: example/);
  });

  t.test('http2.mjs answers /echo over HTTP/2 and HTTP/1.1 on one HTTPS port', async (t) => {
    const example = run(t, 'examples/http2.mjs', [], { PORT: '0' });
    const [, port] = await example.waitFor(/on https:\/\/localhost:(\d+)\//);
    const url = `wss://localhost:${port}/echo`;
    // A self-signed certificate made at start: nobody vouches for it.
    const overHttp2 = new Client(url, [], { http2: true, tls: { rejectUnauthorized: false } });
    t.equal(
      (await nextWithin<MessageEvent>(overHttp2, 'message')).data,
      'hello over HTTP/2 (an extended CONNECT stream)',
    );
    overHttp2.send('echo me');
    t.equal((await nextWithin<MessageEvent>(overHttp2, 'message')).data, 'echo me');
    overHttp2.close();
    t.equal(await firstMessage(t, url, { rejectUnauthorized: false }), 'hello over HTTP/1.1 (an upgrade)');
    const elsewhere = new Client(`wss://localhost:${port}/nope`, [], {
      http2: true,
      tls: { rejectUnauthorized: false },
    });
    elsewhere.onerror = () => {};
    await nextWithin(elsewhere, 'close');
    t.equal(elsewhere.statusCode, 404, 'WebSocket.refuse answers the stream');
    const session = http2.connect(`https://localhost:${port}`, { rejectUnauthorized: false });
    session.on('error', () => {});
    t.teardown(() => session.destroy());
    const page = session.request({ ':path': '/' });
    let html = '';
    page.on('data', (chunk) => (html += chunk));
    await within(once(page, 'end'), 5000, 'the page over HTTP/2');
    t.match(html, /new WebSocket\('wss:\/\/' \+ location\.host \+ '\/echo'\)/);
  });

  t.test('http2.mjs takes its certificate from CERT and KEY', async (t) => {
    if (!requirePeer(t, 'openssl', 'openssl')) return;
    const { ca, key, cert } = certificates();
    const dir = mkdtempSync(join(tmpdir(), 'isosocket-example-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'key.pem'), key);
    writeFileSync(join(dir, 'cert.pem'), cert);
    const example = run(t, 'examples/http2.mjs', [], {
      PORT: '0',
      CERT: join(dir, 'cert.pem'),
      KEY: join(dir, 'key.pem'),
    });
    const [, port] = await example.waitFor(/on https:\/\/localhost:(\d+)\//);
    const ws = new Client(`wss://localhost:${port}/echo`, [], { http2: true, ca });
    t.match((await nextWithin<MessageEvent>(ws, 'message')).data, /over HTTP\/2/, 'verified against the CA');
    ws.close();
  });

  t.test('sse-endpoint.mjs serves updates that its own client reads, then exits', async (t) => {
    const example = run(t, 'examples/sse-endpoint.mjs', [], { PORT: '0' });
    t.equal(await example.exited, 0, example.output());
    t.match(example.output(), /update "update 1\\nsecond line" id 1\nupdate "update 2\\nsecond line" id 2/);
  });

  t.test('demo/server.mjs (npm start) listens on 127.0.0.1 unless HOST says otherwise, and prints it', async (t) => {
    const loopback = run(t, 'examples/demo/server.mjs', [], { PORT: '0' });
    const [, port] = await loopback.waitFor(/demo on http:\/\/127\.0\.0\.1:(\d+)\//);
    t.ok(await accepts('127.0.0.1', Number(port)));
    t.notOk(await accepts('127.0.0.2', Number(port)), 'not bound to every interface');

    const other = run(t, 'examples/demo/server.mjs', [], { PORT: '0', HOST: '127.0.0.2' });
    const [, otherPort] = await other.waitFor(/demo on http:\/\/127\.0\.0\.2:(\d+)\//);
    t.match(await fetch(`http://127.0.0.2:${otherPort}/`).then((r) => r.text()), /isosocket demo/);
    t.notOk(await accepts('127.0.0.1', Number(otherPort)));
  });

  t.test('heartbeat.mjs closes a peer that stops answering pings, and keeps one that answers', async (t) => {
    const server = run(t, 'examples/heartbeat.mjs', [], { PORT: '0', PING: '0.2' });
    const [, port] = await server.waitFor(/listening on (\d+)/);
    const alive = new WS(`ws://127.0.0.1:${port}/alive`);
    t.teardown(() => alive.terminate());
    let pings = 0;
    alive.on('ping', () => pings++);
    // A peer that completes the handshake and then never answers anything.
    await connectRaw(t, Number(port), handshake(Number(port)).replace('GET / ', 'GET /dead '));
    await server.waitFor(/\/dead error: No pong received within 0\.2 s of a ping\n\/dead close 1006/);
    await until(() => pings >= 5, 10_000);
    t.notMatch(server.output(), /\/alive close/, 'the peer that answers pings is still open after 5 of them');
  });

  t.test('client-ip.mjs takes X-Forwarded-For only from a trusted proxy', async (t) => {
    const server = run(t, 'examples/client-ip.mjs', [], { PORT: '0' });
    const [, port] = await server.waitFor(/listening on (\d+)/);
    const url = `ws://127.0.0.1:${port}/`;
    t.equal(await firstMessage(t, url), 'your address: 127.0.0.1');
    t.equal(
      await firstMessage(t, url, { headers: { 'X-Forwarded-For': '203.0.113.7' } }),
      'your address: 203.0.113.7',
      'from 127.0.0.1, a trusted proxy: the address it forwarded',
    );
    t.equal(
      await firstMessage(t, url, { localAddress: '127.0.0.7', headers: { 'X-Forwarded-For': '203.0.113.7' } }),
      'your address: 127.0.0.7',
      'from an untrusted peer: the header is ignored',
    );

    t.test('behind nginx, a forged X-Forwarded-For from the client is not believed', async (t) => {
      if (!requirePeer(t, 'nginx', 'nginx-light')) return;
      const nginx = await startNginx(t, [Number(port)]);
      if (!nginx) return;
      t.equal(
        await firstMessage(t, `ws://127.0.0.1:${nginx.port}/`, {
          localAddress: '127.0.0.7',
          headers: { 'X-Forwarded-For': '6.6.6.6' },
        }),
        'your address: 127.0.0.7',
      );
      await server.waitFor(/connection from 127\.0\.0\.7 \(X-Forwarded-For: 6\.6\.6\.6, 127\.0\.0\.7\)/);
    });
  });

  t.test('sse-channel.mjs streams GET /events, publishes each POST /publish, replays from Last-Event-ID', async (t) => {
    const example = run(t, 'examples/sse-channel.mjs', [], { PORT: '0' });
    const [, port] = await example.waitFor(/localhost:(\d+)\/events \(this process only/);
    const publish = async (body: string) =>
      (await fetch(`http://127.0.0.1:${port}/publish`, { method: 'POST', body }).then((r) => r.text())).trim();
    const first = await publish('one');
    const second = await publish('two\nlines');
    const response = await fetch(`http://127.0.0.1:${port}/events`, {
      headers: { Accept: 'text/event-stream', 'Last-Event-ID': first },
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const third = await publish('three');
    while (!text.includes('data: three')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    t.match(text, `id: ${second}\ndata: two\ndata: lines\n\nid: ${third}\ndata: three\n\n`);
    t.notMatch(text, /data: one/);
    t.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
  });
});
