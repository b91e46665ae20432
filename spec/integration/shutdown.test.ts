// Graceful shutdown of a whole process (spec/fixtures/shutdown-server.mjs):
// a server child holding 1,000 open WebSockets and event streams gets
// SIGTERM; its handler runs server.close(), closeIdleConnections() and
// shutdown(server). Every WebSocket client (ws and isosocket's) sees close
// 1001, every event-stream client (the `eventsource` package and
// isosocket's) sees its stream end, two peers that never answer the close
// are terminated at the timeout, and the child then exits on its own: no
// socket, stream or timer was left behind.
//
// Needs `npm run build` (npm test builds first).

import { once } from 'node:events';
import { EventSource as PackageEventSource } from 'eventsource';
import t from 'tap';
import WS from 'ws';
import { Client, EventSourceClient } from '../../src/index.js';
import { within } from '../helpers/bounded.js';
import { until } from '../helpers/peers.js';
import { connectRaw } from '../helpers/raw.js';
import { run } from '../helpers/spawn.js';

/**
 * Clients: 500 WebSockets (400 ws, 100 isosocket: its connections to one
 * host and port open one at a time, RFC 6455 §4.1) and 500 event streams
 * (250 eventsource, 250 EventSource.Client): 1,000 open sockets and streams.
 */
const WS_CLIENTS = 400;
const ISO_CLIENTS = 100;
const EACH = 250;
/** Peers that complete the handshake and then never answer the close. */
const SILENT = 2;
/** shutdown's timeout in the child, in ms: long enough for 1,000 closing handshakes on a loaded 2-core machine (at 2 s, 252 were still open under load 20). */
const TIMEOUT = 8000;

t.test('SIGTERM with 1,000 open sockets and streams: every client sees 1001 or its end, the child exits', async (t) => {
  const child = run(t, 'spec/fixtures/shutdown-server.mjs', [], { TIMEOUT: String(TIMEOUT) });
  const [, port] = await child.waitFor(/listening (\d+)/);
  const origin = `127.0.0.1:${port}`;

  const closeCodes: number[] = [];
  const ended: string[] = [];
  const opening: Array<Promise<unknown>> = [];
  const teardown: Array<() => void> = [];
  t.teardown(() => {
    for (const close of teardown) close();
  });

  for (let i = 0; i < WS_CLIENTS; i++) {
    const ws = new WS(`ws://${origin}/`);
    ws.on('error', () => {});
    ws.on('close', (code) => closeCodes.push(code));
    teardown.push(() => ws.terminate());
    opening.push(once(ws, 'open'));
  }
  for (let i = 0; i < ISO_CLIENTS; i++) {
    const client = new Client(`ws://${origin}/`);
    client.onclose = (event) => closeCodes.push(event.code);
    teardown.push(() => client.terminate());
    opening.push(once(client, 'open'));
  }
  for (let i = 0; i < EACH; i++) {
    for (const source of [new PackageEventSource(`http://${origin}/`), new EventSourceClient(`http://${origin}/`)]) {
      const kind = source instanceof PackageEventSource ? 'eventsource' : 'EventSource.Client';
      teardown.push(() => source.close());
      opening.push(once(source, 'message'));
      // The stream's end: an error while reconnecting (the server sent retry: 60 s).
      source.addEventListener('error', () => {
        if (source.readyState === source.CONNECTING) ended.push(kind);
        source.close();
      });
    }
  }
  const total = WS_CLIENTS + ISO_CLIENTS + EACH * 2;
  await within(Promise.all(opening), 20_000, `${total} sockets and streams to open`);
  const silent = await Promise.all(Array.from({ length: SILENT }, () => connectRaw(t, Number(port))));
  await until(() => silent.every((peer) => peer.received().includes('\r\n\r\n')));

  child.child.kill('SIGTERM');
  const [, result, ms] = await child.waitFor(/shutdown (\{.*\}) (\d+)/, TIMEOUT + 10_000);
  const { closed, terminated } = JSON.parse(result as string);
  t.equal(closed + terminated, total + SILENT, 'shutdown closed or terminated every one');
  // On a loaded machine a client may answer the close after the timeout too.
  t.ok(terminated >= SILENT, `the ${SILENT} silent peers were terminated (${terminated} in all)`);
  t.equal(await within(child.exited, 5000, 'the child to exit on its own'), 0, 'the child exited on its own, code 0');
  t.comment(`shutdown took ${ms} ms (timeout ${TIMEOUT} ms, waiting for ${SILENT} silent peers)`);

  await until(() => closeCodes.length === WS_CLIENTS + ISO_CLIENTS && ended.length === EACH * 2);
  t.same(
    [...new Set(closeCodes)],
    [1001],
    `all ${WS_CLIENTS + ISO_CLIENTS} WebSocket clients (ws, isosocket) saw close 1001`,
  );
  t.same(
    {
      eventsource: ended.filter((k) => k === 'eventsource').length,
      client: ended.filter((k) => k !== 'eventsource').length,
    },
    { eventsource: EACH, client: EACH },
    'every event stream ended',
  );
  for (const peer of silent) await within(peer.closed, 5000, 'a silent peer to be dropped');
});
