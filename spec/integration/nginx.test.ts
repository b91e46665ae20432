// isosocket behind a real reverse proxy: Debian's nginx, configured with
// examples/nginx/isosocket.conf (the config README shows), in front of an
// isosocket server. WebSocket upgrades, close codes, permessage-deflate and
// unbuffered server-sent events all pass through.

import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import deflate from 'permessage-deflate';
import t from 'tap';
import WS from 'ws';
import { Client, type CloseEvent, EventSource, EventSourceClient, WebSocket } from '../../src/index.js';
import { nextWithin as next } from '../helpers/bounded.js';
import { startNginx } from '../helpers/services.js';

t.test('behind nginx', async (t) => {
  let release: () => void = () => {};
  const secondEvent = new Promise<void>((resolve) => (release = resolve));
  const seen: http.IncomingHttpHeaders[] = [];
  const app = http.createServer((request, response) => {
    if (!EventSource.isEventSource(request)) return void response.writeHead(404).end();
    const es = new EventSource(request, response, { ping: 0 });
    es.send('first', { id: '1' });
    secondEvent.then(() => es.send('second', { id: '2' }));
  });
  app.on('upgrade', (request, socket, head) => {
    seen.push(request.headers);
    const ws = new WebSocket(request, socket, head, ['chat'], { extensions: [deflate] });
    if (request.url === '/close') ws.onopen = () => ws.close(4005, 'closed by the app');
    else ws.onmessage = (event) => ws.send(event.data);
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  t.teardown(() => {
    app.closeAllConnections();
    app.close();
  });
  const nginx = await startNginx(t, [(app.address() as AddressInfo).port]);
  if (!nginx) return;
  const base = `127.0.0.1:${nginx.port}`;

  t.test('echoes over a proxied WebSocket, with the subprotocol and X-Forwarded headers', async (t) => {
    const ws = new Client(`ws://${base}/echo`, ['chat']);
    await next(ws, 'open');
    t.equal(ws.protocol, 'chat');
    ws.send('through nginx');
    t.equal((await next<MessageEvent>(ws, 'message')).data, 'through nginx');
    ws.close(4001, 'client done');
    const close = await next<CloseEvent>(ws, 'close');
    t.same([close.code, close.reason, close.wasClean], [4001, 'client done', true]);
    t.equal(seen.at(-1)?.['x-forwarded-proto'], 'http');
  });

  t.test('carries the server close code and reason to the client', async (t) => {
    const ws = new Client(`ws://${base}/close`);
    const close = await next<CloseEvent>(ws, 'close');
    t.same([close.code, close.reason, close.wasClean], [4005, 'closed by the app', true]);
  });

  t.test('negotiates permessage-deflate end to end', async (t) => {
    const ws = new Client(`ws://${base}/echo`, [], { extensions: [deflate] });
    await next(ws, 'open');
    t.match(ws.extensions, /permessage-deflate/);
    const text = 'compress me through the proxy '.repeat(500);
    ws.send(text);
    t.equal((await next<MessageEvent>(ws, 'message')).data, text);
    ws.close();
    await next(ws, 'close');
    const other = new WS(`ws://${base}/echo`, { perMessageDeflate: true });
    await once(other, 'open');
    t.match(other.extensions, /permessage-deflate/);
    other.close();
  });

  t.test('streams server-sent events as they are sent, not buffered', async (t) => {
    const source = new EventSourceClient(`http://${base}/events`);
    t.teardown(() => source.close());
    const first = await next<MessageEvent>(source, 'message');
    t.same([first.data, first.lastEventId], ['first', '1'], 'the first event arrived while the stream stays open');
    release();
    const second = await next<MessageEvent>(source, 'message');
    t.same([second.data, second.lastEventId], ['second', '2']);
  });
});
