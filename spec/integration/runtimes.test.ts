// Bun and Deno kept true (issue 24 item 7): spec/fixtures/runtimes.mjs runs
// under `bun` and `deno` from their npm packages, loading isosocket by its
// package name, and proves the server socket (with permessage-deflate),
// WebSocket.Client, the runtime's own WebSocket against the server socket,
// and an SSE round trip through EventSource.Client, reconnection with
// Last-Event-ID included. Node runs the same fixture as the reference. The
// versions are stated in docs/runtimes.md and the README.
//
// Needs `npm run build` (npm test builds first).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { startRuntime } from '../helpers/runtimes.js';
import { ROOT } from '../helpers/spawn.js';

const run = promisify(execFile);

/** What the fixture prints on every runtime (the native WebSocket aside). */
const ECHO = ['echo hi', [1, 2, 3], { code: 1000, reason: 'done', wasClean: true }];
const SSE = [
  ['hello first', '1'],
  ['hello 1', '2'],
];

async function roundTrip(command: string, args: string[]) {
  const { stdout } = await run(command, [...args, 'spec/fixtures/runtimes.mjs'], {
    cwd: ROOT,
    timeout: 60_000,
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null');
}

t.test('node, the reference: the fixture passes', async (t) => {
  const result = await roundTrip(process.execPath, []);
  t.same(result.client, { protocol: 'echo', extensions: 'permessage-deflate', seen: ECHO });
  t.same(result.sse, SSE);
});

for (const name of ['bun', 'deno'] as const) {
  t.test(`under ${name}`, async (t) => {
    const runtime = startRuntime(t, name);
    if (!runtime) return;
    t.comment(`${name} ${runtime.version}`);
    const result = await roundTrip(runtime.command, runtime.run);

    t.same(
      result.client,
      { protocol: 'echo', extensions: 'permessage-deflate', seen: ECHO },
      'WebSocket.Client echoes text and binary through the server socket, compressed, and closes cleanly',
    );
    // Bun's WebSocket offers permessage-deflate, Deno's does not.
    t.same(
      result.native,
      { protocol: 'echo', extensions: name === 'bun' ? 'permessage-deflate' : '', seen: ECHO },
      `${name}'s own WebSocket talks to the server socket`,
    );
    t.same(result.sse, SSE, 'EventSource.Client reads the endpoint, reconnects with Last-Event-ID and reads on');
  });
}
