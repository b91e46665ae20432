// The EventSource server endpoint against the `eventsource` package and our
// own client, over loopback. EventSource.Client against servers that send
// tricky streams is in event-source-client.test.ts.

import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import compression from 'compression';
import { EventSource as PackageEventSource } from 'eventsource';
import t, { type Test } from 'tap';
import { EventSource, EventSourceClient } from '../../src/index.js';
import { nextWithin as next, sleep, within } from '../helpers/bounded.js';
import { listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { openRawStream } from '../helpers/sse.js';
import { trace } from '../helpers/trace.js';

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
    // The pattern is tried on the last 512 KiB only (every pattern here is
    // shorter): trying the whole text after each chunk made reading 12 MiB
    // quadratic, past the spec's bound on a loaded machine.
    if (pattern.test(text.length > 512 * 1024 ? text.slice(-512 * 1024) : text)) return text;
  }
  return text;
}

/** A server whose endpoint sends the events `script` gives it, then maybe drops the connection. */
function eventServer(
  t: Test,
  script: (es: EventSource, request: http.IncomingMessage, response: http.ServerResponse) => void,
  options = {},
) {
  const sources: EventSource[] = [];
  return serve(t, (request, response) => {
    if (!EventSource.isEventSource(request)) {
      response.writeHead(406).end();
      return;
    }
    const es = new EventSource(request, response, options);
    sources.push(es);
    script(es, request, response);
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
    await until(() => server.sources[0]?.readyState === EventSource.OPEN, 2000);
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

  t.test('pings with comment lines; the client going away closes it and stops the ping timer', async (t) => {
    const server = await eventServer(t, () => {}, { ping: 0.02 });
    const stream = await openRawStream(t, server.port);
    await until(() => /\n:\n\n:\n\n/.test(stream.text()), 2000);
    t.match(stream.text(), /retry: 5000\n:\n\n:\n\n/, 'comment lines, one after the other, unframed');
    const socket = stream.socket;
    const es = server.sources[0] as EventSource;
    // The timer calls es.ping(): count its calls, and first see that it does.
    let pings = 0;
    const ping = es.ping.bind(es);
    es.ping = () => {
      pings++;
      return ping();
    };
    await until(() => pings >= 2, 2000);
    const closed = next(es, 'close');
    socket.destroy();
    await within(closed, 2000, "close after the client went away (the response's close)");
    t.equal(es.readyState, EventSource.CLOSED);
    pings = 0;
    await sleep(200); // ten ping intervals
    t.equal(pings, 0, 'no ping after close: the timer was cleared');
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

  t.test('close() ends the response and dispatches close once, though the response closes after it', async (t) => {
    let closes = 0;
    let responseClosed: Promise<unknown> = Promise.reject(new Error('no request'));
    responseClosed.catch(() => {});
    const server = await eventServer(t, (es, _request, response) => {
      es.addEventListener('close', () => closes++);
      responseClosed = once(response, 'close');
      t.equal(es.close(), true);
    });
    const socket = await rawGet(server.port);
    const text = await within(readUntil(socket, /$^/), 2000, 'the server ending the stream');
    t.match(text, /\r\nConnection: close\r\n/i, 'the stream is delimited by the connection');
    t.ok(socket.readableEnded, 'the server ended the connection');
    await within(responseClosed, 2000, "the response's close event");
    t.equal(closes, 1, "one close event: the response's close after close() dispatches nothing");
    const es = server.sources[0] as EventSource;
    t.equal(es.close(), false);
    t.equal(closes, 1, 'a second close() dispatches nothing');
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

  t.test('send() of a non-string is a TypeError, and the serialize option encodes it', async (t) => {
    const errors: unknown[] = [];
    const plain = await eventServer(t, (es) => {
      for (const value of [{}, 42, null, Buffer.from('x')]) {
        try {
          es.send(value);
        } catch (error) {
          errors.push(error);
        }
      }
      es.send('only strings');
    });
    const stream = await openRawStream(t, plain.port);
    await until(() => stream.events.length === 1, 2000);
    t.equal(errors.length, 4);
    t.ok(errors.every((error) => error instanceof TypeError && /serialize: JSON\.stringify/.test(error.message)));
    t.same(stream.events, [{ id: '', event: 'message', data: 'only strings' }], 'no [object Object] on the wire');

    const json = await eventServer(t, (es) => es.send({ price: 42, tags: ['a\nb'] }, { id: '1' }), {
      serialize: JSON.stringify,
    });
    const source = new PackageEventSource(`${json.origin}/`);
    t.teardown(() => source.close());
    const event = await within(next<MessageEvent>(source, 'message'), 2000, 'the JSON event');
    t.same(JSON.parse(event.data), { price: 42, tags: ['a\nb'] });
    t.equal(event.lastEventId, '1');
  });

  t.test(
    'new EventSource(url) says to use EventSource.Client; a bad serialize or response is a TypeError',
    async (t) => {
      const message = /server endpoint.*new EventSource\.Client\(url\)/;
      const Untyped = EventSource as unknown as new (...args: unknown[]) => EventSource;
      t.throws(() => new Untyped('http://127.0.0.1/feed'), { name: 'TypeError', message });
      t.throws(() => new Untyped(new URL('http://127.0.0.1/feed')), { name: 'TypeError', message });
      t.throws(() => new Untyped(), { name: 'TypeError', message });
      const errors: unknown[] = [];
      const server = await serve(t, (request, response) => {
        for (const attempt of [
          () => new EventSource(request, undefined as never),
          () => new EventSource(request, response, { serialize: 'json' as never }),
        ]) {
          try {
            attempt();
          } catch (error) {
            errors.push(error);
          }
        }
        response.end();
      });
      await fetch(`${server.origin}/`).then((r) => r.text());
      t.equal(errors.length, 2);
      t.match(errors[0], { name: 'TypeError', message: /response must be the http\.ServerResponse/ });
      t.match(errors[1], { name: 'TypeError', message: /serialize must be a function/ });
    },
  );

  t.test(
    "faye's stream face: a Readable piped in becomes events in order, and its end closes the stream",
    async (t) => {
      const euro = Buffer.from('€');
      const server = await eventServer(t, (es) => {
        // A character split between two chunks stays whole.
        Readable.from([
          'one',
          Buffer.from('two'),
          euro.subarray(0, 1),
          Buffer.concat([euro.subarray(1), Buffer.from('3')]),
        ]).pipe(es as unknown as NodeJS.WritableStream);
      });
      const stream = await openRawStream(t, server.port);
      await within(stream.ended, 2000, 'end() closing the stream after the last chunk');
      t.same(
        stream.events.map((e) => e.data),
        ['one', 'two', '€3'],
      );
      t.equal((server.sources[0] as EventSource).readyState, EventSource.CLOSED);
    },
  );

  t.test("a pipe waits on the endpoint's 'drain' while the client does not read, then delivers all", async (t) => {
    // More than the kernel's socket buffers hold, so that the pipe must wait.
    const chunks = 48;
    let source: Readable | undefined;
    const server = await eventServer(
      t,
      (es) => {
        source = Readable.from(
          Array.from({ length: chunks }, (_, i) => `${i} ${'x'.repeat(256 * 1024)}`),
          { objectMode: true },
        );
        source.pipe(es as unknown as NodeJS.WritableStream);
      },
      { ping: 0 },
    );
    const socket = await rawGet(server.port);
    socket.pause();
    await until(() => source?.readableFlowing === false, 5000);
    const es = server.sources[0] as EventSource;
    t.not(es.readyState, EventSource.CLOSED, 'still open: the pipe waits for drain');
    socket.resume();
    const text = await within(readUntil(socket, new RegExp(`data: ${chunks - 1} x+\\n\\n`)), 10_000, 'every chunk');
    const numbers = [...text.matchAll(/data: (\d+) /g)].map((m) => Number(m[1]));
    t.same(
      numbers,
      Array.from({ length: chunks }, (_, i) => i),
      'all of them, in order',
    );
    await until(() => es.readyState === EventSource.CLOSED, 2000);
  });

  t.test("on/once/off/removeListener and emit: faye's emitter face over stream events and DOM events", async (t) => {
    const closes: string[] = [];
    const removed = () => closes.push('removed');
    const kept = (event: Event) => closes.push(`kept ${event.type} ${event instanceof Event}`);
    const server = await eventServer(t, (es) => {
      es.on('close', removed).on('close', kept).removeListener('close', removed);
      es.once('open', () => closes.push('open'));
    });
    const stream = await openRawStream(t, server.port);
    await until(() => closes.includes('open'), 2000);
    const es = server.sources[0] as EventSource;
    const calls: string[] = [];
    const always = (n: number) => calls.push(`on ${n}`);
    const first = (n: number) => calls.push(`once ${n}`);
    es.on('drain', always).once('drain', first);
    t.equal(es.emit('drain', 1), true);
    es.emit('drain', 2);
    es.off('drain', always);
    t.equal(es.emit('drain', 3), false, 'no listener left');
    t.same(calls, ['on 1', 'once 1', 'on 2']);

    es.end('last words');
    await within(stream.ended, 2000, 'end()');
    t.same(closes, ['open', 'kept close true']);
    t.same(
      stream.events.map((e) => e.data),
      ['last words'],
    );
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
