// WebSockets and event streams over HTTP/2 with a real browser: headless
// Chromium loads an https page from an isosocket server on node:http2
// (allowHTTP1, enableConnectProtocol) and opens its WebSockets on the page's
// HTTP/2 connection with extended CONNECT (RFC 8441). The server must see
// them arrive that way; messages and close codes must cross both ways; and
// the parity scenarios must give the same event trace in Chromium over
// HTTP/1.1, in Chromium over HTTP/2, and in Node's clients over HTTP/2.

import http from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import t from 'tap';
import { Client, EventSourceClient, type EventSourceClientInit } from '../../src/index.js';
import { within } from '../helpers/bounded.js';
import { openPage } from '../helpers/browser.js';
import { http2Server, http2Session } from '../helpers/http2.js';
import { freePort, listen } from '../helpers/listen.js';
import { type Base, inBrowser, parityRoutes, scenarios } from '../helpers/parity.js';
import { until } from '../helpers/peers.js';
import { requirePeer } from '../helpers/require-peer.js';
import { run } from '../helpers/spawn.js';

declare const document: { getElementById(id: string): { textContent: string | null } | null };

// Scenarios with nothing of HTTP/2 in them: a refused TCP connection never
// reaches a server, over either protocol.
const NOT_OVER_HTTP2 = new Set(['connection refused']);

// The extended CONNECTs each scenario makes Chromium send (a WebSocket
// closed while CONNECTING may or may not get as far: not checked).
const CONNECTS: Record<string, string[] | undefined> = {
  'echo text and arraybuffer': ['/echo'],
  'echo blob': ['/echo'],
  'subprotocol selection': ['/echo'],
  'server close with code and reason': ['/server-close'],
  'client close with code and reason': ['/echo'],
  'server answers the upgrade with 403': ['/forbidden'],
  'abrupt server reset': ['/reset'],
  'SSE named events, ids and multi-line data': [],
  'SSE reconnect with Last-Event-ID': [],
  'SSE 204 fails for good': [],
  'SSE wrong content type fails for good': [],
};

t.test('Chromium over HTTP/2', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;

  // What the servers saw: how each WebSocket arrived, and its server-side events.
  const arrivals: string[] = [];
  const serverEvents: string[] = [];
  const routes = parityRoutes((ws, path) => {
    ws.addEventListener('message', (event) => {
      const data = event.data as string | Buffer;
      serverEvents.push(
        `${path} message ${typeof data === 'string' ? `text ${data}` : `binary ${[...data].join(',')}`}`,
      );
    });
    ws.addEventListener('close', (event) => {
      serverEvents.push(`${path} close ${event.code} ${event.reason} ${event.wasClean}`);
    });
  });

  // One HTTP/1.1 server for the reference traces, one HTTP/2 server (HTTP/1.1 allowed).
  const plain = http.createServer(routes.request);
  plain.on('upgrade', routes.upgrade);
  const plainPort = await listen(t, plain);
  const peer = await http2Server(t);
  peer.server.on('request', routes.request);
  peer.server.on('upgrade', (request, socket, head) => {
    arrivals.push(`HTTP/${request.httpVersion} ${request.method} upgrade ${request.url}`);
    routes.upgrade(request, socket, head);
  });
  peer.server.on('connect', (request: Http2ServerRequest, response: Http2ServerResponse) => {
    arrivals.push(
      `HTTP/${request.httpVersion} ${request.method} :protocol=${request.headers[':protocol']} ${request.url}`,
    );
    routes.connect(request, response);
  });

  const refused = `ws://127.0.0.1:${await freePort()}/`;
  const overHttp1: Base = { ws: `ws://127.0.0.1:${plainPort}`, http: `http://127.0.0.1:${plainPort}`, refused };
  const overHttp2: Base = { ws: peer.wss, http: peer.origin, refused };
  const opened = await openPage(t, `${peer.origin}/`, { ignoreHTTPSErrors: true });
  if (!opened) return;
  const { browser, page } = opened;
  const plainPage = await browser.newPage();
  await plainPage.goto(`${overHttp1.http}/`);
  t.equal(peer.sessions.length, 1, 'Chromium loaded the page over one HTTP/2 connection');
  t.equal(peer.sessions[0]?.alpnProtocol, 'h2');

  t.test(
    'opens its WebSockets as extended CONNECT streams on the page connection; messages and close codes cross both ways',
    async (t) => {
      arrivals.length = 0;
      serverEvents.length = 0;
      const log = (await within(
        page.evaluate(`new Promise((resolve) => {
        const log = [];
        const ws = new WebSocket('${peer.wss}/echo');
        ws.binaryType = 'arraybuffer';
        ws.onopen = () => {
          ws.send('über ☃');
          ws.send(new Uint8Array([0, 255, 7]));
        };
        ws.onmessage = (e) => {
          log.push(typeof e.data === 'string' ? 'text ' + e.data : 'binary ' + [...new Uint8Array(e.data)].join(','));
          if (log.length === 2) ws.close(4005, 'done ☃');
        };
        ws.onclose = (e) => {
          log.push('close ' + e.code + ' ' + e.reason + ' ' + e.wasClean);
          resolve(log);
        };
      })`),
        10_000,
        'the echo script in Chromium',
      )) as string[];
      t.same(arrivals, ['HTTP/2.0 CONNECT :protocol=websocket /echo'], 'the server saw an extended CONNECT');
      t.equal(peer.sessions.length, 1, 'on the connection that carried the page: no new TCP connection');
      t.same(log, ['text über ☃', 'binary 0,255,7', 'close 4005 done ☃ true']);
      await until(() => serverEvents.length === 3);
      t.same(serverEvents, [
        '/echo message text über ☃',
        '/echo message binary 0,255,7',
        '/echo close 4005 done ☃ true',
      ]);

      const closed = (await within(
        page.evaluate(`new Promise((resolve) => {
        const ws = new WebSocket('${peer.wss}/server-close', ['superchat']);
        ws.onclose = (e) => resolve([ws.protocol, e.code, e.reason, e.wasClean]);
      })`),
        10_000,
        'the server-close script in Chromium',
      )) as unknown[];
      t.same(closed, ['superchat', 4002, 'server bye', true], "the server's close code and reason reach Chromium");
    },
  );

  t.test('an event stream over the same HTTP/2 connection', async (t) => {
    const sessions = peer.sessions.length;
    const events = (await within(
      page.evaluate(`new Promise((resolve) => {
        const log = [];
        const source = new EventSource('${peer.origin}/sse/named');
        source.onmessage = (e) => {
          log.push(e.data);
          if (e.data === 'last') {
            source.close();
            resolve(log);
          }
        };
      })`),
      10_000,
      'the event stream script in Chromium',
    )) as string[];
    t.same(events, ['two\nlines', '', 'last']);
    t.equal(peer.sessions.length, sessions, 'no new connection');
  });

  t.test('the parity scenarios give one trace over HTTP/1.1 and HTTP/2, in Chromium and in Node', async (t) => {
    // Node's clients share one session, as the page shares its connection.
    const session = http2Session(t, peer.origin, peer.ca);
    class Http2WebSocket extends Client {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { http2: session });
      }
    }
    class Http2EventSource extends EventSourceClient {
      constructor(url: string | URL, init?: EventSourceClientInit) {
        super(url, { ...init, http2: session });
      }
    }
    for (const [name, scenario] of Object.entries(scenarios)) {
      if (NOT_OVER_HTTP2.has(name)) continue;
      t.test(name, async (t) => {
        const reference = await within(
          inBrowser(plainPage, scenario, overHttp1),
          15_000,
          `${name} in Chromium, HTTP/1.1`,
        );
        arrivals.length = 0;
        const browserOverHttp2 = await within(
          inBrowser(page, scenario, overHttp2),
          15_000,
          `${name} in Chromium, HTTP/2`,
        );
        const expected = CONNECTS[name];
        if (expected !== undefined) {
          t.same(
            arrivals,
            expected.map((path) => `HTTP/2.0 CONNECT :protocol=websocket ${path}`),
            'Chromium opened its WebSockets with extended CONNECT, never an HTTP/1.1 upgrade',
          );
        }
        const nodeOverHttp2 = await within(
          scenario({ ...overHttp2, WebSocket: Http2WebSocket as typeof Client, EventSource: Http2EventSource }),
          15_000,
          `${name} in Node, HTTP/2`,
        );
        t.ok(reference.length > 0, 'the browser recorded events');
        t.same(browserOverHttp2, reference, `Chromium over HTTP/1.1: ${JSON.stringify(reference)}`);
        t.same(nodeOverHttp2, reference, 'Node over HTTP/2 gives the same trace');
      });
    }
  });
});

t.test('examples/http2.mjs in Chromium: the page on HTTP/2 opens its WebSocket on the same connection', async (t) => {
  const example = run(t, 'examples/http2.mjs', [], { PORT: '0' });
  const [, port] = await example.waitFor(/on https:\/\/localhost:(\d+)\//);
  // The example's certificate is self-signed, made at start: the context ignores HTTPS errors.
  const opened = await openPage(t, `https://localhost:${port}/`, { ignoreHTTPSErrors: true });
  if (!opened) return;
  const { page } = opened;
  await page.waitForFunction(
    () => (document.getElementById('log')?.textContent ?? '').includes('message: hello over HTTP/2'),
    undefined,
    { timeout: 10_000 },
  );
  await page.fill('#text', 'über');
  await page.click('#send');
  await page.waitForFunction(
    () => (document.getElementById('log')?.textContent ?? '').includes('message: über'),
    undefined,
    {
      timeout: 10_000,
    },
  );
  t.match(
    await page.textContent('#log'),
    /^open\nmessage: hello over HTTP\/2 \(an extended CONNECT stream\)\nmessage: über\n$/,
  );
});
