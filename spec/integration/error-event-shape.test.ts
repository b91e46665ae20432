// A WebSocket's error event, as code that copies events by their shape sees
// it. Browsers dispatch a plain Event; isosocket's carries `message` and
// `error` (as ws's does) and nothing that names another kind of event.
// partysocket (reconnecting-websocket's successor, `cloneEventNode` in its
// ws.ts) rebuilds each event from its properties: any event with `code` or
// `reason` becomes a CloseEvent (code 1999 when `code` is falsy), so an error
// event with `code: undefined` reached its users as `close 1999`.

import http from 'node:http';
import net from 'node:net';
import t from 'tap';
import { Client, EventSourceClient, WebSocket } from '../../src/index.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { listen } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { connectRaw } from '../helpers/raw.js';

/** partysocket's cloneEventNode, reduced to the kind of event it makes. */
function kindAfterCopy(e: Event): string {
  if ('data' in e) return 'message';
  if ('code' in e || 'reason' in e) return `close ${(e as { code?: number }).code || 1999}`;
  if ('error' in e) return 'error';
  return 'event';
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test("WebSocket.Client's error event is copied as an error, never as a close", async (t) => {
  const ws = new Client(`ws://127.0.0.1:${await closedPort()}/`);
  const error = nextWithin(ws, 'error');
  const close = nextWithin(ws, 'close');
  t.equal(kindAfterCopy(await error), 'error');
  t.equal(kindAfterCopy(await close), 'close 1006');
  t.notOk('code' in (await error), 'no code property');
  t.match(((await error) as Event & { message: string }).message, /ECONNREFUSED|refused/);
});

t.test("the server socket's error event has the same shape (an unmasked frame from the client)", async (t) => {
  const server = http.createServer();
  const errors: Event[] = [];
  let closed: Promise<Event> | undefined;
  server.on('upgrade', (request, socket, head) => {
    const ws = new WebSocket(request, socket, head);
    ws.addEventListener('error', (event) => errors.push(event));
    closed = nextWithin(ws, 'close');
  });
  const port = await listen(t, server);
  const raw = await connectRaw(t, port);
  await until(() => raw.received().includes('\r\n\r\n'));
  // RFC 6455 §5.1: a server fails the connection on an unmasked frame.
  raw.socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
  await within(raw.closed, 5000, 'the server dropping the connection');
  await until(() => closed !== undefined);
  await closed;
  t.equal(errors.length, 1);
  t.equal(kindAfterCopy(errors[0] as Event), 'error');
  t.notOk('code' in (errors[0] as Event), 'no code property');
});

t.test("EventSource.Client's error event keeps its HTTP status (and the eventsource package's code)", async (t) => {
  const server = http.createServer((_request, response) => {
    response.writeHead(401).end();
  });
  const port = await listen(t, server);
  const source = new EventSourceClient(`http://127.0.0.1:${port}/`);
  t.teardown(() => source.close());
  const error = (await nextWithin(source, 'error')) as Event & { status?: number; code?: number };
  t.equal(error.status, 401);
  t.equal(error.code, 401);
});
