// Hostile input against the server socket and the client: each bad
// handshake gets a clear HTTP refusal, each bad frame the close code RFC 6455
// asks for, and the connection ends. Every server-side attack runs against
// one server, which the last spec probes: it still upgrades, echoes and
// serves pages. (That no peer can crash the process or grow its memory is
// proved against a child process: limits.test.ts, deflate-bombs.test.ts.)

import deflate from 'permessage-deflate';
import t, { type Test } from 'tap';
import { Client, type CloseEvent, type ServerOptions, type WebSocket } from '../../src/index.js';
import { deflateBomb } from '../helpers/bombs.js';
import { nextWithin as next, within } from '../helpers/bounded.js';
import { CLIENT_MAX_LENGTH, clientFrameCases, SERVER_MAX_LENGTH, serverFrameCases, u16 } from '../helpers/hostile.js';
import { startServer as listenServer, type ServerHandle, until } from '../helpers/peers.js';
import { connectRaw, handshake } from '../helpers/raw.js';
import { acceptFor, rawServer } from '../helpers/servers.js';
import { recordEvents, trace } from '../helpers/trace.js';
import { closeCodeOf, frame, framesOf } from '../helpers/wire.js';

t.test('hostile input to the server socket', async (t) => {
  // One server for every attack: each spec sets the options and setup of the connections it makes.
  const current: { options: ServerOptions | undefined; setup: ((ws: WebSocket) => void) | undefined } = {
    options: undefined,
    setup: undefined,
  };
  const shared = await listenServer(t, {
    get options() {
      return current.options as ServerOptions;
    },
    setup: (ws) => current.setup?.(ws),
  });
  const startServer = async (
    _t: Test,
    config: { options?: ServerOptions; setup?: (ws: WebSocket) => void } = {},
  ): Promise<ServerHandle> => {
    current.options = config.options;
    current.setup = config.setup;
    return shared;
  };

  t.test('handshakes', async (t) => {
    const refusals: Array<[string, (port: number) => string, RegExp]> = [
      [
        'a missing Sec-WebSocket-Key',
        (port) => handshake(port, {}, { 'Sec-WebSocket-Key': undefined }),
        /^HTTP\/1\.1 400 [\s\S]*Sec-WebSocket-Key/,
      ],
      [
        'a malformed Sec-WebSocket-Key',
        (port) => handshake(port, {}, { 'Sec-WebSocket-Key': 'c2hvcnQ=' }),
        /^HTTP\/1\.1 400 [\s\S]*Sec-WebSocket-Key/,
      ],
      [
        'a wrong version',
        (port) => handshake(port, {}, { 'Sec-WebSocket-Version': '8' }),
        /^HTTP\/1\.1 426 Upgrade Required\r\n[\s\S]*Sec-WebSocket-Version: 13\r\n/,
      ],
      ['not a GET', (port) => handshake(port).replace(/^GET/, 'POST'), /^HTTP\/1\.1 400 [\s\S]*GET request/],
    ];
    for (const [name, request, pattern] of refusals) {
      t.test(`${name} is refused with a clear HTTP answer, then error and close 1006`, async (t) => {
        const events: string[] = [];
        const server = await startServer(t, { setup: (ws) => recordEvents(ws, events) });
        const raw = await connectRaw(t, server.port, request(server.port));
        await raw.closed;
        t.match(raw.received().toString('latin1'), pattern);
        await until(() => events.length === 2);
        t.same(events, ['error@3', 'close:1006@3']);
      });
    }

    t.test('a huge header is refused by Node with 431 before any upgrade', async (t) => {
      let upgrades = 0;
      const server = await startServer(t, { setup: () => upgrades++ });
      const raw = await connectRaw(t, server.port, handshake(server.port, { 'X-Huge': 'x'.repeat(64 * 1024) }));
      await raw.closed;
      t.match(raw.received().toString('latin1'), /^HTTP\/1\.1 431/);
      t.equal(upgrades, 0);
    });

    t.test('many headers (Node keeps at most 2000) still give a normal handshake', async (t) => {
      const server = await startServer(t);
      const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`X-H${i}`, 'v']));
      const raw = await connectRaw(t, server.port, handshake(server.port, many));
      await until(() => raw.received().includes('\r\n\r\n'));
      t.match(raw.received().toString('latin1'), /^HTTP\/1\.1 (101|431)/);
    });

    t.test('a Sec-WebSocket-Extensions header shaped for the 2020 ReDoS parses quickly', async (t) => {
      const server = await startServer(t, { options: { extensions: [deflate] } });
      const evil = `a;b=${'"\\\\'.repeat(4000)}`;
      const started = process.hrtime.bigint();
      const raw = await connectRaw(t, server.port, handshake(server.port, { 'Sec-WebSocket-Extensions': evil }));
      await until(() => raw.received().includes('\r\n\r\n'), 10_000);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      t.match(raw.received().toString('latin1'), /^HTTP\/1\.1 (101|400)/);
      t.ok(ms < 5000, `answered in ${ms.toFixed(0)} ms, not stuck in a backtracking regex`);
    });

    t.test('garbage after the upgrade closes with 1002', async (t) => {
      const server = await startServer(t);
      const raw = await connectRaw(t, server.port);
      raw.socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      await raw.closed;
      t.equal(closeCodeOf(raw.received()), 1002);
    });
  });

  t.test('frames', async (t) => {
    const cases = serverFrameCases();
    for (const [name, frames, code] of cases) {
      t.test(`${name}: close ${code}, and the connection ends`, async (t) => {
        const events: string[] = [];
        let ws: WebSocket | undefined;
        const server = await startServer(t, {
          options: { maxLength: SERVER_MAX_LENGTH },
          setup: (socket) => {
            ws = socket;
            recordEvents(socket, events);
          },
        });
        const raw = await connectRaw(t, server.port);
        await until(() => events.includes('open@1'));
        for (const bytes of frames) raw.socket.write(bytes);
        await raw.closed;
        t.equal(closeCodeOf(raw.received()), code);
        await until(() => ws?.readyState === 3);
        t.equal(events.filter((e) => e.startsWith('close')).length, 1, 'exactly one close event');
        t.ok(events.filter((e) => e.startsWith('error')).length <= 1, 'at most one error event');
      });
    }
  });

  t.test(
    'a permessage-deflate bomb under maxLength on the wire fails with 1009 when it inflates past it',
    async (t) => {
      const maxLength = 1024 * 1024;
      const events: string[] = [];
      const server = await startServer(t, {
        options: { extensions: [deflate], maxLength },
        setup: (ws) => recordEvents(ws, events),
      });
      // 62 KiB on the wire that inflate to 64 MiB: only the inflate bound can stop it.
      const bomb = deflateBomb(64 * maxLength);
      t.ok(bomb.length < maxLength / 16, `${bomb.length} bytes on the wire`);
      const raw = await connectRaw(
        t,
        server.port,
        handshake(server.port, { 'Sec-WebSocket-Extensions': 'permessage-deflate' }),
      );
      await within(
        until(() => events.includes('open@1') && raw.received().includes('\r\n\r\n')),
        5000,
        'the handshake',
      );
      t.match(raw.received().toString('latin1'), /Sec-WebSocket-Extensions: permessage-deflate/i);
      raw.socket.write(frame(2, bomb, { rsv: 4 }));
      await within(raw.closed, 5000, 'the server to close');
      t.equal(closeCodeOf(raw.received()), 1009);
      t.same(events, ['open@1', 'error@3', 'close:1006@3']);
    },
  );

  t.test('faults', async (t) => {
    t.test('a peer that vanishes mid-frame gives close 1006', async (t) => {
      const events: string[] = [];
      const server = await startServer(t, { setup: (ws) => recordEvents(ws, events) });
      const raw = await connectRaw(t, server.port);
      await until(() => events.includes('open@1'));
      raw.socket.write(frame(1, 'x'.repeat(200)).subarray(0, 50));
      raw.socket.destroy();
      await until(() => events.length === 2);
      t.same(events, ['open@1', 'close:1006@3']);
    });

    t.test('a peer that vanishes mid-handshake never reaches the upgrade handler, and the server lives', async (t) => {
      let upgrades = 0;
      const server = await startServer(t, { setup: () => upgrades++ });
      const raw = await connectRaw(t, server.port, handshake(server.port).slice(0, 40));
      raw.socket.destroy();
      await raw.closed;
      const again = await connectRaw(t, server.port);
      await until(() => again.received().includes('\r\n\r\n'));
      t.equal(upgrades, 1);
    });

    t.test('a peer that resets right after its close frame gives one close event', async (t) => {
      const events: string[] = [];
      const server = await startServer(t, { setup: (ws) => recordEvents(ws, events) });
      const raw = await connectRaw(t, server.port);
      await until(() => events.includes('open@1'));
      raw.socket.write(frame(8, u16(1000)));
      raw.socket.resetAndDestroy();
      await until(() => events.length === 2);
      t.equal(events[1]?.startsWith('close:'), true);
    });

    t.test('a reset while the server is closing gives close 1006, once', async (t) => {
      const events: string[] = [];
      let ws: WebSocket | undefined;
      const server = await startServer(t, {
        setup: (socket) => {
          ws = socket;
          recordEvents(socket, events);
        },
      });
      const raw = await connectRaw(t, server.port);
      await until(() => events.includes('open@1'));
      ws?.close(1000);
      await until(() => framesOf(raw.received()).length > 0);
      raw.socket.resetAndDestroy();
      await until(() => events.length === 2);
      t.same(events, ['open@1', 'close:1006@3']);
    });
  });

  t.test('backpressure: a fast sender to a slow reader is told to wait, and nothing is lost', async (t) => {
    let upgraded: (ws: WebSocket) => void = () => {};
    const upgrade = new Promise<WebSocket>((resolve) => {
      upgraded = resolve;
    });
    const server = await startServer(t, { setup: (socket) => upgraded(socket) });
    const ws = new Client(server.url);
    const peer = await within(upgrade, 5000, 'the upgrade');
    await within(next(ws, 'open'), 5000, 'the client to open');
    peer.pause();
    const chunk = 'y'.repeat(32 * 1024);
    let sent = 0;
    // write() is faye's send() with backpressure: send() returns undefined, as in browsers.
    while (ws.write(chunk)) sent++;
    sent++;
    t.ok(ws.bufferedAmount > 0, `bufferedAmount ${ws.bufferedAmount} tells the app to wait`);
    const received: string[] = [];
    peer.on('message', (event: MessageEvent) => received.push(event.data));
    const drained = new Promise<void>((resolve) => ws.once('drain', () => resolve()));
    peer.resume();
    await within(drained, 5000, "'drain'");
    for (let i = 0; i < 10; i++) ws.send(chunk);
    await within(
      until(() => received.length >= sent + 10),
      5000,
      `all ${sent + 10} messages to arrive`,
    );
    t.equal(received.length, sent + 10, 'every message arrived once');
    t.ok(
      received.every((data) => data === chunk),
      'each intact',
    );
    await within(
      until(() => ws.bufferedAmount === 0),
      5000,
      'bufferedAmount to go back to 0',
    );
    t.equal(ws.bufferedAmount, 0);
    ws.close();
  });

  t.test('the same server keeps serving after all of the above: it upgrades, echoes and answers pages', async (t) => {
    t.equal(shared.server.listening, true);
    const server = await startServer(t, {
      setup: (ws) => ws.addEventListener('message', (event) => ws.send(event.data)),
    });
    t.equal(await fetch(`http://127.0.0.1:${server.port}/`).then((r) => r.text()), 'not a websocket');
    const ws = new Client(server.url);
    const echoed = new Promise<MessageEvent>((resolve) => ws.addEventListener('message', resolve, { once: true }));
    ws.onopen = () => ws.send('still here');
    t.equal((await within(echoed, 5000, 'the echo')).data, 'still here');
    ws.close();
    await within(next(ws, 'close'), 5000, 'the close');
  });
});

t.test('hostile input to the client', async (t) => {
  const open101 = (key: string): string =>
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`;

  const cases = clientFrameCases();
  for (const [name, bytes, code] of cases) {
    t.test(`${name}: error, close 1006, and ${code} sent`, async (t) => {
      let sent = Buffer.alloc(0);
      const server = await rawServer(t, (_head, key, socket) => {
        socket.on('data', (chunk: Buffer) => {
          sent = Buffer.concat([sent, chunk]);
        });
        socket.write(open101(key));
        // A moment later, so the frame arrives after the handshake, not with it.
        setTimeout(() => socket.write(bytes), 20);
        return undefined;
      });
      const ws = new Client(server.url, [], { maxLength: CLIENT_MAX_LENGTH });
      const events = trace(ws);
      const close = await next<CloseEvent>(ws, 'close');
      t.same(events, ['open@1', 'error@3', 'close:1006@3']);
      t.equal(close.wasClean, false);
      await until(() => sent.length >= 8);
      const masked = sent;
      t.equal((masked[0] as number) & 0x0f, 8, 'a close frame was sent');
      const key = masked.subarray(2, 6);
      const payload = Buffer.from(masked.subarray(6, 8).map((b, i) => b ^ (key[i] as number)));
      t.equal(payload.readUInt16BE(0), code);
    });
  }

  t.test('a masked frame in the same packet as the handshake response is caught too', async (t) => {
    const server = await rawServer(t, (_head, key, socket) => {
      socket.write(Buffer.concat([Buffer.from(open101(key)), frame(1, 'sneaky', { masked: true })]));
      return undefined;
    });
    const ws = new Client(server.url);
    const events = trace(ws);
    let messages = 0;
    ws.onmessage = () => messages++;
    await next(ws, 'close');
    // Frames in the 101's packet are read after open, as Chromium reads a
    // close frame there (the parity spec 'server close with code and reason').
    t.same(events, ['open@1', 'error@3', 'close:1006@3']);
    t.equal(messages, 0, 'the masked message was never dispatched');
  });

  t.test('a handshake response that never ends is cut off by the close timeout after close()', async (t) => {
    let drips = 0;
    const server = await rawServer(t, (_head, _key, socket) => {
      const drip = setInterval(() => {
        drips++;
        socket.write('X-Slow: drip\r\n');
      }, 10);
      socket.on('close', () => clearInterval(drip));
      return 'HTTP/1.1 101 Switching Protocols\r\n';
    });
    // Not the 30 s default: this spec is about the cut, not the default.
    const ws = new Client(server.url, [], { closeTimeout: 100 });
    const events = trace(ws);
    await within(
      until(() => drips >= 3),
      5000,
      'the response to start dripping',
    );
    ws.close();
    await within(next(ws, 'close'), 5000, 'the close event');
    t.same(events, ['error@3', 'close:1006@3']);
  });

  t.test('a handshake response with a huge header fails the connection', async (t) => {
    const server = await rawServer(
      t,
      (_head, key) => `${open101(key).slice(0, -2)}X-Huge: ${'h'.repeat(100_000)}\r\n\r\n`,
    );
    const ws = new Client(server.url);
    const events = trace(ws);
    await next(ws, 'close');
    t.same(events, ['error@3', 'close:1006@3']);
  });

  t.test('a handshake response with thousands of headers is handled', async (t) => {
    const many = Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const server = await rawServer(t, (_head, key) => `${open101(key).slice(0, -2)}${many}\r\n`);
    const ws = new Client(server.url, [], { closeTimeout: 100 });
    const events = trace(ws);
    await within(
      until(() => events.length > 0),
      5000,
      'open or error',
    );
    ws.close();
    await within(next(ws, 'close'), 5000, 'the close event');
    t.ok(['open@1', 'error@3'].includes(events[0] ?? ''), `events: ${events.join(', ')}`);
    t.equal(events.at(-1)?.startsWith('close:'), true);
  });

  t.test('a Sec-WebSocket-Extensions answer shaped for the ReDoS fails quickly', async (t) => {
    const evil = `permessage-deflate; a=${'"\\'.repeat(4000)}`;
    const server = await rawServer(
      t,
      (_head, key) => `${open101(key).slice(0, -2)}Sec-WebSocket-Extensions: ${evil}\r\n\r\n`,
    );
    const started = Date.now();
    const ws = new Client(server.url, [], { extensions: [deflate] });
    const events = trace(ws);
    await next(ws, 'close');
    t.same(events, ['error@3', 'close:1006@3']);
    t.ok(Date.now() - started < 5000, 'no backtracking stall');
  });

  t.test('a server that answers with garbage fails the connection', async (t) => {
    const server = await rawServer(t, () => 'SSH-2.0-OpenSSH\r\n\r\n');
    const ws = new Client(server.url);
    const events = trace(ws);
    await next(ws, 'close');
    t.same(events, ['error@3', 'close:1006@3']);
  });
});
