// A Channel with WebSocket members, over loopback with real clients (ws and
// isosocket's own), HTTP/1.1 and HTTP/2: one frame for every member, one
// compressed frame for the members without server context takeover, resume
// from an id with connections dropped at random, a member's own messages
// keeping their place, and slow members closed with 1013 at the bound.

import { once } from 'node:events';
import http from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { constants, inflateRawSync } from 'node:zlib';
import t, { type Test } from 'tap';
import WS from 'ws';
import { Channel, Client, EventSource, OverflowEvent, type ServerOptions, WebSocket } from '../../src/index.js';
import { sleep, within } from '../helpers/bounded.js';
import { http2Server, http2Session } from '../helpers/http2.js';
import { listen } from '../helpers/listen.js';
import { opened, until, wsClient } from '../helpers/peers.js';
import { rawClient } from '../helpers/raw.js';
import { requirePeer } from '../helpers/require-peer.js';
import { decodeFrames } from '../helpers/wire.js';

interface Room {
  port: number;
  url: string;
  sockets: WebSocket[];
}

/**
 * An http server whose upgrades join `channel`, resuming after the
 * `lastEventId` query parameter.
 */
async function room(t: Test, channel: Channel, options: ServerOptions = {}): Promise<Room> {
  const sockets: WebSocket[] = [];
  const server = http.createServer((_request, response) => response.end());
  server.on('upgrade', (request, socket, head) => {
    const ws = new WebSocket(request, socket, head, [], { perMessageDeflate: true, ...options });
    sockets.push(ws);
    const lastEventId = new URL(request.url ?? '/', 'http://localhost').searchParams.get('lastEventId') ?? '';
    channel.register(ws, { lastEventId });
  });
  const port = await listen(t, server);
  t.teardown(() => {
    for (const ws of sockets) ws.terminate();
  });
  return { port, url: `ws://127.0.0.1:${port}/`, sockets };
}

/** Collects a ws client's messages as strings. */
function messagesOf(client: WS): string[] {
  const messages: string[] = [];
  client.on('message', (data) => messages.push(String(data)));
  return messages;
}

const RAW_DEFLATE = { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover' };

t.test('Channel with WebSocket members', async (t) => {
  t.test('is EventSource.Channel, and refuses what it cannot hold', async (t) => {
    t.equal(EventSource.Channel, Channel);
    t.throws(() => new Channel({ toMessage: 'json' } as never), TypeError);
    const channel = new Channel();
    t.teardown(() => channel.close());
    t.throws(() => channel.register({} as never), TypeError);
    t.throws(() => channel.register(new WS('ws://127.0.0.1:1/').on('error', () => {}) as never), TypeError);
    const served = await room(t, new Channel());
    const client = wsClient(t, served.url);
    await opened(client);
    const ws = served.sockets[0] as WebSocket;
    t.throws(() => channel.register(ws, { lastEventId: 5 } as never), TypeError);
    t.throws(() => channel.register(ws, { since: '1-0' } as never), TypeError);
  });

  t.test('frames a broadcast once: byte-identical frames to every member, the turn in one write', async (t) => {
    const channel = new Channel();
    t.teardown(() => channel.close());
    const served = await room(t, channel);
    const raws = await Promise.all([1, 2, 3].map(() => rawClient(t, served.port)));
    const client = wsClient(t, served.url);
    const got = messagesOf(client);
    const iso = new Client(served.url);
    t.teardown(() => iso.close());
    const isoGot: string[] = [];
    iso.onmessage = (event) => isoGot.push(String(event.data));
    await opened(client);
    await until(() => channel.size === 5 && served.sockets.every((ws) => ws.readyState === 1));
    channel.broadcast('one');
    channel.broadcast('two', { event: 'x' });
    channel.broadcast('é three');
    await until(() => got.length === 3 && isoGot.length === 3);
    t.same(got, ['one', 'two', 'é three'], 'ws: the data itself by default');
    t.same(isoGot, ['one', 'two', 'é three'], "isosocket's client");
    await until(() => raws.every((raw) => decodeFrames(raw.received()).length === 3));
    const bytes = raws.map((raw) => raw.received());
    t.ok(
      bytes[0]?.equals(bytes[1] as Buffer) && bytes[1]?.equals(bytes[2] as Buffer),
      'the same bytes to every member',
    );
    const frames = decodeFrames(bytes[0] as Buffer);
    t.same(
      frames.map((frame) => [frame.fin, frame.rsv, frame.opcode, frame.masked, frame.payload.toString()]),
      [
        [true, 0, 1, false, 'one'],
        [true, 0, 1, false, 'two'],
        [true, 0, 1, false, 'é three'],
      ],
    );
  });

  t.test('toMessage builds what a WebSocket member receives, text or bytes', async (t) => {
    const channel = new Channel({
      serialize: JSON.stringify,
      toMessage: (data, { id, event }) => (event === 'bin' ? Buffer.from(data) : JSON.stringify({ id, event, data })),
    });
    t.teardown(() => channel.close());
    const served = await room(t, channel);
    const client = wsClient(t, served.url);
    const got: Array<[boolean, string]> = [];
    client.on('message', (data, isBinary) => got.push([isBinary, String(data)]));
    await opened(client);
    await until(() => channel.size === 1);
    const id = await channel.broadcast({ n: 1 }, { event: 'tick' });
    await channel.broadcast('raw', { event: 'bin' });
    await until(() => got.length === 2);
    t.same(got, [
      [false, JSON.stringify({ id, event: 'tick', data: '{"n":1}' })],
      [true, '"raw"'],
    ]);
    // A toMessage that fails: that event reaches no socket, the channel says why, the rest go on.
    const bad = new Channel({
      toMessage: (data) => {
        if (data === 'throws') throw new Error('not JSON');
        return (data === 'number' ? 42 : data) as string;
      },
    });
    t.teardown(() => bad.close());
    const errors: string[] = [];
    bad.onerror = (event) => errors.push(event.message);
    const other = await room(t, bad);
    const peer = wsClient(t, other.url);
    const heard = messagesOf(peer);
    await opened(peer);
    await until(() => bad.size === 1);
    for (const data of ['one', 'throws', 'number', 'two']) bad.broadcast(data);
    await until(() => heard.length === 2);
    t.same(heard, ['one', 'two']);
    t.equal(errors.length, 2);
    t.match(errors[0], /toMessage failed for event \d+-\d+ \(it threw not JSON\)/);
    t.match(errors[1], /it returned number, not a string or a Buffer/);
  });

  t.test('compresses once for members without server context takeover; the frames decode in ws', async (t) => {
    const channel = new Channel();
    t.teardown(() => channel.close());
    const served = await room(t, channel);
    const raws = await Promise.all([1, 2].map(() => rawClient(t, served.port, RAW_DEFLATE)));
    for (const raw of raws) t.match(raw.response, /permessage-deflate; server_no_context_takeover/i);
    const shared = wsClient(t, served.url, [], { perMessageDeflate: { serverNoContextTakeover: true } });
    const takeover = wsClient(t, served.url, [], { perMessageDeflate: true });
    const plain = wsClient(t, served.url, [], { perMessageDeflate: false });
    const got = [shared, takeover, plain].map(messagesOf);
    await Promise.all([shared, takeover, plain].map(opened));
    await until(() => channel.size === 5 && served.sockets.every((ws) => ws.readyState === 1));
    const big = `${'compress me '.repeat(300)}end`;
    channel.broadcast(big);
    channel.broadcast('small');
    channel.broadcast(big.toUpperCase());
    await until(() => got.every((messages) => messages.length === 3));
    for (const messages of got) t.same(messages, [big, 'small', big.toUpperCase()]);
    await until(() => raws.every((raw) => decodeFrames(raw.received()).length === 3));
    const [a, b] = raws.map((raw) => raw.received());
    t.ok(a?.equals(b as Buffer), 'the same compressed bytes to both');
    const frames = decodeFrames(a as Buffer);
    t.same(
      frames.map((frame) => frame.rsv),
      [0x40, 0, 0x40],
      'RSV1 on the compressed ones; the small one goes plain',
    );
    const first = frames[0] as { payload: Buffer };
    t.ok(first.payload.length < big.length / 4, 'compressed');
    const inflated = inflateRawSync(Buffer.concat([first.payload, Buffer.from([0, 0, 0xff, 0xff])]), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    t.equal(inflated.toString(), big);
  });

  t.test('a member resumes after lastEventId: history, then live events, in order', async (t) => {
    const channel = new Channel({ toMessage: (data, { id }) => `${id} ${data}` });
    t.teardown(() => channel.close());
    const served = await room(t, channel);
    const ids: string[] = [];
    for (const data of ['a', 'b', 'c']) ids.push(await channel.broadcast(data));
    const client = wsClient(t, `${served.url}?lastEventId=${ids[0]}`);
    const got = messagesOf(client);
    await opened(client);
    await until(() => got.length === 2);
    ids.push(await channel.broadcast('d'));
    await until(() => got.length === 3);
    t.same(got, [`${ids[1]} b`, `${ids[2]} c`, `${ids[3]} d`]);
  });

  t.test(
    'every id exactly once, in order, with connections dropped at random (ws and isosocket clients)',
    async (t) => {
      const channel = new Channel({ toMessage: (data, { id }) => `${id} ${data}` });
      t.teardown(() => channel.close());
      const served = await room(t, channel);
      const TOTAL = 300;
      let seed = 7;
      const random = (): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const follow = (kind: 'ws' | 'iso'): { seen: string[]; drops: number } => {
        const result = { seen: [] as string[], drops: 0 };
        let last = '';
        const connect = (): void => {
          const url = `${served.url}?lastEventId=${last}`;
          const onmessage = (text: string): boolean => {
            const [id, data] = text.split(' ');
            last = id as string;
            result.seen.push(data as string);
            return random() < 0.03 && result.seen.length < TOTAL;
          };
          if (kind === 'ws') {
            const client = new WS(url);
            client.on('error', () => {});
            t.teardown(() => client.terminate());
            client.on('message', (data) => {
              if (onmessage(String(data)) && client.readyState === WS.OPEN) {
                result.drops++;
                client.terminate();
              }
            });
            client.on('close', () => {
              if (result.seen.length < TOTAL) setTimeout(connect, 1);
            });
          } else {
            const client = new Client(url);
            t.teardown(() => client.close());
            client.onmessage = (event) => {
              if (onmessage(String(event.data)) && client.readyState === Client.OPEN) {
                result.drops++;
                client.terminate();
              }
            };
            client.onclose = () => {
              if (result.seen.length < TOTAL) setTimeout(connect, 1);
            };
          }
        };
        connect();
        return result;
      };
      const followers = [follow('ws'), follow('iso')];
      await until(() => channel.size === 2);
      for (let n = 0; n < TOTAL; n++) {
        await channel.broadcast(String(n));
        if (n % 10 === 0) await sleep(1);
      }
      await until(() => followers.every((f) => f.seen.length >= TOTAL), 20_000);
      await sleep(20);
      const expected = Array.from({ length: TOTAL }, (_, n) => String(n));
      for (const follower of followers) {
        t.ok(follower.drops > 0, `dropped ${follower.drops} times`);
        t.same(follower.seen, expected, 'every event once, in order');
      }
    },
  );

  t.test("a member's own send() keeps its place: the channel's frames never pass what waits", async (t) => {
    const channel = new Channel();
    t.teardown(() => channel.close());
    const served = await room(t, channel);
    const plain = wsClient(t, served.url, [], { perMessageDeflate: false });
    const deflate = wsClient(t, served.url, [], { perMessageDeflate: { serverNoContextTakeover: true } });
    const got = [plain, deflate].map(messagesOf);
    await Promise.all([plain, deflate].map(opened));
    await until(() => channel.size === 2 && served.sockets.every((ws) => ws.readyState === 1));
    const big = 'x'.repeat(4096);
    for (const ws of served.sockets) {
      ws.send(new Blob(['blob first'])); // waits for the Blob to be read
      ws.send(big); // compressed on the deflate one: waits for zlib
    }
    channel.broadcast('then the channel');
    channel.flush();
    for (const ws of served.sockets) ws.send('then mine');
    await until(() => got.every((messages) => messages.length === 4));
    for (const messages of got) t.same(messages, ['blob first', big, 'then the channel', 'then mine']);
  });

  t.test('members leave on close; close() closes them with 1001', async (t) => {
    const channel = new Channel();
    const served = await room(t, channel);
    const a = wsClient(t, served.url);
    const b = wsClient(t, served.url);
    await Promise.all([a, b].map(opened));
    await until(() => channel.size === 2);
    a.close();
    await until(() => channel.size === 1);
    const [code] = await Promise.all([once(b, 'close').then(([c]) => c as number), channel.close()]);
    t.equal(code, 1001);
    t.throws(() => channel.register(served.sockets[1] as WebSocket), { name: 'InvalidStateError' });
  });

  t.test('a member too far behind is closed with 1013, counted and reported by overflow', async (t) => {
    const channel = new Channel({ maxBuffered: 256 * 1024 });
    t.teardown(() => channel.close());
    const served = await room(t, channel, { closeTimeout: 20_000 });
    // Without compression: a member the server compresses for is as slow as zlib.
    const fast = wsClient(t, served.url, [], { perMessageDeflate: false });
    const slow = wsClient(t, served.url, [], { perMessageDeflate: false });
    let fastCount = 0;
    fast.on('message', () => fastCount++);
    await Promise.all([fast, slow].map(opened));
    await until(() => channel.size === 2);
    const slowSocket = (slow as unknown as { _socket: import('node:net').Socket })._socket;
    slowSocket.pause();
    const overflow = once(channel, 'overflow') as Promise<[OverflowEvent]>;
    const payload = 'y'.repeat(64 * 1024);
    let sent = 0;
    while (channel.dropped === 0 && sent < 2000) {
      channel.broadcast(payload);
      sent++;
      await sleep(1);
    }
    const [event] = await within(overflow, 10_000, 'overflow');
    t.ok(event instanceof OverflowEvent);
    t.equal(channel.dropped, 1);
    t.equal(channel.size, 1, 'the fast member stays');
    t.ok(served.sockets.includes(event.source as WebSocket), 'names the server socket');
    slowSocket.resume();
    const [code] = (await within(once(slow, 'close'), 15_000, 'the slow client closed')) as [number];
    t.equal(code, 1013);
    await until(() => fastCount === sent, 10_000);
  });

  t.test('over HTTP/2 (RFC 8441): members as on HTTP/1.1, the same frames', async (t) => {
    if (!requirePeer(t, 'openssl', 'openssl')) return;
    const peer = await http2Server(t);
    const channel = new Channel();
    t.teardown(() => channel.close());
    peer.server.on('request', (_request, response) => response.end('page'));
    peer.server.on('connect', (request: Http2ServerRequest, response: Http2ServerResponse) => {
      const ws = new WebSocket(request, response, [], { perMessageDeflate: true });
      channel.register(ws);
    });
    const session = http2Session(t, peer.origin, peer.ca);
    const clients = [1, 2].map(() => new Client(`${peer.wss}/room`, [], { http2: session }));
    const got = clients.map((client) => {
      const messages: string[] = [];
      client.onmessage = (event) => messages.push(String(event.data));
      t.teardown(() => client.close());
      return messages;
    });
    await until(() => channel.size === 2 && clients.every((client) => client.readyState === Client.OPEN));
    const big = 'z'.repeat(5000);
    channel.broadcast('over h2');
    channel.broadcast(big);
    await until(() => got.every((messages) => messages.length === 2));
    for (const messages of got) t.same(messages, ['over h2', big]);
    (clients[0] as Client).close();
    await until(() => channel.size === 1);
  });
});
