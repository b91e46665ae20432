// diagnostics_channel events (src/diagnostics.ts, docs/diagnostics.md), with
// real subscribers: open, close, error, ping and pong from the server
// WebSocket and WebSocket.Client, over HTTP/1.1 and HTTP/2 (RFC 8441), and
// open and close from the EventSource endpoint and EventSource.Client; and
// no publish at all while no one subscribes.

import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import t, { type Test } from 'tap';
import { channels } from '../../src/diagnostics.js';
import { Client, EventSource, EventSourceClient, WebSocket } from '../../src/index.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { http2Server, http2Session } from '../helpers/http2.js';
import { listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { requirePeer } from '../helpers/require-peer.js';
import { run } from '../helpers/spawn.js';

const NAMES = [
  'isosocket:websocket:open',
  'isosocket:websocket:close',
  'isosocket:websocket:error',
  'isosocket:websocket:ping',
  'isosocket:websocket:pong',
  'isosocket:eventsource:open',
  'isosocket:eventsource:close',
] as const;

type Published = { name: string; message: Record<string, unknown> };

/** Subscribes to every isosocket channel until the test ends; returns what was published, in order. */
function record(t: Test): Published[] {
  const seen: Published[] = [];
  for (const name of NAMES) {
    const subscriber = (message: unknown): void => {
      seen.push({ name, message: message as Record<string, unknown> });
    };
    diagnosticsChannel.subscribe(name, subscriber);
    t.teardown(() => {
      diagnosticsChannel.unsubscribe(name, subscriber);
    });
  }
  return seen;
}

/** The first `name` published about `target` (a WebSocket or an EventSource). */
function find(seen: Published[], name: string, target: object): Record<string, unknown> | undefined {
  return seen.find((p) => p.name === name && (p.message.websocket ?? p.message.eventSource) === target)?.message;
}

/** Routes a server WebSocket by path: `/clean` answers pings and closes 4001 on 'bye'; `/big` sends 100 bytes. */
function route(ws: WebSocket, path: string, servers: WebSocket[]): void {
  servers.push(ws);
  if (path === '/big') ws.onopen = () => ws.send('x'.repeat(100));
  ws.onmessage = (event) => {
    if (event.data === 'ping me') ws.ping('from server');
    if (event.data === 'bye') ws.close(4001, 'bye');
  };
}

interface Transport {
  name: string;
  transport: 'http/1.1' | 'h2';
  /** A server whose WebSockets are routed; resolves with a client factory. */
  start(t: Test, servers: WebSocket[]): Promise<(path: string, options?: { maxLength?: number }) => Client>;
}

const TRANSPORTS: Transport[] = [
  {
    name: 'HTTP/1.1',
    transport: 'http/1.1',
    async start(t, servers) {
      const server = http.createServer();
      server.on('upgrade', (request, socket, head) => {
        route(new WebSocket(request, socket, head, ['chat'], { maxLength: 16 }), request.url ?? '', servers);
      });
      const port = await listen(t, server);
      return (path, options = {}) => new Client(`ws://127.0.0.1:${port}${path}`, ['chat'], options);
    },
  },
  {
    name: 'HTTP/2',
    transport: 'h2',
    async start(t, servers) {
      const peer = await http2Server(t);
      // Node's compatibility layer, and with it the 'connect' event, starts with a 'request' listener.
      peer.server.on('request', (_request, response) => response.end('page'));
      peer.server.on('connect', (request: Http2ServerRequest, response: Http2ServerResponse) => {
        route(new WebSocket(request, response, ['chat'], { maxLength: 16 }), request.url ?? '', servers);
      });
      return (path, options = {}) =>
        new Client(`${peer.wss}${path}`, ['chat'], { http2: true, ca: peer.ca, ...options });
    },
  },
];

/** Opens /clean, pings both ways, and lets the server close with 4001 'bye'. */
async function cleanConnection(client: Client): Promise<void> {
  await nextWithin(client, 'open');
  await within(new Promise<void>((resolve) => client.ping('from client', resolve)), 5000, 'the pong to our ping');
  client.send('ping me');
  client.send('bye');
  await nextWithin(client, 'close');
}

t.test('diagnostics_channel', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;

  t.test('nothing is published, and no payload built, while no one subscribes', async (t) => {
    const calls: string[] = [];
    for (const channel of Object.values(channels)) {
      // Subscribing swaps the channel's prototype (Node's ActiveChannel): publish through whichever it has.
      channel.publish = (message: unknown) => {
        calls.push(String(channel.name));
        Object.getPrototypeOf(channel).publish.call(channel, message);
      };
      t.teardown(() => {
        delete (channel as { publish?: unknown }).publish;
      });
    }
    const servers: WebSocket[] = [];
    const connect = await TRANSPORTS[0]!.start(t, servers);
    await cleanConnection(connect('/clean'));
    const failing = connect('/big', { maxLength: 16 });
    await nextWithin(failing, 'close');
    t.same(calls, [], 'no channel published');
    // The same run with a subscriber publishes: the counter above can see it.
    const seen = record(t);
    await cleanConnection(connect('/clean'));
    await until(() => servers.at(-1)?.readyState === WebSocket.CLOSED);
    t.ok(calls.length > 0, 'each publish with a subscriber was counted');
    t.same(
      calls,
      seen.map((p) => p.name),
      'in order',
    );
  });

  for (const { name, transport, start } of TRANSPORTS) {
    t.test(`WebSockets over ${name}`, async (t) => {
      const seen = record(t);
      const servers: WebSocket[] = [];
      const connect = await start(t, servers);

      t.test('open, ping, pong and a clean close, on both ends', async (t) => {
        seen.length = 0;
        const client = connect('/clean');
        await cleanConnection(client);
        const server = servers.at(-1) as WebSocket;
        await until(() => server.readyState === WebSocket.CLOSED);

        for (const [role, websocket] of [
          ['server', server],
          ['client', client],
        ] as const) {
          const open = find(seen, 'isosocket:websocket:open', websocket);
          t.match(open, { role, protocol: 'chat', transport, extensions: websocket.extensions }, `${role} open`);
          t.equal(open?.websocket, websocket, `${role} open carries the WebSocket`);
          t.equal(open?.url, websocket.url, `${role} open carries the url`);
          const close = find(seen, 'isosocket:websocket:close', websocket);
          t.match(close, { role, code: 4001, reason: 'bye', wasClean: true, url: websocket.url }, `${role} close`);
          t.equal(close?.websocket, websocket);
          t.notOk(find(seen, 'isosocket:websocket:error', websocket), `no ${role} error`);
        }
        // The client's ping reaches the server, whose pong reaches the client; and back.
        t.same(String(find(seen, 'isosocket:websocket:ping', server)?.payload), 'from client');
        t.same(String(find(seen, 'isosocket:websocket:pong', client)?.payload), 'from client');
        t.same(String(find(seen, 'isosocket:websocket:ping', client)?.payload), 'from server');
        t.same(String(find(seen, 'isosocket:websocket:pong', server)?.payload), 'from server');
        t.equal(find(seen, 'isosocket:websocket:ping', server)?.websocket, server);
        // Each is published before its event: open before close, for each role.
        const order = seen.filter((p) => p.message.websocket === client).map((p) => p.name.split(':')[2]);
        t.equal(order[0], 'open');
        t.equal(order.at(-1), 'close');
      });

      t.test('a failure is error then close 1006 on the failing end, the close code on the other', async (t) => {
        seen.length = 0;
        // The client's 100 bytes are over the server's maxLength: the server fails with 1009.
        const tooLong = connect('/clean');
        await nextWithin(tooLong, 'open');
        tooLong.send('y'.repeat(100));
        await nextWithin(tooLong, 'close');
        const server = servers.at(-1) as WebSocket;
        await until(() => server.readyState === WebSocket.CLOSED);
        const serverError = find(seen, 'isosocket:websocket:error', server);
        t.equal(serverError?.websocket, server);
        t.match(serverError, { role: 'server', message: String, error: Error });
        t.match(find(seen, 'isosocket:websocket:close', server), { code: 1006, wasClean: false });
        t.match(find(seen, 'isosocket:websocket:close', tooLong), { code: 1009, wasClean: true });
        t.notOk(find(seen, 'isosocket:websocket:error', tooLong));

        // The server's 100 bytes are over the client's maxLength: the client fails.
        seen.length = 0;
        const small = connect('/big', { maxLength: 16 });
        await nextWithin(small, 'close');
        t.match(find(seen, 'isosocket:websocket:error', small), { role: 'client', error: Error });
        t.match(find(seen, 'isosocket:websocket:close', small), { code: 1006, wasClean: false });
      });
    });
  }

  t.test('event streams, on both ends', async (t) => {
    const seen = record(t);
    const endpoints: EventSource[] = [];
    const handle = (request: http.IncomingMessage | Http2ServerRequest, response: unknown): void => {
      const es = new EventSource(request as http.IncomingMessage, response as http.ServerResponse, { ping: 0 });
      endpoints.push(es);
      es.send('hello', { id: '7' });
    };

    const server = http.createServer(handle);
    const port = await listen(t, server);
    const peer = await http2Server(t);
    peer.server.on('request', handle);
    const session = http2Session(t, peer.origin, peer.ca);

    for (const [name, open] of [
      ['HTTP/1.1', () => new EventSourceClient(`http://127.0.0.1:${port}/feed`)],
      ['HTTP/2', () => new EventSourceClient(`${peer.origin}/feed`, { http2: session })],
    ] as const) {
      seen.length = 0;
      const client = open();
      await nextWithin(client, 'message');
      const endpoint = endpoints.at(-1) as EventSource;
      client.close();
      await until(() => endpoint.readyState === 2);
      t.match(
        find(seen, 'isosocket:eventsource:open', endpoint),
        { role: 'server', url: endpoint.url, lastEventId: '' },
        `${name}: endpoint open`,
      );
      t.match(
        find(seen, 'isosocket:eventsource:open', client),
        { role: 'client', url: client.url, lastEventId: '' },
        `${name}: client open`,
      );
      t.match(
        find(seen, 'isosocket:eventsource:close', client),
        { role: 'client', url: client.url, lastEventId: '7' },
        `${name}: client close`,
      );
      t.match(
        find(seen, 'isosocket:eventsource:close', endpoint),
        { eventSource: endpoint },
        `${name}: endpoint close`,
      );
      t.equal(seen.filter((p) => p.name === 'isosocket:eventsource:close').length, 2, `${name}: one close each`);
    }
  });

  t.test('examples/diagnostics.mjs counts closes by code and role', async (t) => {
    const example = run(t, 'examples/diagnostics.mjs');
    t.equal(await within(example.exited, 10_000, 'the example to exit'), 0);
    const output = example.output();
    for (const role of ['client', 'server']) {
      t.match(output, `isosocket.websocket.opened {"role":"${role}","transport":"http/1.1"} 4`);
      t.match(output, `isosocket.websocket.closed {"role":"${role}","code":1000,"wasClean":true} 2`);
      t.match(output, `isosocket.websocket.closed {"role":"${role}","code":4001,"wasClean":true} 1`);
      t.match(output, `isosocket.websocket.closed {"role":"${role}","code":1006,"wasClean":false} 1`);
    }
  });
});
