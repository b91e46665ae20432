// EventSource.Client's Node-only request options against a real node:http
// server: `method` and `body` (each body kind, on every reconnection, across
// redirects), the opt-in `retry` policy for the statuses the standard makes
// fatal (Retry-After in both forms, backoff and its cap, the limit), and the
// options of other clients refused with a hint. The `eventsource` package
// runs beside us where it has the same behaviour (POST through its `fetch`
// option; a 503 ending the feed). No timing is asserted but "did not come
// back before Retry-After", with a generous margin; attempts are counted.

import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { Readable } from 'node:stream';
import { EventSource as PackageEventSource } from 'eventsource';
import t, { type Test } from 'tap';
import {
  EventSourceClient,
  type EventSourceClientInit,
  type EventSourceErrorEvent,
  WebSocket,
} from '../../src/index.js';
import { nextWithin } from '../helpers/bounded.js';
import { freePort, listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { trace } from '../helpers/trace.js';

/** One request as the server read it. */
interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Milliseconds since the server started, when the request head arrived. */
  at: number;
}

type Answer = (response: http.ServerResponse, request: Received) => void;

/** Answers with an event stream and ends it: the client reconnects after `retry`. */
const ending =
  (body = 'retry: 10\ndata: x\n\n'): Answer =>
  (response) =>
    response.writeHead(200, { 'Content-Type': 'text/event-stream' }).end(body);
/** Answers with an event stream and holds it open. */
const holding =
  (body = 'data: x\n\n'): Answer =>
  (response) => {
    response.writeHead(200, { 'Content-Type': 'text/event-stream' });
    response.write(body);
  };
const refusing =
  (status: number, headers: http.OutgoingHttpHeaders = {}): Answer =>
  (response) =>
    response.writeHead(status, headers).end();

/**
 * A node:http server: the n-th request, once its body has arrived, gets
 * `answers[n]` (the last for all that follow). Open responses are ended
 * with the test.
 */
async function recorder(t: Test, answers: Answer[]): Promise<{ origin: string; requests: Received[] }> {
  const requests: Received[] = [];
  const started = Date.now();
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((request, response) => {
    const at = Date.now() - started;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: Received = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
        at,
      };
      const index = requests.length;
      requests.push(received);
      open.add(response);
      response.on('close', () => open.delete(response));
      (answers[Math.min(index, answers.length - 1)] as Answer)(response, received);
    });
  });
  t.teardown(() => {
    for (const response of open) response.destroy();
  });
  const port = await listen(t, server);
  return { origin: `http://127.0.0.1:${port}`, requests };
}

/** An EventSource.Client closed with the test. */
function opened(t: Test, url: string, init?: EventSourceClientInit): EventSourceClient {
  const source = new EventSourceClient(url, init);
  t.teardown(() => source.close());
  return source;
}

/** Collects error events with the readyState each was dispatched at. */
function errorsOf(source: EventSourceClient): Array<{ event: EventSourceErrorEvent; readyState: number }> {
  const errors: Array<{ event: EventSourceErrorEvent; readyState: number }> = [];
  source.addEventListener('error', (event) => errors.push({ event, readyState: source.readyState }));
  return errors;
}

/** Waits while a control client reconnects four times, 20 ms apart: several retry intervals pass. */
async function severalRetryIntervals(t: Test): Promise<void> {
  const control = await recorder(t, [ending('retry: 20\ndata: c\n\n')]);
  const source = new EventSourceClient(`${control.origin}/`);
  try {
    await until(() => control.requests.length > 4, 5000);
  } finally {
    source.close();
  }
}

async function* chunksOf(...parts: Array<string | Uint8Array>): AsyncGenerator<string | Uint8Array> {
  for (const part of parts) {
    await new Promise((resolve) => setImmediate(resolve));
    yield part;
  }
}

t.test('EventSource.Client: method and body', async (t) => {
  t.test('a POST with a string body arrives as fetch sends it, and again on reconnection', async (t) => {
    const server = await recorder(t, [ending('retry: 10\nid: 7\ndata: x\n\n'), holding()]);
    const source = opened(t, `${server.origin}/chat?x=1`, {
      method: 'POST',
      body: '{"prompt":"hi"}',
      headers: { Authorization: 'Bearer t' },
    });
    let messages = 0;
    source.onmessage = () => messages++;
    await until(() => messages === 2);
    t.equal(server.requests.length, 2);
    for (const request of server.requests) {
      t.equal(request.method, 'POST');
      t.equal(request.url, '/chat?x=1');
      t.equal(request.body.toString(), '{"prompt":"hi"}');
      t.equal(request.headers['content-type'], 'text/plain;charset=UTF-8', "a string's type, as fetch sends it");
      t.equal(request.headers['content-length'], '15');
      t.equal(request.headers.authorization, 'Bearer t');
      t.equal(request.headers.accept, 'text/event-stream');
    }
    t.equal(server.requests[1]?.headers['last-event-id'], '7', 'Last-Event-ID as with GET');
  });

  t.test('the Content-Type in headers wins; post and patch are normalized as fetch does', async (t) => {
    const server = await recorder(t, [holding()]);
    const source = opened(t, `${server.origin}/`, {
      method: 'post',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    await nextWithin(source, 'open');
    t.equal(server.requests[0]?.method, 'POST');
    t.equal(server.requests[0]?.headers['content-type'], 'application/json');
    t.equal(server.requests[0]?.headers['content-length'], '2');

    const custom = await recorder(t, [holding()]);
    const query = opened(t, `${custom.origin}/`, { method: 'QUERY', body: 'q' });
    await nextWithin(query, 'open');
    t.equal(custom.requests[0]?.method, 'QUERY', 'a method fetch does not normalize goes as given');
  });

  t.test('a POST without a body sends Content-Length: 0 (Fetch)', async (t) => {
    const server = await recorder(t, [holding()]);
    await nextWithin(opened(t, `${server.origin}/`, { method: 'POST' }), 'open');
    t.equal(server.requests[0]?.headers['content-length'], '0');
    t.equal(server.requests[0]?.headers['content-type'], undefined);
    t.equal(server.requests[0]?.headers['transfer-encoding'], undefined);
  });

  t.test('each body kind: its bytes, its Content-Type as fetch sends it, on every connection', async (t) => {
    const bytes = Buffer.from([0, 1, 2, 255, 10]);
    const kinds: Array<[string, EventSourceClientInit['body'], Buffer, string | undefined]> = [
      ['Buffer', bytes, bytes, undefined],
      ['a Uint8Array view at an offset', new Uint8Array([9, 9, 0, 1, 2, 255, 10, 9]).subarray(2, 7), bytes, undefined],
      ['ArrayBuffer', bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), bytes, undefined],
      ['DataView', new DataView(Uint8Array.from(bytes).buffer), bytes, undefined],
      ['Blob', new Blob(['é'], { type: 'application/x-thing' }), Buffer.from('é'), 'application/x-thing'],
      [
        'URLSearchParams',
        new URLSearchParams({ a: '1 2', b: 'é' }),
        Buffer.from('a=1+2&b=%C3%A9'),
        'application/x-www-form-urlencoded;charset=UTF-8',
      ],
      ['a function returning a string', () => 'fresh', Buffer.from('fresh'), 'text/plain;charset=UTF-8'],
      ['an async function returning bytes', async () => bytes, bytes, undefined],
      [
        'a function returning an async iterable',
        () => chunksOf('a', Buffer.from('b'), 'c'),
        Buffer.from('abc'),
        undefined,
      ],
    ];
    for (const [name, body, expected, type] of kinds) {
      t.test(name, async (t) => {
        const server = await recorder(t, [ending(), holding()]);
        opened(t, `${server.origin}/`, { method: 'POST', body });
        await until(() => server.requests.length === 2);
        for (const request of server.requests) {
          t.same(request.body, expected);
          t.equal(request.headers['content-type'], type);
        }
      });
    }
  });

  t.test('an async iterable is streamed chunked; the reconnection fails with what to do instead', async (t) => {
    const server = await recorder(t, [ending(), holding()]);
    const source = opened(t, `${server.origin}/`, { method: 'POST', body: chunksOf('{"a":', Buffer.from('1}')) });
    const events = trace(source, ['open', 'message', 'error']);
    const errors = errorsOf(source);
    await until(() => errors.length === 1);
    t.equal(server.requests[0]?.body.toString(), '{"a":1}');
    t.equal(server.requests[0]?.headers['transfer-encoding'], 'chunked');
    t.equal(server.requests[0]?.headers['content-type'], undefined, 'no type: fetch sends none for a stream');
    t.same(events, ['open@1', 'message@1', 'error@2'], 'one error, CLOSED: not a reconnection without the body');
    t.match(errors[0]?.event.message, /ended; cannot reconnect: the body is an async iterable.*pass a function/);
    await severalRetryIntervals(t);
    t.equal(server.requests.length, 1);
  });

  t.test('a connection refused before the request is sent does not spend an async iterable', async (t) => {
    const port = await freePort();
    const source = opened(t, `http://127.0.0.1:${port}/`, { method: 'POST', body: chunksOf('kept') });
    const errors = errorsOf(source);
    await until(() => errors.length === 1);
    t.equal(errors[0]?.readyState, 0, 'refused: a network error, reconnecting');
    const bodies: string[] = [];
    const server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk));
      request.on('end', () => {
        bodies.push(body);
        response.writeHead(200, { 'Content-Type': 'text/event-stream' }).write('data: x\n\n');
      });
    });
    server.listen(port, '127.0.0.1');
    t.teardown(() => {
      server.closeAllConnections();
      server.close();
    });
    // The reconnection time is 3 s (no stream has set another).
    await nextWithin(source, 'open', 10_000);
    t.same(bodies, ['kept']);
  });

  t.test('a reset mid-upload is a network error: a function body streams afresh on the reconnection', async (t) => {
    const bodies: string[] = [];
    let connections = 0;
    const server = http.createServer((request, response) => {
      if (connections++ === 0) {
        request.once('data', () => request.socket.destroy());
        return;
      }
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk));
      request.on('end', () => {
        bodies.push(body);
        response.writeHead(200, { 'Content-Type': 'text/event-stream' }).write('data: x\n\n');
      });
    });
    const port = await listen(t, server);
    let calls = 0;
    const slow = async function* (): AsyncGenerator<string> {
      calls++;
      yield 'first ';
      await new Promise((resolve) => setTimeout(resolve, 50));
      yield 'second';
    };
    const source = opened(t, `http://127.0.0.1:${port}/`, { method: 'POST', body: slow });
    const events = trace(source, ['open', 'error']);
    // The reconnection time is 3 s (no stream has set another).
    await nextWithin(source, 'open', 10_000);
    t.same(events, ['error@0', 'open@1']);
    t.equal(calls, 2, 'the function was called for each request');
    t.same(bodies, ['first second']);
  });

  t.test('an iterable body is pulled only as fast as the server reads it (backpressure)', async (t) => {
    let reader: http.IncomingMessage | undefined;
    const server = http.createServer((request) => {
      reader = request;
      request.pause();
    });
    await listen(t, server);
    const port = (server.address() as { port: number }).port;
    let pulled = 0;
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const endless = async function* (): AsyncGenerator<Buffer> {
      for (; pulled < 64; pulled++) yield chunk;
    };
    opened(t, `http://127.0.0.1:${port}/`, { method: 'POST', body: endless });
    await until(() => reader !== undefined);
    await severalRetryIntervals(t);
    // Without the drain wait all 64 MiB are pulled at once; the socket and kernel buffers hold a few.
    t.ok(pulled < 32, `pulled ${pulled} of 64 chunks while the server read nothing`);
  });

  t.test('a large iterable body (chunks over the high-water mark) arrives whole: the drain wait resumes', async (t) => {
    const server = await recorder(t, [holding()]);
    const chunk = Buffer.alloc(256 * 1024, 'ab');
    const many = async function* (): AsyncGenerator<Buffer> {
      for (let i = 0; i < 32; i++) yield chunk;
    };
    await nextWithin(opened(t, `${server.origin}/`, { method: 'POST', body: many }), 'open', 10_000);
    t.equal(server.requests[0]?.body.length, 32 * chunk.length);
    t.ok(server.requests[0]?.body.subarray(-chunk.length).equals(chunk));
  });

  t.test('a body function that does not settle within handshakeTimeout is a network error', async (t) => {
    const server = await recorder(t, [holding()]);
    const source = opened(t, `${server.origin}/`, {
      method: 'POST',
      body: () => new Promise<string>(() => {}),
      handshakeTimeout: 50,
    });
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.equal(source.readyState, 0, 'reconnecting, as after a timeout');
    t.match(error.message, /No request body for .*: The opening handshake took longer than 50 ms/);
    t.equal(server.requests.length, 0);
  });

  t.test('a Node Readable is an async iterable body', async (t) => {
    const server = await recorder(t, [holding()]);
    await nextWithin(opened(t, `${server.origin}/`, { method: 'PUT', body: Readable.from(['x', 'y']) }), 'open');
    t.equal(server.requests[0]?.method, 'PUT');
    t.equal(server.requests[0]?.body.toString(), 'xy');
  });

  t.test('an iterable that throws, or yields what is not a chunk, fails the connection', async (t) => {
    for (const [name, body, message] of [
      [
        'throws',
        (async function* () {
          yield 'a';
          throw new Error('no more tokens');
        })(),
        /The request body for .* failed: no more tokens/,
      ],
      [
        'yields a number',
        (async function* () {
          yield 42;
        })(),
        /yielded a number; chunks must be strings or Uint8Arrays/,
      ],
    ] as const) {
      const server = await recorder(t, [holding()]);
      const source = opened(t, `${server.origin}/`, { method: 'POST', body: body as AsyncIterable<string> });
      const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
      t.equal(source.readyState, 2, name);
      t.match(error.message, message, name);
    }
    const server = await recorder(t, [holding()]);
    const source = opened(t, `${server.origin}/`, { method: 'POST', body: () => 42 as unknown as string });
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.equal(source.readyState, 2);
    t.match(error.message, /The body function returned a number, which is not a body/);
    t.equal(server.requests.length, 0, 'nothing was sent');
  });

  t.test('an answer before the body is read out ends the request: no hang, the status told', async (t) => {
    const methods: string[] = [];
    const server = http.createServer((request, response) => {
      methods.push(String(request.method));
      response.writeHead(401).end();
    });
    const port = await listen(t, server);
    const pending = (async function* () {
      yield 'a';
      await new Promise(() => {});
    })();
    const source = opened(t, `http://127.0.0.1:${port}/`, { method: 'POST', body: pending });
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.equal(error.status, 401);
    t.equal(source.readyState, 2);
    t.same(methods, ['POST'], 'answered while the body was still streaming');
  });

  t.test('redirects: 303 and 301/302 after POST go on as a GET without the body (Fetch)', async (t) => {
    for (const status of [301, 302, 303]) {
      const target = await recorder(t, [holding()]);
      const first = await recorder(t, [refusing(status, { Location: `${target.origin}/next` })]);
      const source = opened(t, `${first.origin}/`, {
        method: 'POST',
        body: 'payload',
        headers: { 'Content-Type': 'application/json', 'X-Kept': 'y' },
      });
      await nextWithin(source, 'open');
      t.equal(first.requests[0]?.method, 'POST');
      const request = target.requests[0];
      t.equal(request?.method, 'GET', `${status}`);
      t.equal(request?.body.length, 0);
      t.equal(request?.headers['content-type'], undefined, 'body headers removed');
      t.equal(request?.headers['content-length'], undefined);
    }
  });

  t.test('redirects: 307 and 308 repeat the POST and its body; an async iterable cannot follow', async (t) => {
    for (const status of [307, 308]) {
      const server = await recorder(t, [refusing(status, { Location: '/next' }), holding()]);
      await nextWithin(opened(t, `${server.origin}/`, { method: 'POST', body: 'payload' }), 'open');
      t.same(
        server.requests.map((r) => `${r.method} ${r.url} ${r.body}`),
        ['POST / payload', 'POST /next payload'],
      );
    }
    const server = await recorder(t, [refusing(307, { Location: '/next' }), holding()]);
    const source = opened(t, `${server.origin}/`, { method: 'POST', body: chunksOf('a') });
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.equal(source.readyState, 2);
    t.equal(error.status, 307);
    t.match(error.message, /The redirect from .* \(307\) needs the body again, but the body is an async iterable/);
    t.equal(server.requests.length, 1);
  });

  t.test('bad methods and bodies are a TypeError at construction, before any request', async (t) => {
    const server = await recorder(t, [holding()]);
    const url = `${server.origin}/`;
    for (const [init, message] of [
      [{ method: 'CONNECT' }, /CONNECT is a forbidden method/],
      [{ method: 'trace' }, /trace is a forbidden method/],
      [{ method: 'TRACK' }, /forbidden/],
      [{ method: 'HEAD' }, /HEAD is answered without a body/],
      [{ method: 'GET\r\nX-Injected: 1' }, /is not a valid HTTP method/],
      [{ method: 'PO ST' }, /is not a valid HTTP method/],
      [{ method: '' }, /is not a valid HTTP method/],
      [{ method: 42 }, /number is not a valid HTTP method/],
      [{ body: 'x' }, /a GET request cannot have a body/],
      [{ method: 'get', body: 'x' }, /a GET request cannot have a body/],
      [{ method: 'POST', body: 42 }, /body must be a string, .* not a number/],
      [{ method: 'POST', body: { prompt: 'hi' } }, /body must be .* not an object/],
      [{ method: 'POST', body: 'x', http2: true }, /HTTP\/1\.1 only/],
      [{ method: 'POST', http2: true }, /HTTP\/1\.1 only/],
    ] as const) {
      t.throws(() => new EventSourceClient(url, init as EventSourceClientInit), { name: 'TypeError', message });
    }
    t.doesNotThrow(() => new EventSourceClient(url, { body: null, signal: AbortSignal.abort() }), 'null is no body');
    await severalRetryIntervals(t);
    t.equal(server.requests.length, 0);
  });
});

t.test('EventSource.Client: retry', async (t) => {
  t.test(
    'off by default: a 503 fails the connection, as the standard says and the eventsource package does',
    async (t) => {
      const ours = await recorder(t, [refusing(503, { 'Retry-After': '0' })]);
      const theirs = await recorder(t, [refusing(503, { 'Retry-After': '0' })]);
      const source = opened(t, `${ours.origin}/`);
      const other = new PackageEventSource(`${theirs.origin}/`);
      t.teardown(() => other.close());
      const errors = errorsOf(source);
      await nextWithin(other, 'error');
      await until(() => errors.length === 1);
      t.equal(source.readyState, 2);
      t.equal(other.readyState, 2, 'the package fails it too');
      t.equal(errors[0]?.event.status, 503);
      await severalRetryIntervals(t);
      t.equal(ours.requests.length, 1);
      t.equal(theirs.requests.length, 1);
    },
  );

  t.test('a 503 with Retry-After in seconds: CONNECTING, an error with the status, no request before it', async (t) => {
    const server = await recorder(t, [refusing(503, { 'Retry-After': '1' }), holding()]);
    const source = opened(t, `${server.origin}/`, { retry: { delay: 1 } });
    const events = trace(source, ['open', 'error']);
    const errors = errorsOf(source);
    await nextWithin(source, 'open', 10_000);
    t.same(events, ['error@0', 'open@1']);
    t.equal(errors[0]?.event.status, 503);
    t.match(
      errors[0]?.event.message,
      /answered 503 Service Unavailable \(retry 1 of 10, as its Retry-After asks\); reconnecting in 1\d{3} ms/,
    );
    const [first, second] = server.requests;
    // The backoff alone (delay: 1) would have come back within a few ms.
    t.ok((second?.at ?? 0) - (first?.at ?? 0) >= 900, 'not before Retry-After (1 s, 100 ms margin)');
  });

  t.test('a 429 with Retry-After as an HTTP-date is honoured too', async (t) => {
    const server = await recorder(t, [
      (response) => response.writeHead(429, { 'Retry-After': new Date(Date.now() + 2000).toUTCString() }).end(),
      holding(),
    ]);
    const source = opened(t, `${server.origin}/`, { retry: true });
    const errors = errorsOf(source);
    await nextWithin(source, 'open', 10_000);
    t.equal(errors[0]?.event.status, 429);
    t.equal(errors[0]?.readyState, 0);
    const [first, second] = server.requests;
    // An HTTP-date has whole seconds: 2 s from now is at least 1 s away.
    t.ok((second?.at ?? 0) - (first?.at ?? 0) >= 900, 'not before the date');
  });

  t.test('without Retry-After: backoff, one error per refused attempt, then the stream', async (t) => {
    const server = await recorder(t, [refusing(429), refusing(502), refusing(504), holding('data: at last\n\n')]);
    const source = opened(t, `${server.origin}/`, { retry: { delay: 5 } });
    const events = trace(source, ['open', 'message', 'error']);
    const errors = errorsOf(source);
    const message = await nextWithin<MessageEvent>(source, 'message');
    t.equal(message.data, 'at last');
    t.same(events, ['error@0', 'error@0', 'error@0', 'open@1', 'message@1']);
    t.same(
      errors.map((e) => e.event.status),
      [429, 502, 504],
    );
    t.equal(server.requests.length, 4);
  });

  t.test('a POST is sent again, body and all, on each retry', async (t) => {
    const server = await recorder(t, [refusing(503), holding()]);
    await nextWithin(opened(t, `${server.origin}/`, { method: 'POST', body: 'again', retry: { delay: 5 } }), 'open');
    t.same(
      server.requests.map((r) => `${r.method} ${r.body}`),
      ['POST again', 'POST again'],
    );
  });

  t.test('exhaustion: limit retries, then the connection fails with the status; nothing after', async (t) => {
    const server = await recorder(t, [refusing(503)]);
    const source = opened(t, `${server.origin}/`, { retry: { delay: 5, limit: 3 } });
    const errors = errorsOf(source);
    await until(() => source.readyState === 2);
    t.same(
      errors.map((e) => `${e.event.status}@${e.readyState}`),
      ['503@0', '503@0', '503@0', '503@2'],
    );
    t.match(
      errors[3]?.event.message,
      /answered 503 Service Unavailable; gave up after 3 retries \(retry\.limit\); an event stream needs 200/,
    );
    await severalRetryIntervals(t);
    t.equal(server.requests.length, 4);
  });

  t.test('the count starts again once a stream opens', async (t) => {
    const server = await recorder(t, [refusing(503), ending(), refusing(503), holding()]);
    const source = opened(t, `${server.origin}/`, { retry: { delay: 5, limit: 1 } });
    const events = trace(source, ['open', 'error']);
    await until(() => events.length === 5);
    t.same(events, ['error@0', 'open@1', 'error@0', 'error@0', 'open@1']);
  });

  t.test('backoffLimit caps the backoff: six retries from a 1 s delay come back at once', async (t) => {
    const server = await recorder(t, [
      refusing(503),
      refusing(503),
      refusing(503),
      refusing(503),
      refusing(503),
      holding(),
    ]);
    const source = opened(t, `${server.origin}/`, { retry: { delay: 1000, backoffLimit: 20 } });
    const errors = errorsOf(source);
    // Uncapped, 1 + 2 + 4 + 8 + 16 s (at least half of it with jitter): past until()'s 5 s.
    await nextWithin(source, 'open', 5000);
    t.equal(server.requests.length, 6);
    for (const { event } of errors) {
      const wait = Number(/reconnecting in (\d+) ms/.exec(event.message)?.[1]);
      t.ok(wait >= 10 && wait <= 20, `waits within [backoffLimit/2, backoffLimit]: ${wait}`);
    }
  });

  t.test('statuses not listed, and a Retry-After past maxRetryAfter, fail at once', async (t) => {
    const server = await recorder(t, [refusing(500)]);
    const source = opened(t, `${server.origin}/`, { retry: true });
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.equal(source.readyState, 2, '500 is not in the default list');
    t.equal(error.status, 500);

    const far = await recorder(t, [refusing(503, { 'Retry-After': '3600' })]);
    const patient = opened(t, `${far.origin}/`, { retry: { maxRetryAfter: 60_000 } });
    const refused = await nextWithin<EventSourceErrorEvent>(patient, 'error');
    t.equal(patient.readyState, 2);
    t.match(refused.message, /its Retry-After asks for 3600000 ms, more than retry\.maxRetryAfter \(60000 ms\)/);

    const listed = await recorder(t, [refusing(500), holding()]);
    await nextWithin(opened(t, `${listed.origin}/`, { retry: { statusCodes: [500], delay: 5 } }), 'open');
    t.equal(listed.requests.length, 2, 'a status the application lists is retried');
  });

  t.test('close() in the error listener stops the retries', async (t) => {
    const server = await recorder(t, [refusing(503)]);
    const source = opened(t, `${server.origin}/`, { retry: { delay: 5 } });
    source.onerror = () => source.close();
    const control = await recorder(t, [refusing(503)]);
    opened(t, `${control.origin}/`, { retry: { delay: 5 } });
    await nextWithin(source, 'error');
    await until(() => control.requests.length > 3);
    t.equal(server.requests.length, 1, 'while the same client left alone retries');
    t.equal(source.readyState, 2);
  });

  t.test('an async iterable body cannot be retried: the refusal fails the connection and says why', async (t) => {
    const server = await recorder(t, [refusing(503), holding()]);
    const source = opened(t, `${server.origin}/`, { method: 'POST', body: chunksOf('x'), retry: { delay: 5 } });
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.equal(source.readyState, 2);
    t.equal(error.status, 503);
    t.match(error.message, /cannot reconnect: the body is an async iterable/);
  });

  t.test('over HTTP/2 too: a 503 with Retry-After on a stream is retried', async (t) => {
    let streams = 0;
    const server = http2.createServer();
    server.on('stream', (stream) => {
      if (streams++ === 0) {
        stream.respond({ ':status': 503, 'retry-after': '0' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      stream.write('data: h2\n\n');
    });
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (session) => sessions.add(session));
    t.teardown(() => {
      for (const session of sessions) session.destroy();
    });
    const port = await listen(t, server as unknown as net.Server);
    const source = opened(t, `http://127.0.0.1:${port}/`, { http2: true, retry: true });
    const events = trace(source, ['open', 'message', 'error']);
    const message = await nextWithin<MessageEvent>(source, 'message');
    t.equal(message.data, 'h2');
    t.same(events, ['error@0', 'open@1', 'message@1']);
    t.equal(streams, 2);
  });

  t.test('bad retry values are a TypeError at construction', async (t) => {
    const url = 'http://127.0.0.1:1/';
    for (const [retry, message] of [
      [5, /the reconnection time is the event stream's own "retry:" field/],
      ['yes', /retry must be true, false or/],
      [null, /retry must be true, false or/],
      [{ statusCodes: [200] }, /200 is not an error status/],
      [{ statusCodes: [302] }, /302 is not an error status/],
      [{ statusCodes: 503 }, /must be an array/],
      [{ limit: -1 }, /retry\.limit must be a non-negative integer/],
      [{ limit: 1.5 }, /retry\.limit/],
      [{ delay: Number.NaN }, /retry\.delay/],
      [{ backoffLimit: Number.POSITIVE_INFINITY }, /retry\.backoffLimit must be a non-negative, finite/],
      [{ maxRetryAfter: -5 }, /retry\.maxRetryAfter/],
      [{ retries: 3 }, /retry: unrecognized option "retries"/],
    ] as const) {
      t.throws(() => new EventSourceClient(url, { retry } as unknown as EventSourceClientInit), {
        name: 'TypeError',
        message,
      });
    }
  });
});

t.test('EventSource.Client beside the eventsource package: a POST through its fetch option', async (t) => {
  const ours = await recorder(t, [holding('data: ours\n\n')]);
  const theirs = await recorder(t, [holding('data: theirs\n\n')]);
  const body = JSON.stringify({ model: 'm', stream: true });
  const source = opened(t, `${ours.origin}/v1/chat`, { method: 'POST', body, headers: { Authorization: 'Bearer t' } });
  const other = new PackageEventSource(`${theirs.origin}/v1/chat`, {
    fetch: (input, init) =>
      fetch(input, { ...init, method: 'POST', body, headers: { ...init?.headers, Authorization: 'Bearer t' } }),
  });
  t.teardown(() => other.close());
  const [mine, package_] = await Promise.all([
    nextWithin<MessageEvent>(source, 'message'),
    nextWithin<MessageEvent>(other, 'message'),
  ]);
  t.equal(mine.data, 'ours');
  t.equal(package_.data, 'theirs');
  const [a, b] = [ours.requests[0], theirs.requests[0]];
  for (const field of ['content-type', 'content-length', 'authorization', 'accept'] as const) {
    t.equal(a?.headers[field], b?.headers[field], `${field}: the same as fetch sends`);
  }
  t.equal(a?.method, b?.method);
  t.equal(a?.body.toString(), b?.body.toString());
});

t.test("other clients' options are refused with what to write instead", async (t) => {
  const url = 'http://127.0.0.1:1/';
  for (const [key, hint] of [
    ['fetch', /another library's name; isosocket takes headers, method and body/],
    ['reconnect', /retry option retries the statuses the standard makes fatal/],
    ['node', /the reconnection time is the stream's retry: field/],
    ['reconnectionTime', /the stream's retry: field sets it/],
    ['credentials', /withCredentials/],
    ['openWhenHidden', /Node has no hidden pages/],
    ['onmessage', /the onmessage attribute or addEventListener\('message'\)/],
    ['maxRetries', /retry: \{ limit \}/],
    ['agent', /proxy: \{ origin \}/],
    ['dispatcher', /proxy: \{ origin \}/],
    ['methods', /did you mean method\?/],
    ['retyr', /did you mean retry\?/],
  ] as const) {
    t.throws(() => new EventSourceClient(url, { [key]: true } as EventSourceClientInit), {
      name: 'TypeError',
      message: hint,
    });
  }
  t.throws(() => new WebSocket.Client('ws://127.0.0.1:1/', [], { reconnect: true } as never), {
    name: 'TypeError',
    message: /a WebSocket is never reconnected, as in browsers/,
  });
});
