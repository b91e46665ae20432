// EventSource.Client against real servers over loopback: Node's http servers
// and raw TCP servers that answer exactly as each spec tells them (silent,
// half a head, odd bytes). Every wait is bounded; "it does not reconnect" is
// observed for longer than several retry intervals, measured by a control
// EventSource that does reconnect.

import { getEventListeners } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import t, { type Test } from 'tap';
import { EventSourceClient, type EventSourceClientInit, type EventSourceErrorEvent } from '../../src/index.js';
import { MAX_EVENT_SIZE } from '../../src/sse/client.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { startConnectProxy } from '../helpers/proxies.js';
import { trace } from '../helpers/trace.js';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

async function serve(t: Test, handler: Handler): Promise<{ origin: string; port: number; server: http.Server }> {
  const server = http.createServer(handler);
  const port = await listen(t, server);
  return { origin: `http://127.0.0.1:${port}`, port, server };
}

/** A plain http server that writes the given chunks, with pauses, then ends or holds. */
function streamServer(t: Test, chunks: Array<string | Buffer>, { end = false } = {}) {
  return serve(t, async (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/event-stream' });
    for (const chunk of chunks) {
      response.write(chunk);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (end) response.end();
  });
}

/** An EventSource.Client closed with the test, whatever happens in it. */
function opened(t: Test, url: string, init?: EventSourceClientInit): EventSourceClient {
  const source = new EventSourceClient(url, init);
  t.teardown(() => source.close());
  return source;
}

/** Resolves with the next `count` events of the type. */
function collect(source: EventSourceClient, count: number, type = 'message'): Promise<MessageEvent[]> {
  const events: MessageEvent[] = [];
  return within(
    new Promise<MessageEvent[]>((resolve) => {
      source.addEventListener(type, (event) => {
        events.push(event);
        if (events.length === count) resolve(events);
      });
    }),
    5000,
    `${count} '${type}' events`,
  );
}

/** What one raw connection does once its request head has arrived. */
type Answer = (socket: net.Socket) => void;

const STREAM_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n';
/** Answers with an event stream, then ends it (the client reconnects) unless `hold`. */
const streamOf =
  (body: string, { hold = false } = {}): Answer =>
  (socket) => {
    socket.write(`${STREAM_HEAD}${body}`);
    if (!hold) socket.end();
  };
const silence: Answer = () => {};

interface Scripted {
  origin: string;
  /** Each request head received, as bytes. */
  requests: Buffer[];
  readonly closed: number;
}

/**
 * A raw TCP server: the n-th connection gets `answers[n]` (the last one for
 * all that follow), after its request head has arrived.
 */
async function scriptedServer(t: Test, answers: Answer[]): Promise<Scripted> {
  const requests: Buffer[] = [];
  let closed = 0;
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.on('close', () => closed++);
    let head = Buffer.alloc(0);
    const ondata = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', ondata);
      socket.resume();
      const index = requests.length;
      requests.push(head.subarray(0, end + 4));
      (answers[Math.min(index, answers.length - 1)] as Answer)(socket);
    };
    socket.on('data', ondata);
  });
  const port = await listen(t, server);
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    get closed() {
      return closed;
    },
  };
}

/** The raw value of a request header, or undefined. */
function headerOf(request: Buffer | undefined, name: string): Buffer | undefined {
  if (!request) return undefined;
  const text = request.toString('latin1');
  const match = new RegExp(`\r\n${name}: ([^\r]*)\r\n`, 'i').exec(text);
  return match ? Buffer.from(match[1] as string, 'latin1') : undefined;
}

/**
 * Waits while a control EventSource, whose stream ends every time with
 * `retry: 20`, reconnects `times` times: several retry intervals pass, and
 * reconnection demonstrably runs meanwhile. Start it after the action whose
 * absence of reconnection is checked.
 */
async function severalRetryIntervals(t: Test, times = 4): Promise<void> {
  const server = await scriptedServer(t, [streamOf('retry: 20\ndata: control\n\n')]);
  const control = new EventSourceClient(`${server.origin}/`);
  try {
    await until(() => server.requests.length > times, 5000);
  } finally {
    control.close();
  }
}

t.test('EventSource.Client', async (t) => {
  t.test('parses BOM, CR-only lines, CRLF, comments and split UTF-8 as the spec says', async (t) => {
    const snowman = Buffer.from('☃');
    const server = await streamServer(t, [
      Buffer.from([0xef, 0xbb, 0xbf]),
      'data: one\r\r',
      ': a comment\n',
      'data: tw',
      'o\r\n\r\n',
      Buffer.concat([Buffer.from('data: '), snowman.subarray(0, 1)]),
      Buffer.concat([snowman.subarray(1), Buffer.from('\n\n')]),
      'data\n\n',
      'data: a\ndata: b\n\n',
      'unknown: field\ndata: kept\n\n',
      'event\nid\ndata: reset\n\n',
    ]);
    const source = opened(t, `${server.origin}/`);
    const events = await collect(source, 7);
    t.same(
      events.map((e) => e.data),
      ['one', 'two', '☃', '', 'a\nb', 'kept', 'reset'],
    );
    t.equal(events[6]?.type, 'message');
    t.ok(events.every((e) => e.origin === server.origin));
  });

  t.test('keeps lastEventId across events, ignores ids with NUL, resets on an empty id', async (t) => {
    const server = await streamServer(t, [
      'id: 1\ndata: a\n\n',
      'data: b\n\n',
      'id: x\0y\ndata: c\n\n',
      'id\ndata: d\n\n',
    ]);
    const source = opened(t, `${server.origin}/`);
    const events = await collect(source, 4);
    t.same(
      events.map((e) => e.lastEventId),
      ['1', '1', '1', ''],
    );
  });

  t.test('does not dispatch events without data, and takes retry only when all digits', async (t) => {
    const server = await scriptedServer(t, [
      streamOf('retry: 10x\nretry: 30\nevent: x\n\nid: 5\ndata: go\n\n'),
      streamOf('', { hold: true }),
    ]);
    const source = opened(t, `${server.origin}/`);
    let named = 0;
    source.addEventListener('x', () => named++);
    const events = trace(source, ['open', 'message', 'error']);
    const error = nextWithin<EventSourceErrorEvent>(source, 'error');
    await until(() => events.length === 4, 2000); // well under the 3 s default
    t.same(events, ['open@1', 'message@1', 'error@0', 'open@1']);
    t.match((await error).message, /ended; reconnecting in 30 ms$/);
    t.equal(named, 0);
    t.same(
      server.requests.map((request) => headerOf(request, 'Last-Event-ID')?.toString()),
      [undefined, '5'],
    );
  });

  t.test('sends Accept, Cache-Control: no-cache and Pragma: no-cache, as browsers do', async (t) => {
    const server = await scriptedServer(t, [streamOf('data: x\n\n', { hold: true })]);
    const source = opened(t, `${server.origin}/feed?a=1`);
    await nextWithin(source, 'message');
    const request = server.requests[0]?.toString('latin1') ?? '';
    t.match(request, /^GET \/feed\?a=1 HTTP\/1\.1\r\n/);
    t.equal(headerOf(server.requests[0], 'Accept')?.toString(), 'text/event-stream');
    t.equal(headerOf(server.requests[0], 'Cache-Control')?.toString(), 'no-cache');
    t.equal(headerOf(server.requests[0], 'Pragma')?.toString(), 'no-cache');
    t.equal(headerOf(server.requests[0], 'Origin'), undefined, 'no Origin unless the option asks');
  });

  t.test(
    'fails for good on 204, 500 and a wrong Content-Type: CLOSED, one error with the status, no reconnect',
    async (t) => {
      for (const [status, type] of [
        [204, 'text/event-stream'],
        [500, 'text/event-stream'],
        [200, 'text/html'],
      ] as const) {
        t.test(`${status} ${type}`, async (t) => {
          // The first answer sets a 20 ms reconnection time and ends, so a client
          // that wrongly reconnected after the failure would do so within 20 ms.
          const server = await scriptedServer(t, [
            streamOf('retry: 20\n\n'),
            (socket) => socket.end(`HTTP/1.1 ${status} Whatever\r\nContent-Type: ${type}\r\nContent-Length: 0\r\n\r\n`),
          ]);
          const source = opened(t, `${server.origin}/`);
          const events = trace(source, ['open', 'message', 'error']);
          const errors: EventSourceErrorEvent[] = [];
          source.addEventListener('error', (event) => errors.push(event));
          await until(() => events.length === 3);
          t.same(events, ['open@1', 'error@0', 'error@2']);
          t.equal(errors[1]?.status, status);
          await severalRetryIntervals(t);
          t.equal(server.requests.length, 2, 'no request after the failure');
          t.equal(events.length, 3, 'and no further event');
        });
      }
    },
  );

  t.test('error events carry the HTTP status, and code as its alias: a 401 is told from a 503', async (t) => {
    const statuses: Array<number | undefined> = [];
    const codes: Array<number | undefined> = [];
    for (const status of [401, 503, 204]) {
      const server = await serve(t, (_request, response) => response.writeHead(status).end());
      const source = opened(t, `${server.origin}/`);
      const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
      statuses.push(error.status);
      codes.push(error.code);
      t.match(error.message, `answered ${status}`);
    }
    const wrongType = await serve(t, (_request, response) =>
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end(),
    );
    const typed = await nextWithin<EventSourceErrorEvent>(opened(t, `${wrongType.origin}/`), 'error');
    t.match(typed.message, /answered with Content-Type "text\/plain", not text\/event-stream/);
    const untyped = await serve(t, (_request, response) => response.writeHead(200).end());
    t.match(
      (await nextWithin<EventSourceErrorEvent>(opened(t, `${untyped.origin}/`), 'error')).message,
      /Content-Type \(none\)/,
    );
    const longType = await serve(t, (_request, response) =>
      response.writeHead(200, { 'Content-Type': `text/html; ${'x'.repeat(500)}` }).end(),
    );
    t.match(
      (await nextWithin<EventSourceErrorEvent>(opened(t, `${longType.origin}/`), 'error')).message,
      /Content-Type "text\/html; x{89}…", not/,
      'quoted up to 100 characters',
    );
    t.same(statuses, [401, 503, 204]);
    t.same(codes, [401, 503, 204]);
    t.equal(typed.status, 200);

    const refused = await serve(t, () => {});
    await new Promise((resolve) => refused.server.close(resolve));
    const network = opened(t, `${refused.origin}/`);
    const error = await nextWithin<EventSourceErrorEvent>(network, 'error');
    t.equal(error.status, undefined, 'a network error has no status');
    t.equal(error.code, undefined);
    t.type(error.error, Error, 'and carries the underlying error');
  });

  t.test('follows redirects, and drops its headers on a redirect to another origin', async (t) => {
    const target = await serve(t, (request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.end(`data: ${request.headers.authorization ?? 'no auth'}\n\n`);
    });
    const sameOrigin = await serve(t, (request, response) => {
      if (request.url === '/start') {
        response.writeHead(302, { Location: '/moved' }).end();
      } else if (request.url === '/moved') {
        response.writeHead(307, { Location: `http://localhost:${target.port}/elsewhere` }).end();
      }
    });
    const first = opened(t, `${sameOrigin.origin}/start`, { headers: { Authorization: 'Bearer secret' } });
    const event = await nextWithin<MessageEvent>(first, 'message');
    t.equal(event.data, 'no auth');
    t.equal(event.origin, `http://localhost:${target.port}`);
    t.equal(first.url, `${sameOrigin.origin}/start`);

    const kept = await serve(t, (request, response) => {
      if (request.url === '/a') return void response.writeHead(301, { Location: '/b' }).end();
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.end(`data: ${request.headers.authorization}\n\n`);
    });
    const second = opened(t, `${kept.origin}/a`, { headers: { Authorization: 'Bearer kept' } });
    t.equal((await nextWithin<MessageEvent>(second, 'message')).data, 'Bearer kept');
  });

  t.test('reads a Location as UTF-8, as browsers do, and percent-encodes it', async (t) => {
    const paths: string[] = [];
    const server = await serve(t, (request, response) => {
      paths.push(String(request.url));
      if (request.url === '/start') {
        // Node writes header strings as Latin-1: these are the UTF-8 bytes of "/café".
        response.writeHead(302, { Location: Buffer.from('/café?q=☃').toString('latin1') }).end();
        return;
      }
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write('data: arrived\n\n');
    });
    const source = opened(t, `${server.origin}/start`);
    t.equal((await nextWithin<MessageEvent>(source, 'message')).data, 'arrived');
    t.same(paths, ['/start', '/caf%C3%A9?q=%E2%98%83']);
  });

  t.test('a redirect it cannot follow fails the connection, with the status', async (t) => {
    for (const [location, pattern] of [
      ['http://[', /has an invalid Location: "http:\/\/\["/],
      ['http://127.0.0.1:99999/', /has an invalid Location/],
      ['file:///etc/passwd', /Cannot fetch file:\/\/\/etc\/passwd: only http: and https: are supported/],
      ['javascript:alert(1)', /Cannot fetch javascript:alert\(1\)/],
    ] as const) {
      const server = await serve(t, (_request, response) => response.writeHead(302, { Location: location }).end());
      const source = opened(t, `${server.origin}/`);
      const events = trace(source, ['open', 'error']);
      const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
      t.match(error.message, pattern, location);
      t.same(events, ['error@2'], location);
    }
    const long = await serve(t, (_request, response) =>
      response.writeHead(302, { Location: `http://[${'x'.repeat(1000)}` }).end(),
    );
    const longError = await nextWithin<EventSourceErrorEvent>(opened(t, `${long.origin}/`), 'error');
    t.match(longError.message, /has an invalid Location: "http:\/\/\[x{192}…"$/, 'quoted up to 200 characters');
    const invalid = await serve(t, (_request, response) => response.writeHead(307, { Location: 'http://[' }).end());
    t.equal((await nextWithin<EventSourceErrorEvent>(opened(t, `${invalid.origin}/`), 'error')).status, 307);
  });

  t.test(
    'a Location only redirects a redirect status: a 200 with one is a stream, a 302 without one fails',
    async (t) => {
      const stream = await serve(t, (_request, response) => {
        response.writeHead(200, { 'Content-Type': 'text/event-stream ; charset=utf-8', Location: '/elsewhere' });
        response.end('data: here\n\n');
      });
      const source = opened(t, `${stream.origin}/`);
      t.equal(
        (await nextWithin<MessageEvent>(source, 'message')).data,
        'here',
        'read, not followed (and the type read loosely)',
      );
      source.close();
      const bare = await serve(t, (_request, response) => response.writeHead(302, 'Found').end());
      const failed = opened(t, `${bare.origin}/`);
      const events = trace(failed, ['open', 'error']);
      const error = await nextWithin<EventSourceErrorEvent>(failed, 'error');
      t.equal(error.message, `${bare.origin}/ answered 302 Found; an event stream needs 200`);
      t.equal(error.status, 302);
      t.same(events, ['error@2']);
    },
  );

  t.test('a refusal names the status and its reason phrase, cut at 100 characters', async (t) => {
    const server = await serve(t, (_request, response) => response.writeHead(503, 'Busy'.repeat(40)).end());
    const error = await nextWithin<EventSourceErrorEvent>(opened(t, `${server.origin}/`), 'error');
    t.equal(error.message, `${server.origin}/ answered 503 ${'Busy'.repeat(25)}; an event stream needs 200`);
  });

  t.test('gives up after too many redirects', async (t) => {
    let requests = 0;
    const server = await serve(t, (_request, response) => {
      requests++;
      response.writeHead(302, { Location: '/again' }).end();
    });
    const source = opened(t, `${server.origin}/`);
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.match(error.message, /Too many redirects \(over 20\)/);
    t.equal(error.status, 302);
    t.equal(source.readyState, EventSourceClient.CLOSED);
    t.equal(requests, 21, 'the first request and 20 redirects');
  });

  t.test('reconnects after connection refused, and close() stops it', async (t) => {
    const server = await serve(t, () => {});
    const port = server.port;
    await new Promise((resolve) => server.server.close(resolve));
    const source = opened(t, `http://127.0.0.1:${port}/`);
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.equal(source.readyState, EventSourceClient.CONNECTING);
    t.match(error.message, /ECONNREFUSED/);
    source.close();
    t.equal(source.readyState, EventSourceClient.CLOSED);
  });

  t.test('sends headers, and goes through a CONNECT proxy', async (t) => {
    const proxy = await startConnectProxy(t);
    const server = await serve(t, (request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write(`data: ${request.headers['x-token']} ${request.headers.accept}\n\n`);
    });
    const source = opened(t, `${server.origin}/`, {
      headers: { 'X-Token': 't1' },
      proxy: { origin: proxy.origin },
      withCredentials: true,
    });
    t.equal(source.withCredentials, true);
    t.equal((await nextWithin<MessageEvent>(source, 'message')).data, 't1 text/event-stream');
    t.equal(proxy.requests.length, 1);
  });

  t.test('throws SyntaxError for an unparsable URL and TypeError for a bad option, before any request', async (t) => {
    let requests = 0;
    const server = await serve(t, () => requests++);
    t.throws(() => new EventSourceClient('not a url'), { name: 'SyntaxError' });
    for (const init of [
      42,
      { header: { A: 'b' } },
      { rejectUnauthorized: false },
      { proxy: 'proxy.test:3128' },
      { proxy: { origin: 'ftp://proxy.test' } },
      { handshakeTimeout: -1 },
      { signal: {} },
      { origin: 'https://app.example/' },
      { headers: { 'X-Snowman': '☃' } },
      { tls: 'yes' },
    ]) {
      t.throws(() => new EventSourceClient(`${server.origin}/`, init as never), TypeError, JSON.stringify(init));
    }
    await new Promise((resolve) => setImmediate(resolve));
    t.equal(requests, 0);
  });

  t.test('fails a non-http(s) URL asynchronously; close() first means no event', async (t) => {
    const source = opened(t, 'ftp://127.0.0.1/');
    t.equal(source.readyState, EventSourceClient.CONNECTING);
    const closedFirst = opened(t, 'ftp://127.0.0.1/');
    const events = trace(closedFirst, ['open', 'message', 'error']);
    closedFirst.close();
    await nextWithin(source, 'error');
    t.equal(source.readyState, EventSourceClient.CLOSED);
    t.same(events, [], 'the closed one dispatched nothing');
  });

  t.test('close() inside onmessage: the rest of the same chunk is not dispatched', async (t) => {
    const server = await scriptedServer(t, [streamOf('data: one\n\ndata: two\n\ndata: three\n\n', { hold: true })]);
    const source = opened(t, `${server.origin}/`);
    const data: string[] = [];
    const first = new Promise<void>((resolve) => {
      source.onmessage = (event) => {
        data.push(event.data);
        source.close();
        resolve();
      };
    });
    await within(first, 5000, 'the first message');
    await until(() => server.closed === 1);
    t.same(data, ['one']);
  });
});

t.test('EventSource.Client: Last-Event-ID', async (t) => {
  t.test('a non-Latin-1 id is sent back UTF-8 encoded, as browsers do', async (t) => {
    const id = '☃ é 𝄞 ü';
    const server = await scriptedServer(t, [
      streamOf(`retry: 20\nid: ${id}\ndata: x\n\n`),
      streamOf('data: again\n\n', { hold: true }),
    ]);
    const source = opened(t, `${server.origin}/`);
    const messages = await collect(source, 2);
    t.equal(messages[0]?.lastEventId, id);
    t.same(headerOf(server.requests[1], 'Last-Event-ID'), Buffer.from(id, 'utf8'));
  });

  t.test('an id with a control character HTTP cannot carry is not sent; the client goes on', async (t) => {
    const server = await scriptedServer(t, [
      streamOf('retry: 20\nid: a\x01b\ndata: x\n\n'),
      streamOf('data: again\n\n', { hold: true }),
    ]);
    const source = opened(t, `${server.origin}/`);
    const messages = await collect(source, 2);
    t.equal(messages[0]?.lastEventId, 'a\x01b', 'the event still reports it');
    t.equal(headerOf(server.requests[1], 'Last-Event-ID'), undefined);
    t.equal(source.readyState, EventSourceClient.OPEN);
  });
});

t.test('EventSource.Client: origin', async (t) => {
  t.test('is sent as Origin; after a redirect through another origin it becomes null (Fetch)', async (t) => {
    const b = await scriptedServer(t, [streamOf('data: b\n\n', { hold: true })]);
    const seen: Array<[string, string | undefined]> = [];
    const a = await serve(t, (request, response) => {
      seen.push([String(request.url), request.headers.origin]);
      if (request.url === '/start') return void response.writeHead(302, { Location: '/same' }).end();
      if (request.url === '/same') return void response.writeHead(302, { Location: `${b.origin}/hop` }).end();
      response.writeHead(200, { 'Content-Type': 'text/event-stream' }).write('data: a\n\n');
    });
    // Another origin that redirects back to A's /final.
    const back = await scriptedServer(t, [
      (socket) => socket.end(`HTTP/1.1 302 Found\r\nLocation: ${a.origin}/final\r\nContent-Length: 0\r\n\r\n`),
    ]);

    const direct = opened(t, `${a.origin}/start`, { origin: a.origin });
    await nextWithin(direct, 'message');
    t.equal(headerOf(b.requests[0], 'Origin')?.toString(), a.origin, 'A -> B with A as origin: not tainted');

    const tainted = opened(t, `${a.origin}/start`, { origin: 'https://app.example' });
    await nextWithin(tainted, 'message');
    t.equal(headerOf(b.requests[1], 'Origin')?.toString(), 'null', 'A -> B with another origin: tainted');

    const returning = opened(t, `${back.origin}/hop`, { origin: a.origin });
    t.equal((await nextWithin<MessageEvent>(returning, 'message')).data, 'a');
    t.same(seen, [
      ['/start', a.origin],
      ['/same', a.origin],
      ['/start', 'https://app.example'],
      ['/same', 'https://app.example'],
      ['/final', 'null'],
    ]);
    t.equal(headerOf(back.requests[0], 'Origin')?.toString(), a.origin);
  });
});

t.test('EventSource.Client: handshakeTimeout', async (t) => {
  t.test('a server that accepts and never answers: a network error, then it reconnects', async (t) => {
    const server = await scriptedServer(t, [
      streamOf('retry: 20\n\n'),
      silence,
      streamOf('data: after the timeout\n\n', { hold: true }),
    ]);
    const source = opened(t, `${server.origin}/`, { handshakeTimeout: 200 });
    const events = trace(source, ['open', 'message', 'error']);
    const errors: EventSourceErrorEvent[] = [];
    source.addEventListener('error', (event) => errors.push(event));
    const message = await nextWithin<MessageEvent>(source, 'message', 5000);
    t.equal(message.data, 'after the timeout');
    t.same(events, ['open@1', 'error@0', 'error@0', 'open@1', 'message@1']);
    t.match(
      errors[1]?.message,
      /^No response from http:\/\/127\.0\.0\.1:\d+\/: The opening handshake took longer than 200 ms \(handshakeTimeout\); reconnecting in 20 ms$/,
    );
    t.equal(errors[1]?.status, undefined);
    await until(() => server.closed >= 2);
  });

  t.test('a server that sends half a response head: the same', async (t) => {
    const server = await scriptedServer(t, [
      streamOf('retry: 20\n\n'),
      (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/ev'),
      streamOf('data: whole\n\n', { hold: true }),
    ]);
    const source = opened(t, `${server.origin}/`, { handshakeTimeout: 200 });
    const errors: EventSourceErrorEvent[] = [];
    source.addEventListener('error', (event) => errors.push(event));
    t.equal((await nextWithin<MessageEvent>(source, 'message', 5000)).data, 'whole');
    t.match(errors[1]?.message, /^No response from .*took longer than 200 ms \(handshakeTimeout\)/);
  });

  t.test('a proxy that never answers CONNECT: the error names the proxy', async (t) => {
    const proxy = await scriptedServer(t, [silence]);
    const source = opened(t, 'http://127.0.0.1:9/', {
      handshakeTimeout: 200,
      proxy: { origin: proxy.origin },
    });
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.match(error.message, /Proxy 127\.0\.0\.1:\d+ did not answer CONNECT to 127\.0\.0\.1:9: .*200 ms/);
    t.equal(source.readyState, EventSourceClient.CONNECTING);
  });

  t.test('a slow stream after its head is not cut: the deadline ends with the response head', async (t) => {
    const server = await scriptedServer(t, [
      (socket) => {
        socket.write(STREAM_HEAD);
        // The first event comes well after handshakeTimeout.
        setTimeout(() => socket.write('data: late but fine\n\n'), 300);
      },
    ]);
    const source = opened(t, `${server.origin}/`, { handshakeTimeout: 100 });
    const events = trace(source, ['open', 'message', 'error']);
    t.equal((await nextWithin<MessageEvent>(source, 'message')).data, 'late but fine');
    t.same(events, ['open@1', 'message@1']);
  });
});

t.test('EventSource.Client: signal', async (t) => {
  t.test('an already aborted signal: CLOSED at once, nothing fetched, no event', async (t) => {
    const server = await scriptedServer(t, [streamOf('data: x\n\n', { hold: true })]);
    const controller = new AbortController();
    controller.abort();
    const source = opened(t, `${server.origin}/`, { signal: controller.signal });
    const events = trace(source, ['open', 'message', 'error']);
    t.equal(source.readyState, EventSourceClient.CLOSED);
    const control = opened(t, `${server.origin}/`);
    await nextWithin(control, 'message');
    t.equal(server.requests.length, 1, 'only the control connected');
    t.same(events, []);
  });

  t.test('aborting while connecting is close(): CLOSED, no error, the socket closed', async (t) => {
    const server = await scriptedServer(t, [silence]);
    const controller = new AbortController();
    const source = opened(t, `${server.origin}/`, { signal: controller.signal });
    const events = trace(source, ['open', 'message', 'error']);
    await until(() => server.requests.length === 1);
    controller.abort();
    t.equal(source.readyState, EventSourceClient.CLOSED);
    await until(() => server.closed === 1);
    t.same(events, []);
  });

  t.test('aborting while open is close() too', async (t) => {
    const server = await scriptedServer(t, [streamOf('data: x\n\n', { hold: true })]);
    const controller = new AbortController();
    const source = opened(t, `${server.origin}/`, { signal: controller.signal });
    const events = trace(source, ['open', 'message', 'error']);
    await nextWithin(source, 'message');
    controller.abort();
    t.equal(source.readyState, EventSourceClient.CLOSED);
    await until(() => server.closed === 1);
    t.same(events, ['open@1', 'message@1']);
  });

  t.test('aborting during the retry wait: no reconnection', async (t) => {
    const server = await scriptedServer(t, [streamOf('retry: 20\ndata: x\n\n')]);
    const controller = new AbortController();
    const source = opened(t, `${server.origin}/`, { signal: controller.signal });
    await nextWithin(source, 'error');
    controller.abort();
    await severalRetryIntervals(t);
    t.equal(server.requests.length, 1);
    t.equal(source.readyState, EventSourceClient.CLOSED);
  });

  t.test('close() lets go of the signal: one long-lived signal does not collect listeners', async (t) => {
    const server = await scriptedServer(t, [(socket) => socket.write(`${STREAM_HEAD}data: x\n\n`)]);
    const controller = new AbortController();
    const source = opened(t, `${server.origin}/`, { signal: controller.signal });
    t.equal(getEventListeners(controller.signal, 'abort').length, 1, 'listening while open');
    await nextWithin(source, 'message');
    source.close();
    t.equal(getEventListeners(controller.signal, 'abort').length, 0, 'no listener after close()');
  });
});

t.test('EventSource.Client: close() means no reconnection, whenever it is called', async (t) => {
  t.test('inside onerror', async (t) => {
    const server = await scriptedServer(t, [streamOf('retry: 20\ndata: x\n\n')]);
    const source = opened(t, `${server.origin}/`);
    const events = trace(source, ['open', 'message', 'error']);
    const closed = new Promise<void>((resolve) => {
      source.onerror = () => {
        source.close();
        resolve();
      };
    });
    await within(closed, 5000, 'the error event');
    await severalRetryIntervals(t);
    t.equal(server.requests.length, 1);
    t.same(events, ['open@1', 'message@1', 'error@0'], 'error dispatched while CONNECTING, then closed');
    t.equal(source.readyState, EventSourceClient.CLOSED);
  });

  t.test('during the retry wait', async (t) => {
    const server = await scriptedServer(t, [streamOf('retry: 20\ndata: x\n\n')]);
    const source = opened(t, `${server.origin}/`);
    await nextWithin(source, 'error');
    await new Promise((resolve) => setImmediate(resolve));
    t.equal(source.readyState, EventSourceClient.CONNECTING, 'waiting to reconnect');
    const timers = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timers();
    source.close();
    t.equal(timers(), before - 1, 'close() cleared the retry timer');
    await severalRetryIntervals(t);
    t.equal(server.requests.length, 1);
  });

  t.test('while open: the stream is dropped and nothing follows', async (t) => {
    const server = await scriptedServer(t, [(socket) => socket.write(`${STREAM_HEAD}retry: 20\ndata: x\n\n`)]);
    const source = opened(t, `${server.origin}/`);
    const events = trace(source, ['open', 'message', 'error']);
    await nextWithin(source, 'message');
    source.close();
    await until(() => server.closed === 1);
    await severalRetryIntervals(t);
    t.equal(server.requests.length, 1);
    t.same(events, ['open@1', 'message@1']);
  });
});

t.test('EventSource.Client: limits', async (t) => {
  t.test('a retry past 2^31 - 1 ms is clamped: no reconnection storm, no TimeoutOverflowWarning', async (t) => {
    const warnings: string[] = [];
    const onwarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onwarning);
    t.teardown(() => process.off('warning', onwarning));
    const server = await scriptedServer(t, [streamOf('retry: 99999999999999999999\ndata: x\n\n')]);
    const source = opened(t, `${server.origin}/`);
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error');
    t.match(error.message, /reconnecting in 2147483647 ms$/);
    await severalRetryIntervals(t);
    t.equal(server.requests.length, 1);
    t.same(warnings, []);
  });

  t.test(`an event over ${MAX_EVENT_SIZE} characters fails the connection, streamed`, async (t) => {
    t.equal(MAX_EVENT_SIZE, 2 ** 26 - 1);
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    let sent = 0;
    const server = await scriptedServer(t, [
      async (socket) => {
        socket.write(`${STREAM_HEAD}data: `);
        // One line, 1 MiB at a time, until the client hangs up or the limit is passed.
        while (!socket.destroyed && sent <= MAX_EVENT_SIZE + chunk.length) {
          sent += chunk.length;
          if (!socket.write(chunk))
            await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
        }
        // A client without the limit sees the stream end here, and says so at once.
        socket.end();
      },
    ]);
    const started = process.hrtime.bigint();
    const source = opened(t, `${server.origin}/`);
    const events = trace(source, ['open', 'message', 'error']);
    const error = await nextWithin<EventSourceErrorEvent>(source, 'error', 30_000);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    t.comment(`${(sent / 2 ** 20).toFixed(0)} MiB sent; failed after ${ms.toFixed(0)} ms`);
    t.match(error.message, /^An event from http:\/\/127\.0\.0\.1:\d+\/ exceeded 67108863 characters$/);
    t.same(events, ['open@1', 'error@2']);
    t.ok(sent > MAX_EVENT_SIZE, 'not before the limit');
    await until(() => server.closed === 1);
  });
});
