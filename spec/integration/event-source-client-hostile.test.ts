// A hostile SSE server against EventSource.Client running in a child process
// (spec/fixtures/child.mjs through spec/helpers/child.ts, the built package): odd ids,
// control bytes in fields, a line that never ends, a huge line, redirects to
// odd schemes and invalid or non-ASCII Locations, odd status lines and
// Content-Types, broken framing. After all of it the child is alive, still
// receives events, printed no warning, and its peak RSS (read in the child)
// grew by less than PEAK_RSS_BOUND.
//
// Needs `npm run build` (npm test builds first).

import net from 'node:net';
import t, { type Test } from 'tap';
import { MAX_EVENT_SIZE } from '../../src/sse/client.js';
import { Child, type ChildEvent } from '../helpers/child.js';
import { listen } from '../helpers/listen.js';

/**
 * How much the child's peak RSS may grow over the whole run: three times the
 * 64 MiB that the line that never ends may hold (MAX_EVENT_SIZE one-byte
 * characters) before the client gives up, for the strings, the socket
 * buffers and the collector's lag (about 130 MiB measured). The server keeps
 * that line going to four times the limit, so a client that kept buffering
 * past it would grow by 256 MiB or more and fail here.
 */
const PEAK_RSS_BOUND = 3 * 64 * 2 ** 20;

const STREAM_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n';

/** What the hostile server does for one path: `count` is how many requests that path had before. */
type Route = (socket: net.Socket, count: number, head: Buffer) => void | Promise<void>;

async function hostileServer(t: Test, routes: Record<string, Route>) {
  const requests = new Map<string, Buffer[]>();
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let head = Buffer.alloc(0);
    const ondata = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', ondata);
      socket.resume();
      const request = head.subarray(0, end + 4);
      const path = request.toString('latin1').split(' ')[1] ?? '';
      const seen = requests.get(path) ?? [];
      requests.set(path, [...seen, request]);
      const route = routes[path];
      if (route) void route(socket, seen.length, request);
      else socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    };
    socket.on('data', ondata);
  });
  const port = await listen(t, server);
  return { origin: `http://127.0.0.1:${port}`, requests: (path: string) => requests.get(path) ?? [] };
}

const stream =
  (body: string, { hold = false } = {}): Route =>
  (socket) => {
    socket.write(`${STREAM_HEAD}${body}`);
    if (!hold) socket.end();
  };
const raw =
  (bytes: string): Route =>
  (socket) => {
    socket.end(Buffer.from(bytes, 'latin1'));
  };
const redirect = (location: string): Route =>
  raw(`HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`);
/** Each request gets the next route; the last one repeats. */
const sequence =
  (...routes: Route[]): Route =>
  (socket, count, head) =>
    (routes[Math.min(count, routes.length - 1)] as Route)(socket, count, head);

function lastEventIdOf(request: Buffer | undefined): Buffer | undefined {
  if (!request) return undefined;
  const match = /\r\nLast-Event-ID: ([^\r]*)\r\n/i.exec(request.toString('latin1'));
  return match ? Buffer.from(match[1] as string, 'latin1') : undefined;
}

const LONG_ID = 'i'.repeat(2 ** 20);
const UTF8_ID = '☃ é 𝄞 ü';

t.test('a hostile SSE server cannot crash EventSource.Client or grow its memory unbounded', async (t) => {
  const chunk = Buffer.alloc(2 ** 20, 'a');
  const server = await hostileServer(t, {
    '/probe': stream('data: alive\n\n', { hold: true }),
    '/utf8-id': sequence(stream(`retry: 10\nid: ${UTF8_ID}\ndata: x\n\n`), stream('data: back\n\n', { hold: true })),
    '/long-id': sequence(
      stream(`retry: 10\nid: ${LONG_ID}\ndata: x\n\n`),
      raw('HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n'),
    ),
    '/control-id': sequence(stream('retry: 10\nid: a\x01\x7fb\ndata: x\n\n'), stream('data: back\n\n', { hold: true })),
    '/fields': stream(
      'data: a\0b\nevent: x\0y\ndata: c\r\n\r\nid: bad\0id\ndata: d\n\nevent:\r\ndata: e\r\r: comment \0\n\ndata: f\n\n',
      { hold: true },
    ),
    '/endless-line': async (socket) => {
      socket.write(`${STREAM_HEAD}data: `);
      let sent = 0;
      while (!socket.destroyed && sent < 4 * MAX_EVENT_SIZE) {
        sent += chunk.length;
        if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
      }
      // A client without the limit sees the stream end here, and says so at once.
      socket.end();
    },
    '/huge-line': (socket) => {
      socket.write(`${STREAM_HEAD}data: `);
      for (let i = 0; i < 8; i++) socket.write(chunk);
      socket.write('\n\n');
    },
    '/redirect-file': redirect('file:///etc/passwd'),
    '/redirect-data': redirect('data:text/event-stream,data:%20x%0A%0A'),
    '/redirect-javascript': redirect('javascript:alert(1)'),
    '/redirect-about': redirect('about:blank'),
    '/redirect-invalid-host': redirect('http://['),
    '/redirect-invalid-port': redirect('http://127.0.0.1:99999/'),
    '/redirect-port-zero': redirect('http://127.0.0.1:0/'),
    '/redirect-huge': redirect(`/${'x'.repeat(12_000)}`),
    '/redirect-bare-cr': raw('HTTP/1.1 302 Found\r\nLocation: /a\rX-Injected: 1\r\nContent-Length: 0\r\n\r\n'),
    '/redirect-bare-lf': raw('HTTP/1.1 302 Found\r\nLocation: /a\nX-Injected: 1\r\nContent-Length: 0\r\n\r\n'),
    '/redirect-utf8': redirect('/caf\xc3\xa9'),
    '/caf%C3%A9': stream('data: cafe\n\n', { hold: true }),
    '/redirect-latin1': redirect('/\xff\xfe'),
    '/%EF%BF%BD%EF%BF%BD': stream('data: replaced\n\n', { hold: true }),
    '/redirect-loop': redirect('/redirect-loop'),
    '/type-control': raw('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\x01\r\n\r\ndata: x\n\n'),
    '/type-high': raw('HTTP/1.1 200 OK\r\nContent-Type: \xff\xfe;\x80\r\n\r\ndata: x\n\n'),
    '/status-long': raw('HTTP/1.1 2000 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: x\n\n'),
    '/garbage': raw('hello\r\n\r\n'),
    '/huge-headers': raw(`HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`),
    '/bad-chunked': raw(
      'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n',
    ),
    '/huge-length': raw(
      'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 99999999999999999999\r\n\r\ndata: x\n\n',
    ),
    '/reset': (socket) => {
      socket.write(`${STREAM_HEAD}data: par`);
      setImmediate(() => socket.resetAndDestroy());
    },
    '/retry-huge': stream('retry: 99999999999999999999\ndata: x\n\n'),
  });
  // An odd status line whose reason phrase is not text.
  const statusHigh = await hostileServer(t, {
    '/': raw(
      'HTTP/1.1 200 \xff\xfe\x80\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: opened\n\n',
    ),
  });

  const child = new Child(t);
  const startRss = await child.ready;
  const url = (path: string): string => `${server.origin}${path}`;
  const hasError = (events: ChildEvent[]): boolean => events.some((event) => event.type === 'error');
  const closedWithError = (events: ChildEvent[]): boolean =>
    events.some((event) => event.type === 'error' && event.readyState === 2);

  // Warm up: the first source, so the baseline includes the module and a connection.
  const warm = child.source(url('/probe'));
  await child.until(warm, (events) => events.some((event) => event.data === 'alive'), 'the warm-up message');
  child.close(warm);
  const baseline = (await child.probe()).peakRSS;
  t.comment(
    `child peak RSS: ${(startRss / 2 ** 20).toFixed(1)} MiB at start, ${(baseline / 2 ** 20).toFixed(1)} MiB warm`,
  );

  t.test('a non-ASCII id is sent back as its UTF-8 bytes', async (t) => {
    const id = child.source(url('/utf8-id'));
    const events = await child.until(id, (events) => events.some((event) => event.data === 'back'), 'the reconnection');
    child.close(id);
    t.equal(events[1]?.lastEventId, UTF8_ID);
    t.same(lastEventIdOf(server.requests('/utf8-id')[1]), Buffer.from(UTF8_ID, 'utf8'));
  });

  t.test('an over-long id is sent back whole; the server refusing it with 431 fails the connection', async (t) => {
    const id = child.source(url('/long-id'));
    const events = await child.until(id, closedWithError, 'the 431');
    t.equal(events.at(-1)?.status, 431);
    t.equal(lastEventIdOf(server.requests('/long-id')[1])?.length, LONG_ID.length);
  });

  t.test('an id with control characters: reconnects without Last-Event-ID', async (t) => {
    const id = child.source(url('/control-id'));
    await child.until(id, (events) => events.some((event) => event.data === 'back'), 'the reconnection');
    child.close(id);
    t.equal(server.requests('/control-id').length, 2);
    t.equal(lastEventIdOf(server.requests('/control-id')[1]), undefined);
  });

  t.test('NUL, CR and LF in fields are parsed, never passed on as structure', async (t) => {
    const id = child.source(url('/fields'), undefined, ['x\0y']);
    const events = await child.until(id, (events) => events.some((event) => event.data === 'f'), 'the last event');
    child.close(id);
    t.same(
      events.filter((event) => event.type !== 'open').map((event) => [event.type, event.data, event.lastEventId]),
      [
        ['x\0y', 'a\0b\nc', ''],
        ['message', 'd', ''],
        ['message', 'e', ''],
        ['message', 'f', ''],
      ],
    );
  });

  t.test(`a line that never ends fails the connection past ${MAX_EVENT_SIZE} characters`, async (t) => {
    const id = child.source(url('/endless-line'));
    const events = await child.until(id, hasError, 'the failure', 30_000);
    t.match(events.at(-1), { readyState: 2, message: /exceeded 67108863 characters/ });
    const peak = (await child.probe()).peakRSS;
    t.comment(`child peak RSS after the endless line: ${(peak / 2 ** 20).toFixed(1)} MiB`);
  });

  t.test('a huge line that ends is one event', async (t) => {
    const id = child.source(url('/huge-line'));
    const events = await child.until(
      id,
      (events) => events.some((event) => event.type === 'message'),
      'the event',
      30_000,
    );
    child.close(id);
    t.equal(events.find((event) => event.type === 'message')?.dataLength, 8 * 2 ** 20);
  });

  t.test('redirects to odd schemes and invalid Locations fail the connection', async (t) => {
    for (const path of [
      '/redirect-file',
      '/redirect-data',
      '/redirect-javascript',
      '/redirect-about',
      '/redirect-invalid-host',
      '/redirect-invalid-port',
      '/redirect-loop',
    ]) {
      const id = child.source(url(path));
      const events = await child.until(id, closedWithError, path);
      t.same(
        events.map((event) => event.type),
        ['error'],
        path,
      );
    }
  });

  t.test('odd Locations that parse: followed or a network error, never a crash', async (t) => {
    for (const path of ['/redirect-port-zero', '/redirect-huge', '/redirect-bare-cr', '/redirect-bare-lf']) {
      const id = child.source(url(path));
      await child.until(id, hasError, path);
      child.close(id);
    }
    t.ok(child.alive);
  });

  t.test('a Location in UTF-8 is followed percent-encoded; bytes that are not UTF-8 become U+FFFD', async (t) => {
    for (const [path, data] of [
      ['/redirect-utf8', 'cafe'],
      ['/redirect-latin1', 'replaced'],
    ] as const) {
      const id = child.source(url(path));
      await child.until(id, (events) => events.some((event) => event.data === data), path);
      child.close(id);
    }
    t.pass('both followed');
  });

  t.test('odd Content-Types, status lines, headers and framing end in an error event', async (t) => {
    for (const path of [
      '/type-control',
      '/type-high',
      '/status-long',
      '/garbage',
      '/huge-headers',
      '/bad-chunked',
      '/huge-length',
      '/reset',
    ]) {
      const id = child.source(url(path));
      await child.until(id, hasError, path);
      child.close(id);
    }
    const id = child.source(`${statusHigh.origin}/`);
    await child.until(id, (events) => events.some((event) => event.data === 'opened'), 'a reason phrase of high bytes');
    child.close(id);
    t.pass('each one');
  });

  t.test('a huge retry is clamped: one request, no TimeoutOverflowWarning', async (t) => {
    const id = child.source(url('/retry-huge'));
    const events = await child.until(id, hasError, 'the end of the stream');
    t.match(events.at(-1)?.message, /reconnecting in 2147483647 ms/);
    // An unclamped delay fires after 1 ms; a control stream's reconnection
    // after its 10 ms retry shows that time has passed meanwhile.
    const control = child.source(url('/utf8-id'));
    await child.until(control, (events) => events.some((event) => event.data === 'back'), 'a control reconnection');
    child.close(control);
    child.close(id);
    t.equal(server.requests('/retry-huge').length, 1);
  });

  t.test(
    'afterwards the child is alive, still receives events, printed no warning, and its memory is bounded',
    async (t) => {
      const id = child.source(url('/probe'));
      await child.until(id, (events) => events.some((event) => event.data === 'alive'), 'the probe message');
      child.close(id);
      const probe = await child.probe();
      const growth = probe.peakRSS - baseline;
      t.comment(
        `child peak RSS ${(probe.peakRSS / 2 ** 20).toFixed(1)} MiB (grew ${(growth / 2 ** 20).toFixed(1)} MiB; bound ${PEAK_RSS_BOUND / 2 ** 20} MiB), RSS now ${(probe.rss / 2 ** 20).toFixed(1)} MiB`,
      );
      t.ok(child.alive, 'alive');
      t.same(probe.warnings, []);
      t.equal(probe.open, 0, 'every source closed');
      t.ok(growth < PEAK_RSS_BOUND, `peak RSS grew ${growth} bytes, under ${PEAK_RSS_BOUND}`);
      t.equal(child.stderr, '');
    },
  );
});
