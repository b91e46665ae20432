// The server-side WebSocket over HTTP/2 (RFC 8441) on a node:http2 secure
// server that also serves HTTP/1.1: made from the compatibility API's
// 'connect' event or the core API's 'stream' event, against Node's own
// HTTP/2 client (driven by hand, to see the stream itself) and
// WebSocket.Client over HTTP/2; `ws` and undici over HTTP/1.1 on the same
// port.

import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import t, { type Test } from 'tap';
import { Agent, WebSocket as UndiciWebSocket } from 'undici';
import WS from 'ws';
import { Client, type CloseEvent, type ErrorEvent, type ServerOptions, WebSocket } from '../../src/index.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { type Http2Peer, http2Server, http2Session, rawConnect, settled } from '../helpers/http2.js';
import { until } from '../helpers/peers.js';
import { requirePeer } from '../helpers/require-peer.js';
import { recordEvents } from '../helpers/trace.js';
import { closeCodeIn, frame } from '../helpers/wire.js';

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);

/**
 * An HTTP/2 server with pages, whose CONNECTs become WebSockets (the
 * compatibility API), echoing; `made` collects the server sockets.
 */
async function echoServer(
  t: Test,
  protocols: string[] = [],
  options: ServerOptions = {},
): Promise<Http2Peer & { made: WebSocket[]; next(): Promise<WebSocket> }> {
  const peer = await http2Server(t);
  const made: WebSocket[] = [];
  const waiting = new Map<number, (ws: WebSocket) => void>();
  let taken = 0;
  peer.server.on('request', (_request, response) => response.end('page'));
  peer.server.on('connect', (request: Http2ServerRequest, response: Http2ServerResponse) => {
    const ws = new WebSocket(request, response, protocols, options);
    ws.onmessage = (event) => ws.send(event.data);
    made.push(ws);
    waiting.get(made.length - 1)?.(ws);
  });
  return {
    ...peer,
    made,
    // The server sockets in the order they were made, each once.
    next: () => {
      const index = taken++;
      return within(
        new Promise<WebSocket>((resolve) => {
          const ready = made[index];
          if (ready) resolve(ready);
          else waiting.set(index, resolve);
        }),
        5000,
        'a server socket',
      );
    },
  };
}

t.test('WebSocket (server) over HTTP/2', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;

  t.test('from the compatibility API', async (t) => {
    t.test("opens from the 'connect' event's request and response, with url, origin and protocol", async (t) => {
      const peer = await echoServer(t, ['chat', 'superchat']);
      const session = http2Session(t, peer.origin, peer.ca);
      const ws = new Client(`${peer.wss}/room/1?x=y`, ['superchat', 'chat'], {
        http2: session,
        origin: 'https://app.example',
      });
      const server = await peer.next();
      const events = recordEvents(server);
      await nextWithin(ws, 'open');
      t.equal(server.url, `${peer.wss}/room/1?x=y`, 'wss: from the TLS connection, :authority and :path');
      t.equal(server.protocol, 'superchat', "the client's first choice the server supports");
      t.equal(ws.protocol, 'superchat');
      ws.send('hello ☃');
      t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, 'hello ☃');
      ws.send(new Uint8Array([1, 2, 3]));
      const echoed = await nextWithin<MessageEvent>(ws, 'message');
      t.same([...new Uint8Array(await (echoed.data as Blob).arrayBuffer())], [1, 2, 3]);
      ws.close(4000, 'bye');
      const close = await nextWithin<CloseEvent>(ws, 'close');
      t.same([close.code, close.reason, close.wasClean], [4000, 'bye', true]);
      await until(() => events.length === 4);
      t.same(events, ['open@1', 'message@1', 'message@1', 'close:4000@3']);
    });

    t.test('the message origin is the Origin the client sent', async (t) => {
      const peer = await echoServer(t);
      const session = http2Session(t, peer.origin, peer.ca);
      const ws = new Client(`${peer.wss}/`, [], { http2: session, origin: 'https://app.example' });
      const server = await peer.next();
      await nextWithin(ws, 'open');
      const received = nextWithin<MessageEvent>(server, 'message');
      ws.send('x');
      t.equal((await received).origin, 'https://app.example');
      ws.close();
    });

    t.test(
      'takes protocols and options after (request, response), or after a head as a shared upgrade handler passes',
      async (t) => {
        const peer = await http2Server(t);
        const built: WebSocket[] = [];
        // One handler for both events, as faye users write it for 'upgrade'.
        const accept = (
          request: IncomingMessage | Http2ServerRequest,
          socket: Duplex | Http2ServerResponse,
          head?: Buffer,
        ) => {
          const path = request.url;
          const ws =
            path === '/four'
              ? new WebSocket(request as Http2ServerRequest, socket as Http2ServerResponse, undefined, { ping: 7 })
              : new WebSocket(request, socket, head, ['chat'], { maxLength: 5 });
          built.push(ws);
          ws.onmessage = (event) => ws.send(event.data);
        };
        // Node's compatibility layer, and with it the 'connect' event, starts with a 'request' listener.
        peer.server.on('request', (_request, response) => response.end('page'));
        peer.server.on('upgrade', accept);
        peer.server.on('connect', accept);
        const session = http2Session(t, peer.origin, peer.ca);

        const overHttp2 = new Client(`${peer.wss}/five`, ['chat'], { http2: session });
        await nextWithin(overHttp2, 'open');
        t.equal(overHttp2.protocol, 'chat', 'protocols in fourth place, after an absent head');
        overHttp2.send('123456');
        t.equal((await nextWithin<CloseEvent>(overHttp2, 'close')).code, 1009, 'maxLength 5 in fifth place applied');

        const four = new Client(`${peer.wss}/four`, ['chat'], { http2: session });
        await nextWithin(four, 'open');
        t.equal(four.protocol, '', 'no protocols: options in fourth place');
        four.close();

        const overHttp1 = new WS(`${peer.wss}/five`, ['chat'], { ca: peer.ca });
        overHttp1.on('error', () => {});
        t.teardown(() => overHttp1.terminate());
        await once(overHttp1, 'open');
        t.equal(overHttp1.protocol, 'chat', 'the same handler answers an HTTP/1.1 upgrade on the same port');
        t.equal(built.length, 3);
      },
    );

    t.test('sends the application headers on its 200, without the fields HTTP/2 forbids', async (t) => {
      const peer = await echoServer(t, [], { headers: { 'X-Served-By': 'iso', Connection: 'keep-alive' } });
      const session = http2Session(t, peer.origin, peer.ca);
      const raw = await rawConnect(session, '/');
      t.equal(raw.response[':status'], 200);
      t.equal(raw.response['x-served-by'], 'iso');
      t.equal(raw.response.connection, undefined);
      t.equal(raw.response['sec-websocket-accept'], undefined, 'no Sec-WebSocket-Accept over HTTP/2 (RFC 8441 §5)');
      t.equal(raw.response.upgrade, undefined);
      raw.stream.close();
    });

    t.test('negotiates permessage-deflate on the CONNECT and its 200 (RFC 8441 §5)', async (t) => {
      const peer = await echoServer(t, [], { perMessageDeflate: true });
      const session = http2Session(t, peer.origin, peer.ca);
      const ws = new Client(`${peer.wss}/`, [], { http2: session });
      const server = await peer.next();
      await nextWithin(ws, 'open');
      t.match(ws.extensions, /^permessage-deflate/);
      t.equal(server.extensions, ws.extensions);
      const big = 'compressible '.repeat(10_000);
      ws.send(big);
      t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, big);
      ws.close();
    });

    t.test('handleProtocols gets the offered list and the request', async (t) => {
      const seen: string[] = [];
      const peer = await echoServer(t, [], {
        handleProtocols: (offered, request) => {
          seen.push(`${offered.join(',')} ${String(request.headers[':path'])}`);
          return offered.at(-1) ?? false;
        },
      });
      const session = http2Session(t, peer.origin, peer.ca);
      const ws = new Client(`${peer.wss}/chooser`, ['a', 'b'], { http2: session });
      await nextWithin(ws, 'open');
      t.equal(ws.protocol, 'b');
      t.same(seen, ['a,b /chooser']);
      ws.close();
    });
  });

  t.test("from the core API's stream event", async (t) => {
    t.test('opens from (stream, headers) on a server without a request listener', async (t) => {
      const peer = await http2Server(t);
      const seen: string[] = [];
      peer.server.on('stream', (stream: ServerHttp2Stream, headers) => {
        if (!WebSocket.isWebSocket(headers)) {
          stream.respond({ ':status': 404 });
          stream.end();
          return;
        }
        const ws = new WebSocket(stream, headers, ['chat'], {
          handleProtocols: (offered, request) => {
            seen.push(`${offered.join(',')} ${String(request.headers[':path'])}`);
            return offered[0] ?? false;
          },
        });
        ws.onmessage = (event) => ws.send(`echo ${event.data}`);
        seen.push(ws.url);
      });
      const session = http2Session(t, peer.origin, peer.ca);
      const ws = new Client(`${peer.wss}/core`, ['chat'], { http2: session });
      await nextWithin(ws, 'open');
      t.equal(ws.protocol, 'chat');
      ws.send('hi');
      t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, 'echo hi');
      t.same(seen, [`${peer.wss}/core`, 'chat /core']);
      ws.close();
      await nextWithin(ws, 'close');
    });

    t.test("fails with a message naming 'connect' when Node's compatibility layer answered 405", async (t) => {
      for (const order of ['request listener first', 'stream listener first'] as const) {
        t.test(order, async (t) => {
          const peer = await http2Server(t);
          const failures: string[] = [];
          const onRequest = (_request: unknown, response: Http2ServerResponse): void => {
            response.end('page');
          };
          const onStream = (stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void => {
            if (!WebSocket.isWebSocket(headers)) return;
            const ws = new WebSocket(stream, headers);
            ws.onerror = (event) => failures.push((event as ErrorEvent).message);
            ws.onclose = (event) => failures.push(`close ${event.code}`);
          };
          if (order === 'request listener first') {
            peer.server.on('request', onRequest);
            peer.server.on('stream', onStream);
          } else {
            peer.server.on('stream', onStream);
            peer.server.on('request', onRequest);
          }
          const session = http2Session(t, peer.origin, peer.ca);
          const ws = new Client(`${peer.wss}/`, [], { http2: session });
          const error = nextWithin<ErrorEvent>(ws, 'error');
          await nextWithin(ws, 'close');
          t.match((await error).message, /Unexpected response code: 405/);
          await until(() => failures.length === 2);
          t.match(failures[0], /compatibility layer answered this CONNECT with 405.*server\.on\('connect'/);
          t.equal(failures[1], 'close 1006');
        });
      }
    });
  });

  t.test('isWebSocket recognises both handshakes', async (t) => {
    const peer = await http2Server(t);
    const seen: Array<[string, boolean]> = [];
    peer.server.on('request', (request, response) => {
      seen.push([`request ${request.httpVersion} ${request.method}`, WebSocket.isWebSocket(request)]);
      response.end();
    });
    peer.server.on('connect', (request: Http2ServerRequest, response: Http2ServerResponse) => {
      seen.push([
        `connect ${request.httpVersion} ${String(request.headers[':protocol'])}`,
        WebSocket.isWebSocket(request),
      ]);
      response.writeHead(404).end();
    });
    peer.server.on('stream', (_stream, headers) => {
      seen.push([
        `stream ${String(headers[':method'])} ${String(headers[':protocol'])}`,
        WebSocket.isWebSocket(headers),
      ]);
    });
    peer.server.on('upgrade', (request, socket) => {
      seen.push([`upgrade ${request.httpVersion}`, WebSocket.isWebSocket(request)]);
      socket.destroy();
    });
    const session = http2Session(t, peer.origin, peer.ca);
    await settled(session);
    // Each request is answered (or not), then cancelled: only what the server saw matters.
    const ask = async (headers: http2.OutgoingHttpHeaders): Promise<void> => {
      const stream = session.request(headers, { endStream: false });
      stream.on('error', () => {});
      await within(once(stream, 'response'), 5000, 'a response');
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await within(once(stream, 'close'), 5000, 'a stream to close');
    };
    await ask({ ':path': '/' });
    await ask({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/' });
    await ask({ ':method': 'CONNECT', ':protocol': 'webtransport', ':path': '/' });
    await ask({ ':method': 'CONNECT', ':authority': 'example.com:443' });
    const overHttp1 = new WS(`${peer.wss}/`, { ca: peer.ca });
    overHttp1.on('error', () => {});
    await within(new Promise((resolve) => overHttp1.once('close', resolve)), 5000, 'the ws client to close');
    // The compatibility layer's 'stream' listener came first (the 'request' listener was added first).
    t.same(seen, [
      ['request 2.0 GET', false],
      ['stream GET undefined', false],
      ['connect 2.0 websocket', true],
      ['stream CONNECT websocket', true],
      ['connect 2.0 webtransport', false],
      ['stream CONNECT webtransport', false],
      ['connect 2.0 undefined', false],
      ['stream CONNECT undefined', false],
      ['upgrade 1.1', true],
    ]);
  });

  t.test('refuses a malformed extended CONNECT with a clear status, and the session lives on', async (t) => {
    const peer = await echoServer(t, ['chat'], {
      perMessageDeflate: true,
      handleProtocols: (offered) => (offered.includes('pick-unoffered') ? 'not-offered' : (offered[0] ?? false)),
    });
    const failures: string[] = [];
    peer.server.prependListener('connect', () => {
      setImmediate(() => {
        const ws = peer.made.at(-1);
        if (ws) ws.onerror = (event) => failures.push((event as ErrorEvent).message);
      });
    });
    const session = http2Session(t, peer.origin, peer.ca);
    const cases: Array<[string, http2.OutgoingHttpHeaders, number, RegExp]> = [
      ['an unknown :protocol', { ':protocol': 'webtransport' }, 501, /Unsupported :protocol "webtransport"/],
      [
        'a CONNECT without :protocol',
        { ':protocol': undefined, ':path': undefined, ':scheme': undefined, ':authority': 'x:1' },
        400,
        /tunnel/,
      ],
      ['a wrong version', { 'sec-websocket-version': '8' }, 426, /Sec-WebSocket-Version: 8/],
      ['no version', { 'sec-websocket-version': undefined }, 426, /none/],
      ['a malformed Sec-WebSocket-Protocol', { 'sec-websocket-protocol': 'a b' }, 400, /Sec-WebSocket-Protocol/],
      [
        'a malformed Sec-WebSocket-Extensions',
        { 'sec-websocket-extensions': 'permessage-deflate; x="' },
        400,
        /Extensions/,
      ],
      ['a chooser that picks what was not offered', { 'sec-websocket-protocol': 'pick-unoffered' }, 500, /not-offered/],
    ];
    for (const [name, headers, status, message] of cases) {
      await settled(session);
      const stream = session.request(
        { ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/', 'sec-websocket-version': '13', ...headers },
        { endStream: false },
      );
      stream.on('error', () => {});
      let body = '';
      stream.on('data', (chunk) => (body += chunk));
      const [response] = (await within(once(stream, 'response'), 5000, name)) as [http2.IncomingHttpHeaders];
      await within(once(stream, 'end'), 5000, `${name}: the refusal's END_STREAM`);
      t.equal(response[':status'], status, `${name}: ${status}`);
      t.match(body, message, `${name}: the body says why`);
      if (status === 426) t.equal(response['sec-websocket-version'], '13');
    }
    await until(() => failures.length === cases.length);
    t.equal(failures.length, cases.length, 'each server socket failed once');
    const ws = new Client(`${peer.wss}/`, ['chat'], { http2: session });
    await nextWithin(ws, 'open');
    t.pass('the same session still opens a WebSocket');
    ws.close();
  });

  t.test('WebSocket.refuse answers the stream with a status, headers and body; the session lives on', async (t) => {
    const peer = await http2Server(t);
    peer.server.on('request', (_request, response) => response.end('page'));
    peer.server.on('connect', (_request: Http2ServerRequest, response: Http2ServerResponse) => {
      WebSocket.refuse(response, 401, { headers: { 'WWW-Authenticate': 'Bearer' }, body: 'who are you?' });
    });
    const core = await http2Server(t);
    core.server.on('stream', (stream: ServerHttp2Stream) => WebSocket.refuse(stream, 429));
    for (const [server, status, text] of [
      [peer, 401, 'who are you?'],
      [core, 429, 'Too Many Requests\n'],
    ] as const) {
      const session = http2Session(t, server.origin, server.ca);
      for (let round = 0; round < 2; round++) {
        await settled(session);
        const stream = session.request(
          { ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/', 'sec-websocket-version': '13' },
          { endStream: false },
        );
        stream.on('error', () => {});
        let body = '';
        stream.on('data', (chunk) => (body += chunk));
        const [head] = (await within(once(stream, 'response'), 5000, 'the refusal')) as [http2.IncomingHttpHeaders];
        await within(once(stream, 'end'), 5000, 'the end of the refusal');
        t.equal(head[':status'], status);
        t.equal(body, text);
        if (status === 401) t.equal(head['www-authenticate'], 'Bearer');
        stream.close();
      }
      t.notOk(session.closed || session.destroyed, 'the session answered twice and stays open');
    }
  });

  t.test('backpressure through HTTP/2 flow control', async (t) => {
    // 64 messages of 32 KiB (2 MiB) overrun the stream's 64 KiB window while the peer reads nothing.
    const chunk = Buffer.alloc(32 * 1024, 0x61);
    const COUNT = 64;

    t.test(
      'server to client: send() returns false, bufferedAmount holds, drain follows, nothing is lost',
      async (t) => {
        const peer = await echoServer(t);
        const session = http2Session(t, peer.origin, peer.ca);
        const ws = new Client(`${peer.wss}/`, [], { http2: session });
        const server = await peer.next();
        await nextWithin(ws, 'open');
        ws.pause();
        const results = Array.from({ length: COUNT }, () => server.send(chunk));
        t.equal(results.at(-1), false, 'send() returns false: wait for drain');
        await new Promise((resolve) => setTimeout(resolve, 200));
        t.ok(
          server.bufferedAmount > COUNT * chunk.length - 256 * 1024,
          `bufferedAmount ${server.bufferedAmount}: the flow-control window holds the bytes back`,
        );
        let received = 0;
        ws.addEventListener('message', () => received++);
        const drained = within(new Promise<void>((resolve) => server.once('drain', () => resolve())), 5000, 'drain');
        ws.resume();
        await drained;
        await until(() => received === COUNT, 10_000);
        await until(() => server.bufferedAmount === 0);
        t.pass(`all ${COUNT} messages arrived and bufferedAmount went back to 0`);
        ws.close();
      },
    );

    t.test('client to server: write() returns false, bufferedAmount holds, drain follows', async (t) => {
      const peer = await echoServer(t);
      const session = http2Session(t, peer.origin, peer.ca);
      const ws = new Client(`${peer.wss}/`, [], { http2: session });
      const server = await peer.next();
      server.onmessage = null;
      await nextWithin(ws, 'open');
      server.pause();
      const results = Array.from({ length: COUNT }, () => ws.write(chunk));
      t.equal(results.at(-1), false, 'write() returns false');
      await new Promise((resolve) => setTimeout(resolve, 200));
      t.ok(ws.bufferedAmount > COUNT * chunk.length - 256 * 1024, `bufferedAmount ${ws.bufferedAmount}`);
      let received = 0;
      server.addEventListener('message', () => received++);
      const drained = within(new Promise<void>((resolve) => ws.once('drain', () => resolve())), 5000, 'drain');
      server.resume();
      await drained;
      await until(() => received === COUNT, 10_000);
      await until(() => ws.bufferedAmount === 0);
      t.pass(`all ${COUNT} messages arrived`);
      ws.close();
    });
  });

  t.test('closing', async (t) => {
    t.test('a clean close ends the stream with END_STREAM after the close frames (RFC 8441 §5)', async (t) => {
      const peer = await echoServer(t);
      const session = http2Session(t, peer.origin, peer.ca);
      const raw = await rawConnect(session, '/');
      const server = await peer.next();
      const events = recordEvents(server);
      await until(() => server.readyState === WebSocket.OPEN);
      server.close(4100, 'done');
      await until(() => closeCodeIn(raw.received()) === 4100);
      t.equal(server.readyState, WebSocket.CLOSING, 'the server waits for the close frame');
      raw.stream.write(frame(8, u16(4100)));
      await within(raw.ended, 5000, "the server's END_STREAM, once both close frames crossed");
      raw.stream.end();
      t.equal(await within(raw.closed, 5000, 'the stream to close'), 0, 'closed without RST_STREAM error (NO_ERROR)');
      await until(() => events.length === 1);
      t.same(events, ['close:4100@3']);
    });

    t.test('a client close frame is answered, then both ends end the stream', async (t) => {
      const peer = await echoServer(t);
      const session = http2Session(t, peer.origin, peer.ca);
      const raw = await rawConnect(session, '/');
      const server = await peer.next();
      const close = nextWithin<CloseEvent>(server, 'close');
      await until(() => server.readyState === WebSocket.OPEN);
      raw.stream.write(frame(8, Buffer.concat([u16(4200), Buffer.from('bye')])));
      await within(raw.ended, 5000, "the server's END_STREAM");
      t.equal(closeCodeIn(raw.received()), 4200, 'the close frame is echoed');
      raw.stream.end();
      const event = await close;
      t.same([event.code, event.reason, event.wasClean], [4200, 'bye', true]);
      t.equal(await raw.closed, 0);
    });

    t.test('a stream reset gives close 1006; the session and its other streams live on', async (t) => {
      const peer = await echoServer(t);
      const session = http2Session(t, peer.origin, peer.ca);
      const other = new Client(`${peer.wss}/`, [], { http2: session });
      const otherServer = await peer.next();
      await nextWithin(other, 'open');
      const raw = await rawConnect(session, '/');
      const server = await peer.next();
      const events = recordEvents(server);
      await until(() => server.readyState === WebSocket.OPEN);
      raw.stream.close(http2.constants.NGHTTP2_CANCEL);
      await until(() => events.length === 1);
      t.same(events, ['close:1006@3'], 'close 1006, no error: the connection had opened');
      other.send('still here');
      t.equal((await nextWithin<MessageEvent>(other, 'message')).data, 'still here');
      t.equal(otherServer.readyState, WebSocket.OPEN);
      other.close();
    });

    t.test('terminate() resets the stream: close 1006 on both ends, the session lives on', async (t) => {
      const peer = await echoServer(t);
      const session = http2Session(t, peer.origin, peer.ca);
      const ws = new Client(`${peer.wss}/`, [], { http2: session });
      const server = await peer.next();
      await nextWithin(ws, 'open');
      const events = recordEvents(server);
      const clientEvents: string[] = [];
      ws.onerror = () => clientEvents.push('error');
      server.terminate();
      const close = await nextWithin<CloseEvent>(ws, 'close');
      t.same([close.code, close.wasClean, clientEvents], [1006, false, []]);
      await until(() => events.length === 1);
      t.same(events, ['close:1006@3']);
      t.notOk(session.destroyed || session.closed, 'the session is still open');
      const again = new Client(`${peer.wss}/`, [], { http2: session });
      await nextWithin(again, 'open');
      again.close();
    });

    t.test('a session that dies gives close 1006 to each of its WebSockets', async (t) => {
      const peer = await echoServer(t);
      const session = http2Session(t, peer.origin, peer.ca);
      const clients = [0, 1, 2].map(() => new Client(`${peer.wss}/`, [], { http2: session }));
      const servers = [await peer.next(), await peer.next(), await peer.next()];
      await Promise.all(clients.map((ws) => nextWithin(ws, 'open')));
      const closes = servers.map((ws) => nextWithin<CloseEvent>(ws, 'close'));
      const clientCloses = clients.map((ws) => nextWithin<CloseEvent>(ws, 'close'));
      // The connection under the session goes: the server sees every stream end with it.
      session.destroy();
      t.same(
        (await Promise.all(closes)).map((event) => event.code),
        [1006, 1006, 1006],
      );
      t.same(
        (await Promise.all(clientCloses)).map((event) => event.code),
        [1006, 1006, 1006],
      );
    });

    t.test('closeTimeout: a peer that never answers the close frame is reset', async (t) => {
      const peer = await echoServer(t, [], { closeTimeout: 200 });
      const session = http2Session(t, peer.origin, peer.ca);
      const raw = await rawConnect(session, '/');
      const server = await peer.next();
      const events = recordEvents(server);
      await until(() => server.readyState === WebSocket.OPEN);
      const started = Date.now();
      server.close(1000);
      await within(raw.ended, 5000, "the server's END_STREAM after its close frame");
      const code = await within(raw.closed, 5000, 'the stream to be reset');
      t.ok(Date.now() - started >= 150, `reset after ${Date.now() - started} ms, not before closeTimeout (200 ms)`);
      t.equal(code, http2.constants.NGHTTP2_NO_ERROR, 'RST_STREAM, its side already ended');
      await until(() => events.length === 1);
      t.same(events, ['close:1006@3']);
    });
  });

  t.test('ping', async (t) => {
    t.test('our client answers the pings: the connection stays open', async (t) => {
      const peer = await echoServer(t, [], { ping: 0.05 });
      const session = http2Session(t, peer.origin, peer.ca);
      const ws = new Client(`${peer.wss}/`, [], { http2: session });
      const server = await peer.next();
      await nextWithin(ws, 'open');
      await new Promise((resolve) => setTimeout(resolve, 300));
      t.equal(server.readyState, WebSocket.OPEN);
      const pong = within(new Promise<void>((resolve) => server.ping('x', resolve)), 5000, 'a pong');
      await pong;
      ws.close();
    });

    t.test('a peer that never answers is closed with 1001 after the next ping', async (t) => {
      const peer = await echoServer(t, [], { ping: 0.05, closeTimeout: 200 });
      const session = http2Session(t, peer.origin, peer.ca);
      const raw = await rawConnect(session, '/');
      const server = await peer.next();
      const error = nextWithin<ErrorEvent>(server, 'error');
      const close = await nextWithin<CloseEvent>(server, 'close');
      t.equal(close.code, 1006);
      t.match((await error).message, /No pong/);
      await within(raw.closed, 5000, 'the stream to close');
      t.equal(closeCodeIn(raw.received()), 1001, 'after the pings, a close frame with 1001 (going away)');
    });
  });

  t.test('ws and undici over HTTP/1.1 on the same allowHTTP1 server keep working', async (t) => {
    const peer = await http2Server(t);
    peer.server.on('request', (_request, response) => response.end('page'));
    peer.server.on('upgrade', (request, socket, head) => {
      const ws = new WebSocket(request, socket, head);
      ws.onmessage = (event) => ws.send(event.data);
    });
    peer.server.on('connect', (request: Http2ServerRequest, response: Http2ServerResponse) => {
      const ws = new WebSocket(request, response);
      ws.onmessage = (event) => ws.send(event.data);
    });
    const viaWs = new WS(`${peer.wss}/`, { ca: peer.ca });
    viaWs.on('error', () => {});
    t.teardown(() => viaWs.terminate());
    await within(once(viaWs, 'open'), 5000, 'ws to open');
    viaWs.send('from ws');
    t.equal(String((await within(once(viaWs, 'message'), 5000, 'an echo'))[0]), 'from ws');
    viaWs.close();

    const dispatcher = new Agent({ connect: { ca: peer.ca } });
    t.teardown(() => dispatcher.close());
    const viaUndici = new UndiciWebSocket(`${peer.wss}/`, { dispatcher });
    await nextWithin(viaUndici as unknown as EventTarget, 'open');
    viaUndici.send('from undici');
    t.equal((await nextWithin<MessageEvent>(viaUndici as unknown as EventTarget, 'message')).data, 'from undici');
    viaUndici.close();

    const session = http2Session(t, peer.origin, peer.ca);
    const ours = new Client(`${peer.wss}/`, [], { http2: session });
    await nextWithin(ours, 'open');
    ours.send('from ours');
    t.equal((await nextWithin<MessageEvent>(ours, 'message')).data, 'from ours');
    ours.close();
    t.ok(
      peer.sessions.every((s) => s.alpnProtocol === 'h2'),
      'HTTP/2 sessions only for HTTP/2 clients; the others spoke HTTP/1.1 on the same port',
    );
  });
});
