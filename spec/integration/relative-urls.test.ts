// Relative URLs against real servers: with setGlobalOrigin (or a runtime's
// globalThis.location) the clients resolve them as a browser resolves them
// against its document, and connect; without either they are a SyntaxError.

import http from 'node:http';
import t from 'tap';
import {
  Client,
  EventSource,
  EventSourceClient,
  setGlobalOrigin,
  WebSocket,
  WebSocketStream,
} from '../../src/index.js';
import { nextWithin, within } from '../helpers/bounded.js';
import { listen } from '../helpers/listen.js';

t.test('relative URLs', async (t) => {
  const paths: string[] = [];
  const server = http.createServer((request, response) => {
    paths.push(`GET ${request.url}`);
    const es = new EventSource(request, response, { ping: 0 });
    es.send(`feed at ${request.url}`);
  });
  server.on('upgrade', (request, socket, head) => {
    paths.push(`upgrade ${request.url}`);
    const ws = new WebSocket(request, socket, head);
    ws.onopen = () => ws.send(`socket at ${request.url}`);
  });
  const port = await listen(t, server);
  t.teardown(() => setGlobalOrigin(undefined));

  t.test('without a base URL they are a SyntaxError, as an unparsable URL is', async (t) => {
    t.throws(() => new Client('/live'), { name: 'SyntaxError' });
    t.throws(() => new WebSocketStream('/live'), { name: 'SyntaxError' });
    t.throws(() => new EventSourceClient('feed'), { name: 'SyntaxError' });
  });

  t.test('with setGlobalOrigin, all three clients resolve them and connect', async (t) => {
    setGlobalOrigin(`http://127.0.0.1:${port}/app/page`);
    const ws = new Client('/live?room=1');
    t.equal(ws.url, `ws://127.0.0.1:${port}/live?room=1`);
    t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, 'socket at /live?room=1');
    ws.close();
    await nextWithin(ws, 'close');

    const wss = new WebSocketStream('stream');
    t.equal(wss.url, `ws://127.0.0.1:${port}/app/stream`);
    const { readable } = await within(wss.opened, 5000, 'opened');
    t.equal((await readable.getReader().read()).value, 'socket at /app/stream');
    wss.close();
    await wss.closed;

    const source = new EventSourceClient('feed');
    t.teardown(() => source.close());
    t.equal(source.url, `http://127.0.0.1:${port}/app/feed`);
    t.equal((await nextWithin<MessageEvent>(source, 'message')).data, 'feed at /app/feed');
    source.close();

    const page = new EventSourceClient('');
    t.teardown(() => page.close());
    t.equal(page.url, `http://127.0.0.1:${port}/app/page`, 'the empty string is the base URL itself');
    page.close();
  });

  t.test('without setGlobalOrigin, a runtime-defined globalThis.location serves', async (t) => {
    setGlobalOrigin(undefined);
    const global = globalThis as { location?: unknown };
    global.location = { href: `http://127.0.0.1:${port}/deno/` };
    t.teardown(() => {
      delete global.location;
    });
    const ws = new Client('socket');
    t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, 'socket at /deno/socket');
    ws.close();
    await nextWithin(ws, 'close');
    t.ok(paths.includes('upgrade /deno/socket'));
  });
});
