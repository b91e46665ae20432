// RFC 6455 §4.1, client requirement 2, against a real server that holds its
// 101: a second WebSocket.Client to the same host and port sends nothing
// until the first has opened or failed; other hosts and ports go at once, and
// an open connection holds nobody.

import http from 'node:http';
import type { Socket } from 'node:net';
import t, { type Test } from 'tap';
import { Client, type ErrorEvent, WebSocket } from '../../src/index.js';
import { nextWithin } from '../helpers/bounded.js';
import { listenOnTwoHosts } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { trace } from '../helpers/trace.js';

interface HoldingServer {
  port: number;
  /** `request /path` and `answered /path`, in order, as the server saw them. */
  log: string[];
  /** Answers the held handshake: 101, or `status` to refuse it. */
  release(status?: number): void;
}

/**
 * A server on 127.0.0.1 (and, for "another host", 127.0.0.2 on the same
 * port) that answers `/hold` only when released, and every other path at once.
 */
async function holdingServer(t: Test): Promise<HoldingServer> {
  const log: string[] = [];
  let held: ((status?: number) => void) | undefined;
  const onUpgrade = (request: http.IncomingMessage, socket: Socket, head: Buffer): void => {
    const path = request.url ?? '/';
    log.push(`request ${path}`);
    const answer = (status?: number): void => {
      log.push(`answered ${path}`);
      if (status !== undefined) {
        socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        return;
      }
      const ws = new WebSocket(request, socket, head);
      ws.onmessage = (event) => ws.send(event.data);
    };
    if (path === '/hold') held = answer;
    else answer();
  };
  const servers = [http.createServer(), http.createServer()] as const;
  for (const server of servers) server.on('upgrade', onUpgrade);
  const port = await listenOnTwoHosts(t, servers);
  return {
    port,
    log,
    release(status) {
      const answer = held;
      held = undefined;
      answer?.(status);
    },
  };
}

/** Opens, echoes one message, and closes: the client's event loop has run well past any connect queued before it. */
async function roundTrip(url: string): Promise<void> {
  const ws = new Client(url);
  await nextWithin(ws, 'open');
  ws.send('ping');
  await nextWithin(ws, 'message');
  ws.close();
  await nextWithin(ws, 'close');
}

t.test('a second client to the same host and port waits until the first has opened', async (t) => {
  const server = await holdingServer(t);
  const first = new Client(`ws://127.0.0.1:${server.port}/hold`);
  await until(() => server.log.includes('request /hold'));
  const second = new Client(`ws://127.0.0.1:${server.port}/second`);
  const secondEvents = trace(second, ['open', 'error', 'close']);

  // Other hosts and ports connect meanwhile, all the way to an echo.
  await roundTrip(`ws://127.0.0.2:${server.port}/another-host`);
  t.notOk(server.log.includes('request /second'), 'nothing was sent for the second while the first was CONNECTING');
  t.equal(second.readyState, Client.CONNECTING);

  server.release();
  await nextWithin(first, 'open');
  await nextWithin(second, 'open');
  t.same(server.log, [
    'request /hold',
    'request /another-host',
    'answered /another-host',
    'answered /hold',
    'request /second',
    'answered /second',
  ]);

  // An established connection holds nobody.
  await roundTrip(`ws://127.0.0.1:${server.port}/third`);
  t.equal(first.readyState, Client.OPEN);
  first.close();
  second.close();
  await Promise.all([nextWithin(first, 'close'), nextWithin(second, 'close')]);
  t.same(
    secondEvents.map((event) => event.replace(/@.*/, '')),
    ['open', 'close:1005'],
  );
});

t.test('the second goes once the first has failed', async (t) => {
  const server = await holdingServer(t);
  const first = new Client(`ws://127.0.0.1:${server.port}/hold`);
  const firstEvents = trace(first, ['open', 'error', 'close']);
  await until(() => server.log.includes('request /hold'));
  const second = new Client(`ws://127.0.0.1:${server.port}/second`);
  await roundTrip(`ws://127.0.0.2:${server.port}/another-host`);
  t.notOk(server.log.includes('request /second'));

  server.release(403);
  await nextWithin(first, 'close');
  t.same(
    firstEvents.map((event) => event.replace(/@.*/, '')),
    ['error', 'close:1006'],
  );
  await nextWithin(second, 'open');
  t.same(server.log.slice(-2), ['request /second', 'answered /second']);
  second.close();
  await nextWithin(second, 'close');
});

t.test('a client closed while it waits leaves the queue: nothing is sent for it, error then close 1006', async (t) => {
  const server = await holdingServer(t);
  const first = new Client(`ws://127.0.0.1:${server.port}/hold`);
  await until(() => server.log.includes('request /hold'));
  const gone = new Client(`ws://127.0.0.1:${server.port}/gone`);
  const goneEvents = trace(gone, ['open', 'error', 'close']);
  const third = new Client(`ws://127.0.0.1:${server.port}/third`);
  gone.close();
  t.equal(gone.readyState, Client.CLOSING);
  await nextWithin(gone, 'close');
  t.same(
    goneEvents.map((event) => event.replace(/@.*/, '')),
    ['error', 'close:1006'],
  );

  server.release();
  await Promise.all([nextWithin(first, 'open'), nextWithin(third, 'open')]);
  t.notOk(server.log.includes('request /gone'), 'the closed one never connected');
  first.close();
  third.close();
  await Promise.all([nextWithin(first, 'close'), nextWithin(third, 'close')]);
});

t.test('handshakeTimeout counts the wait: a client that waits too long fails without connecting', async (t) => {
  const server = await holdingServer(t);
  const first = new Client(`ws://127.0.0.1:${server.port}/hold`);
  await until(() => server.log.includes('request /hold'));
  const impatient = new Client(`ws://127.0.0.1:${server.port}/impatient`, [], { handshakeTimeout: 100 });
  const error = nextWithin<ErrorEvent>(impatient, 'error');
  const close = nextWithin(impatient, 'close');
  t.match((await error).message, /handshakeTimeout/);
  await close;
  server.release();
  await nextWithin(first, 'open');
  t.notOk(server.log.includes('request /impatient'));
  first.close();
  await nextWithin(first, 'close');
});
