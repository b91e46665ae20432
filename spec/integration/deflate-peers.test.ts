// permessage-deflate against ws, both roles, with and without context
// takeover: messages on every path of deflate-codec.ts (under the threshold,
// compressed synchronously, in the thread pool, an inflation that passes
// SYNC_OUTPUT_LIMIT and goes on in the thread pool), text and binary, sent
// back to back, come back whole and in order.

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import t from 'tap';
import WS, { WebSocketServer } from 'ws';
import { Client, WebSocket } from '../../src/index.js';
import { SYNC_LIMIT, SYNC_OUTPUT_LIMIT } from '../../src/protocol/deflate-codec.js';
import { listen } from '../helpers/listen.js';

const json = (size: number) =>
  JSON.stringify(
    Array.from({ length: Math.ceil(size / 60) }, (_, i) => ({ id: i, name: `user ${(i * 7919) % 10007}` })),
  )
    .slice(0, size)
    .padEnd(size, ' ');

/** Text and binary, small to large, on every path of the codec. */
const MESSAGES: Array<string | Buffer> = [
  'short, under the threshold',
  json(2000),
  randomBytes(3000),
  json(SYNC_LIMIT * 3),
  randomBytes(SYNC_LIMIT * 2),
  'x'.repeat(SYNC_OUTPUT_LIMIT * 3),
  json(1500),
];

const same = (got: unknown, sent: string | Buffer) =>
  typeof sent === 'string' ? got === sent : Buffer.isBuffer(got) && got.equals(sent);

for (const [label, options] of [
  ['context takeover', true],
  ['no context takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
] as const) {
  t.test(`${label}: the server socket echoes ws's messages`, async (t) => {
    const server = http.createServer();
    server.on('upgrade', (request, socket, head) => {
      const ws = new WebSocket(request, socket, head, [], { perMessageDeflate: options, maxLength: 16 << 20 });
      ws.binaryType = 'nodebuffer';
      ws.onmessage = (event) => ws.send(event.data as string | Buffer);
    });
    const port = await listen(t, server);
    const client = new WS(`ws://127.0.0.1:${port}/`, { perMessageDeflate: options === true ? true : options });
    t.teardown(() => client.terminate());
    await new Promise((resolve) => client.once('open', resolve));
    t.match(client.extensions, /permessage-deflate/);
    const received: unknown[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('message', (data: Buffer, isBinary: boolean) => {
        received.push(isBinary ? data : data.toString('utf8'));
        if (received.length === MESSAGES.length) resolve();
      }),
    );
    for (const message of MESSAGES) client.send(message, { binary: Buffer.isBuffer(message) });
    await all;
    t.same(
      received.map((got, i) => same(got, MESSAGES[i] as string | Buffer)),
      MESSAGES.map(() => true),
      'every message back, in order',
    );
  });

  t.test(`${label}: WebSocket.Client's messages come back from a ws server`, async (t) => {
    const server = http.createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: options === true ? true : options });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    t.teardown(() => wss.close());
    const port = await listen(t, server);
    const client = new Client(`ws://127.0.0.1:${port}/`, [], { perMessageDeflate: options, maxLength: 16 << 20 });
    client.binaryType = 'arraybuffer';
    t.teardown(() => client.close());
    await new Promise((resolve) => (client.onopen = resolve));
    t.match(client.extensions, /permessage-deflate/);
    const received: unknown[] = [];
    const all = new Promise<void>((resolve) => {
      client.onmessage = (event) => {
        received.push(typeof event.data === 'string' ? event.data : Buffer.from(event.data as ArrayBuffer));
        if (received.length === MESSAGES.length) resolve();
      };
    });
    for (const message of MESSAGES) client.send(message);
    await all;
    t.same(
      received.map((got, i) => same(got, MESSAGES[i] as string | Buffer)),
      MESSAGES.map(() => true),
      'every message back, in order',
    );
  });
}
