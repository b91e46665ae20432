// The README's five examples (server socket with its auth refusal, client,
// SSE endpoint and client, channel, chat rooms) run as pasted: each is written to a file
// in a temporary project whose node_modules/isosocket is this repository (so
// `import ... from 'isosocket'` resolves to the built package by name), its
// ports and URLs rewritten to local ones, run as its own process, and checked
// from outside for what the README says it does.

import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import WS, { WebSocketServer } from 'ws';
import { within } from '../helpers/bounded.js';
import { freePort } from '../helpers/listen.js';
import { ROOT, type Running, run } from '../helpers/spawn.js';
import { codeBlocks, read } from './markdown.js';

const blocks = codeBlocks(read('README.md')).filter((block) => block.lang === 'js');

/** The README block holding `marker`; fails the test when there is none. */
function block(t: Test, marker: string): string {
  const found = blocks.find((candidate) => candidate.code.includes(marker));
  t.ok(found, `README.md has a js block with ${marker}`);
  return found?.code ?? '';
}

/** Runs `code` as a module file of a temporary project, removed after the test. */
function runCode(t: Test, code: string): Running {
  // A project of its own whose node_modules/isosocket is this repository, as an installed package would be.
  const dir = mkdtempSync(join(tmpdir(), 'isosocket-readme-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'isosocket'), 'dir');
  const file = join(dir, 'example.mjs');
  writeFileSync(file, code);
  return run(t, file);
}

/** The block with its servers on 127.0.0.1:`port` (the README uses 8080 and 8081). */
function onPort(code: string, port: number): string {
  return code
    .replace(/\.listen\((8080|8081)\)/g, `.listen(${port}, '127.0.0.1')`)
    .replace(/127\.0\.0\.1:(8080|8081)/g, `127.0.0.1:${port}`);
}

/** Resolves once a TCP connection to the port is accepted. */
async function listening(port: number, child: Running): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const ok = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    if (ok) return;
    if (child.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the example never listened on ${port}:\n${child.output()}`);
}

t.test('the server socket refuses without the token with 401, and echoes with it', async (t) => {
  const port = await freePort();
  const child = runCode(t, onPort(block(t, 'WebSocket.refuse('), port));
  await listening(port, child);

  const refused = new WS(`ws://127.0.0.1:${port}/`, ['chat']);
  const [, response] = await within(
    once(refused, 'unexpected-response'),
    5000,
    'a refusal of the upgrade without the token',
  );
  t.equal(response.statusCode, 401);
  t.equal(response.headers['www-authenticate'], 'Bearer');
  refused.on('error', () => {}); // terminating before the handshake reports one
  refused.terminate();

  const client = new WS(`ws://127.0.0.1:${port}/`, ['chat'], {
    headers: { Authorization: 'Bearer secret' },
    perMessageDeflate: true,
  });
  t.teardown(() => client.terminate());
  await within(once(client, 'open'), 5000, 'the upgrade with the token');
  t.equal(client.protocol, 'chat');
  t.match(client.extensions, /permessage-deflate/);
  client.send('hi');
  const [data] = await within(once(client, 'message'), 5000, 'the echo');
  t.equal(String(data), 'hi');
  client.close(1000, 'bye');
  await child.waitFor(/close 1000 bye true/);
});

t.test('the client runs as browser code against a local echo server', async (t) => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  let authorization: string | undefined;
  server.on('connection', (socket, request) => {
    authorization = request.headers.authorization;
    socket.on('message', (data, isBinary) => {
      socket.send(data, { binary: isBinary });
      socket.close(1000, 'done');
    });
  });
  const code = block(t, 'isosocket.Client').replace('wss://example.com/chat', `ws://127.0.0.1:${port}/chat`);
  const child = runCode(t, code);
  t.equal(await within(child.exited, 10_000, 'the client example to exit'), 0, child.output());
  t.equal(child.output(), 'Hello, world!\n1000 done true\n');
  t.equal(authorization, 'Bearer secret');
});

t.test('the SSE endpoint sends numbered updates to its own client', async (t) => {
  const port = await freePort();
  const child = runCode(
    t,
    onPort(block(t, 'EventSource.isEventSource(request)) return response.writeHead(404).end();\n  const es'), port),
  );
  await child.waitFor(/^update 1 1\nupdate 2 2\n/m, 15_000);
  // A reconnecting client resumes after its Last-Event-ID.
  const response = await within(
    fetch(`http://127.0.0.1:${port}/`, { headers: { Accept: 'text/event-stream', 'Last-Event-ID': '41' } }),
    5000,
    'the resumed stream',
  );
  t.match(response.headers.get('content-type'), /^text\/event-stream/);
  const reader = response.body?.getReader();
  t.teardown(() => reader?.cancel());
  let text = '';
  while (!text.includes('data: update 42')) {
    const chunk = await within(Promise.resolve(reader?.read()), 5000, 'the next chunk of the stream');
    if (!chunk || chunk.done) break;
    text += Buffer.from(chunk.value).toString();
  }
  t.match(text, /event: update\nid: 42\ndata: update 42\n/);
});

t.test('the channel broadcasts JSON ticks to every stream', async (t) => {
  const port = await freePort();
  const child = runCode(t, onPort(block(t, 'EventSource.Channel('), port));
  await listening(port, child);
  const response = await within(
    fetch(`http://127.0.0.1:${port}/`, { headers: { Accept: 'text/event-stream' } }),
    5000,
    'the channel stream',
  );
  const reader = response.body?.getReader();
  t.teardown(() => reader?.cancel());
  let text = '';
  while (!/event: tick\nid: \d+-\d+\ndata: \{"at":\d+\}\n/.test(text)) {
    const chunk = await within(Promise.resolve(reader?.read()), 5000, 'the next chunk of the stream');
    if (!chunk || chunk.done) break;
    text += Buffer.from(chunk.value).toString();
  }
  t.match(text, /event: tick\nid: \d+-\d+\ndata: \{"at":\d+\}\n/);
});

t.test(
  'the chat rooms: a message goes to every socket of its room, with its id; a reconnecting socket gets what it missed',
  async (t) => {
    const port = await freePort();
    const child = runCode(t, onPort(block(t, 'new Channel({ history: 100'), port));
    await listening(port, child);
    const connect = async (path: string): Promise<{ ws: WS; got: Array<{ id: string; data: string }> }> => {
      const ws = new WS(`ws://127.0.0.1:${port}${path}`);
      ws.on('error', () => {});
      t.teardown(() => ws.terminate());
      const got: Array<{ id: string; data: string }> = [];
      ws.on('message', (data) => got.push(JSON.parse(String(data))));
      await within(once(ws, 'open'), 5000, 'a socket to open');
      return { ws, got };
    };
    const a = await connect('/lobby');
    const b = await connect('/lobby');
    const other = await connect('/kitchen');
    a.ws.send('hello');
    a.ws.send('again');
    const arrived = async (got: unknown[], count: number): Promise<void> => {
      for (let i = 0; i < 500 && got.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await arrived(b.got, 2);
    t.same(
      b.got.map((m) => m.data),
      ['hello', 'again'],
    );
    t.same(a.got, b.got, 'the sender too, the same ids');
    t.match(b.got[0]?.id, /^\d+-\d+$/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.same(other.got, [], 'another room hears nothing');
    const late = await connect(`/lobby?lastEventId=${b.got[0]?.id}`);
    await arrived(late.got, 1);
    t.same(
      late.got.map((m) => m.data),
      ['again'],
      'resumes after its last id',
    );
  },
);
