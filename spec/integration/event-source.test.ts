// The EventSource server endpoint against the `eventsource` package and our
// own client, over loopback. EventSource.Client against servers that send
// tricky streams is in event-source-client.test.ts.

import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import compression from 'compression';
import { EventSource as PackageEventSource } from 'eventsource';
import t, { type Test } from 'tap';
import { EventSource, EventSourceClient } from '../../src/index.js';
import { listen } from '../helpers/listen.js';
import { next, trace } from '../helpers/trace.js';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

async function serve(t: Test, handler: Handler): Promise<{ origin: string; port: number; server: http.Server }> {
  const server = http.createServer(handler);
  const port = await listen(t, server);
  return { origin: `http://127.0.0.1:${port}`, port, server };
}

/** Reads a raw event stream response head and body over TCP. */
async function rawGet(port: number, path = '/', headers = 'Accept: text/event-stream\r\n'): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers}\r\n`);
  return socket;
}

async function readUntil(socket: net.Socket, pattern: RegExp): Promise<string> {
  let text = '';
  for await (const chunk of socket) {
    text += String(chunk);
    if (pattern.test(text)) return text;
  }
  return text;
}

/** A server whose endpoint sends the events `script` gives it, then maybe drops the connection. */
function eventServer(t: Test, script: (es: EventSource, request: http.IncomingMessage) => void, options = {}) {
  const sources: EventSource[] = [];
  return serve(t, (request, response) => {
    if (!EventSource.isEventSource(request)) {
      response.writeHead(406).end();
      return;
    }
    const es = new EventSource(request, response, options);
    sources.push(es);
    script(es, request);
  }).then((handle) => ({ ...handle, sources }));
}

t.test('EventSource (server)', async (t) => {
  t.test('answers 200 with the event-stream headers, custom headers and retry', async (t) => {
    const server = await eventServer(t, (es) => es.send('x'), {
      headers: { 'Access-Control-Allow-Origin': '*' },
      retry: 2,
    });
    const socket = await rawGet(server.port);
    const text = await readUntil(socket, /data: x\n\n/);
    socket.destroy();
    t.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    t.match(text, /\r\nContent-Type: text\/event-stream; charset=utf-8\r\n/i);
    t.match(text, /\r\nCache-Control: no-cache, no-transform\r\n/i);
    t.match(text, /\r\nX-Accel-Buffering: no\r\n/i);
    t.match(text, /\r\nAccess-Control-Allow-Origin: \*\r\n/i);
    t.match(text, /retry: 2000\n/);
  });

  t.test('exposes url, lastEventId and readyState, and dispatches open', async (t) => {
    const server = await eventServer(t, () => {});
    const socket = await rawGet(server.port, '/feed?x=1', 'Accept: text/event-stream\r\nLast-Event-ID: 41\r\n');
    t.teardown(() => socket.destroy());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const es = server.sources[0] as EventSource;
    t.equal(es.url, `${server.origin}/feed?x=1`);
    t.equal(es.lastEventId, '41');
    t.equal(es.readyState, EventSource.OPEN);
    t.same([EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED], [0, 1, 2]);
  });

  t.test('the eventsource package receives named events, ids and multi-line data', async (t) => {
    const server = await eventServer(t, (es) => {
      es.send('first\nsecond\r\nthird', { event: 'multi', id: '1' });
      es.send('plain', { id: '2' });
    });
    const source = new PackageEventSource(`${server.origin}/`);
    t.teardown(() => source.close());
    const multi = new Promise<MessageEvent>((resolve) => source.addEventListener('multi', resolve));
    const plain = new Promise<MessageEvent>((resolve) => (source.onmessage = resolve));
    t.same([(await multi).data, (await multi).lastEventId], ['first\nsecond\nthird', '1']);
    t.same([(await plain).data, (await plain).lastEventId], ['plain', '2']);
  });

  t.test('our client reconnects after the server drops, with retry and Last-Event-ID', async (t) => {
    const seen: string[] = [];
    const server = await eventServer(
      t,
      (es) => {
        seen.push(es.lastEventId);
        es.send(`hello ${seen.length}`, { id: `id-${seen.length}` });
        if (seen.length === 1) setTimeout(() => es.close(), 20);
      },
      { retry: 0.05 },
    );
    const source = new EventSourceClient(`${server.origin}/`);
    t.teardown(() => source.close());
    const events = trace(source, ['open', 'message', 'error']);
    await next(source, 'message');
    await next(source, 'error');
    t.equal(source.readyState, EventSourceClient.CONNECTING);
    const second = await next<MessageEvent>(source, 'message');
    t.equal(second.data, 'hello 2');
    t.same(seen, ['', 'id-1']);
    t.same(events, ['open@1', 'message@1', 'error@0', 'open@1', 'message@1']);
  });

  t.test('the eventsource package reconnects with Last-Event-ID too', async (t) => {
    const seen: string[] = [];
    const server = await eventServer(
      t,
      (es) => {
        seen.push(es.lastEventId);
        es.send('tick', { id: String(seen.length) });
        if (seen.length === 1) setTimeout(() => es.close(), 20);
      },
      { retry: 0.05 },
    );
    const source = new PackageEventSource(`${server.origin}/`);
    t.teardown(() => source.close());
    let messages = 0;
    await new Promise<void>((resolve) => {
      source.onmessage = () => {
        if (++messages === 2) resolve();
      };
    });
    t.same(seen, ['', '1']);
  });

  t.test('CR or LF in event or id cannot add a field: send() throws', async (t) => {
    const results: unknown[] = [];
    const server = await eventServer(t, (es) => {
      for (const options of [{ id: 'a\nevent: x' }, { event: 'x\r\ndata: y' }, { id: 'a\0' }]) {
        try {
          es.send('payload', options);
        } catch (error) {
          results.push(error);
        }
      }
      es.send('a\nevent: injected\nid: 666\n\ndata: still data', { event: 'ok' });
    });
    const source = new EventSourceClient(`${server.origin}/`);
    t.teardown(() => source.close());
    let injected = 0;
    source.addEventListener('injected', () => injected++);
    const event = await next<MessageEvent>(source, 'ok');
    t.equal(results.length, 3);
    t.ok(results.every((error) => error instanceof TypeError));
    t.equal(event.data, 'a\nevent: injected\nid: 666\n\ndata: still data');
    t.equal(event.lastEventId, '');
    t.equal(injected, 0);
  });

  t.test('pings with comment lines, and the ping timer stops when the client goes away', async (t) => {
    const server = await eventServer(t, () => {}, { ping: 0.02 });
    const socket = await rawGet(server.port);
    const text = await readUntil(socket, /\n:\n\n:\n\n/);
    t.match(text, /\n:\n\n:\n\n/, 'comment lines, one after the other, unframed');
    const es = server.sources[0] as EventSource;
    const closed = next(es, 'close');
    socket.destroy();
    await closed;
    t.equal(es.readyState, EventSource.CLOSED);
    t.equal(es.ping(), false);
    t.equal(es.send('late'), false);
  });

  t.test('send() returns false over the high-water mark, and drain follows', async (t) => {
    let resolveSource: (es: EventSource) => void = () => {};
    const created = new Promise<EventSource>((resolve) => (resolveSource = resolve));
    const server = await eventServer(t, (es) => resolveSource(es), { ping: 0 });
    const socket = await rawGet(server.port);
    socket.pause();
    t.teardown(() => socket.destroy());
    const es = await created;
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    while (es.send(chunk) && sent < 10_000) sent++;
    t.ok(sent < 10_000, 'send() reported backpressure');
    const drained = new Promise<void>((resolve) => es.once('drain', () => resolve()));
    socket.resume();
    socket.on('data', () => {});
    await drained;
    t.pass('drain arrived');
  });

  t.test('close() ends the response and dispatches close once', async (t) => {
    const server = await eventServer(t, (es) => es.close());
    const socket = await rawGet(server.port);
    const text = await readUntil(socket, /$^/);
    t.match(text, /\r\nConnection: close\r\n/i, 'the stream is delimited by the connection');
    t.ok(socket.readableEnded || socket.destroyed, 'the server ended the connection');
    const es = server.sources[0] as EventSource;
    let closes = 0;
    es.on('close', () => closes++);
    t.equal(es.close(), false);
    t.equal(closes, 0, 'no second close event');
  });

  t.test('flushes each event through a compression middleware', async (t) => {
    const compress = compression({ threshold: 0 });
    const server = await serve(t, (request, response) => {
      compress(request as never, response as never, () => {
        const es = new EventSource(request, response, { ping: 0 });
        es.send('not buffered');
      });
    });
    const source = new EventSourceClient(`${server.origin}/`);
    t.teardown(() => source.close());
    const event = await next<MessageEvent>(source, 'message');
    t.equal(event.data, 'not buffered');
  });

  t.test('an unknown option is a TypeError; isEventSource() tells streams from pages', async (t) => {
    const results: boolean[] = [];
    const errors: unknown[] = [];
    const server = await serve(t, (request, response) => {
      results.push(EventSource.isEventSource(request));
      try {
        new EventSource(request, response, { pingg: 1 } as never);
      } catch (error) {
        errors.push(error);
      }
      response.end();
    });
    await fetch(`${server.origin}/`).then((r) => r.text());
    await fetch(`${server.origin}/`, { headers: { Accept: 'text/event-stream' } }).then((r) => r.text());
    t.same(results, [false, true]);
    t.ok(errors.length === 2 && errors.every((error) => error instanceof TypeError));
  });
});
