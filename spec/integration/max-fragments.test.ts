// The maxFragments option on both ends: a message may arrive in at most that
// many frames; the frame past it closes the connection with 1009 'Too many
// message fragments' (src/protocol/connection.ts counts them; the option is
// resolved in src/options.ts and handed over in WebSocketBase#_open). The
// default and the floods are in spec/integration/limits.test.ts and the
// connection's unit spec; this proves the option reaches the connection.

import { once } from 'node:events';
import t from 'tap';
import { WebSocketServer } from 'ws';
import { Client, type CloseEvent } from '../../src/index.js';
import { nextWithin } from '../helpers/bounded.js';
import { opened, startServer, until, wsClient } from '../helpers/peers.js';

t.test('the server socket: maxFragments frames make a message, one more closes with 1009', async (t) => {
  const server = await startServer(t, { options: { maxFragments: 3 } });
  const client = wsClient(t, server.url);
  const ws = await server.next();
  const messages: unknown[] = [];
  ws.addEventListener('message', (event) => messages.push(event.data));
  await opened(client);
  client.send('a', { fin: false });
  client.send('b', { fin: false });
  client.send('c', { fin: true });
  await until(() => messages.length === 1);
  t.same(messages, ['abc'], 'a message in exactly maxFragments frames');
  for (let i = 0; i < 3; i++) client.send('x', { fin: false });
  client.send('y', { fin: true });
  const [code, reason] = await once(client, 'close');
  t.equal(code, 1009);
  t.match(String(reason), /Too many message fragments/);
});

t.test('WebSocket.Client: the same bound against a ws server', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise((resolve) => wss.close(resolve)));
  await once(wss, 'listening');
  const closes: number[] = [];
  wss.on('connection', (peer) => {
    peer.on('close', (code) => closes.push(code));
    peer.send('a', { fin: false });
    peer.send('b', { fin: true });
    for (let i = 0; i < 2; i++) peer.send('x', { fin: false });
    peer.send('y', { fin: true });
  });
  const { port } = wss.address() as { port: number };
  const ws = new Client(`ws://127.0.0.1:${port}/`, [], { maxFragments: 2 });
  const messages: unknown[] = [];
  ws.addEventListener('message', (event) => messages.push((event as MessageEvent).data));
  const close = (await nextWithin(ws, 'close')) as CloseEvent;
  t.same(messages, ['ab'], 'a message in exactly maxFragments frames');
  t.equal(close.code, 1006, 'the client failed the connection (error, then close 1006)');
  await until(() => closes.length === 1);
  t.same(closes, [1009], 'the server got 1009');
});

t.test('maxFragments must be a positive integer', async (t) => {
  for (const bad of [0, -1, 2.5, '16', Number.NaN]) {
    t.throws(() => new Client('ws://127.0.0.1:1/', [], { maxFragments: bad as number }), TypeError, String(bad));
  }
});
