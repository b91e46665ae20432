// What loading isosocket loads (issue 24 item 4): websocket-driver, and
// http-parser-js under it, only when a server handshake first needs them;
// websocket-extensions only when a negotiation does. A
// fresh Node process loads the built package (require and import), opens a
// WebSocket.Client to a ws server, echoes a message, and reports which of
// them its module cache holds at each step; then it answers one upgrade
// itself, which must load the driver (so the check can see it). Times are
// measured in bench/import.mjs, not here.
//
// Needs `npm run build` (npm test builds first).

import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import t from 'tap';
import { WebSocketServer } from 'ws';
import { listen } from '../helpers/listen.js';
import { ROOT } from '../helpers/spawn.js';

const run = promisify(execFile);

// The child: `load` is how it loads isosocket; it prints one JSON line.
const child = (load: string) => `
${load}
const http = require('node:http');
// CommonJS's one module cache: isosocket's ES entry loads its CommonJS build.
const cache = require.cache;
const loaded = () => ({
  driver: Object.keys(cache).some((f) => f.includes('/websocket-driver/')),
  parser: Object.keys(cache).some((f) => f.includes('/http-parser-js/')),
  extensions: Object.keys(cache).some((f) => f.includes('/websocket-extensions/')),
});
(async () => {
  const WebSocket = await isosocket();
  const steps = { imported: loaded() };
  const ws = new WebSocket.Client(process.argv[1]);
  const echo = await new Promise((resolve, reject) => {
    ws.onopen = () => ws.send('hello');
    ws.onmessage = (event) => resolve(event.data);
    ws.onerror = (event) => reject(new Error(event.message));
  });
  ws.close();
  await new Promise((resolve) => (ws.onclose = resolve));
  steps.client = { ...loaded(), echo };
  // A server socket's first handshake loads the driver.
  const server = http.createServer();
  server.on('upgrade', (request, socket, head) => {
    const peer = new WebSocket(request, socket, head);
    peer.onopen = () => peer.close();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new WebSocket.Client('ws://127.0.0.1:' + server.address().port + '/');
  await new Promise((resolve) => (client.onclose = resolve));
  server.close();
  steps.server = loaded();
  process.stdout.write(JSON.stringify(steps));
})();
`;

const LOADS = {
  require: "const isosocket = async () => require('isosocket');",
  import: "const isosocket = async () => (await import('isosocket')).default;",
};

const echoes = new WebSocketServer({ noServer: true });
const server = http.createServer();
server.on('upgrade', (request, socket, head) =>
  echoes.handleUpgrade(request, socket, head, (ws) => ws.on('message', (data) => ws.send(String(data)))),
);
const url = `ws://127.0.0.1:${await listen(t, server)}/`;
t.teardown(() => echoes.close());

for (const [how, load] of Object.entries(LOADS)) {
  t.test(`${how}: a client never loads websocket-driver; the first server handshake does`, async (t) => {
    // From the package root, so that 'isosocket' resolves to this build by its own exports.
    const { stdout } = await run(process.execPath, ['-e', child(load), url], { cwd: ROOT, timeout: 20_000 });
    t.same(JSON.parse(stdout), {
      imported: { driver: false, parser: false, extensions: false },
      // The client offers permessage-deflate by default: negotiation loads websocket-extensions.
      client: { driver: false, parser: false, extensions: true, echo: 'hello' },
      server: { driver: true, parser: true, extensions: true },
    });
  });
}
