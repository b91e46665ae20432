// Browser parity: the same client scenarios run in headless Chromium's native
// WebSocket and EventSource and in Node with WebSocket.Client and
// EventSource.Client, against one isosocket server. The recorded event traces
// (type, readyState at dispatch, data, code, reason, wasClean, lastEventId)
// must be identical.

import http from 'node:http';
import type { Socket } from 'node:net';
import t, { type Test } from 'tap';
import { Client, EventSource, EventSourceClient, WebSocket } from '../../src/index.js';
import { openPage, requireChromium } from '../helpers/browser.js';
import { listen } from '../helpers/listen.js';
import { freePort } from '../helpers/proxies.js';

interface Env {
  ws: string;
  http: string;
  refused: string;
  // Typed as ours; in the browser the scenario gets the native classes.
  WebSocket: typeof Client;
  EventSource: typeof EventSourceClient;
}

type Scenario = (env: Env) => Promise<string[]>;

// Each scenario is self-contained: it is also sent to the browser as source text.
const scenarios: Record<string, Scenario> = {
  'echo text and arraybuffer': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const ws = new env.WebSocket(`${env.ws}/echo`);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        log.push(`open ${ws.readyState} ${ws.protocol}`);
        ws.send('hello ☃');
        ws.send(new Uint8Array([1, 2, 3]));
      };
      ws.onmessage = (e) => {
        const data = typeof e.data === 'string' ? e.data : `bytes ${[...new Uint8Array(e.data)].join(',')}`;
        log.push(`message ${ws.readyState} ${data} ${e.origin === env.ws}`);
        if (log.length === 3) ws.close(1000, 'done');
      };
      ws.onerror = () => log.push(`error ${ws.readyState}`);
      ws.onclose = (e) => {
        log.push(`close ${ws.readyState} ${e.code} ${e.reason} ${e.wasClean}`);
        resolve(log);
      };
    }),

  'echo blob': (env) =>
    new Promise((resolve) => {
      const log: string[] = [`binaryType ${'blob'}`];
      const ws = new env.WebSocket(`${env.ws}/echo`);
      ws.onopen = () => ws.send(new Uint8Array([9, 8, 7, 6]));
      ws.onmessage = async (e) => {
        const bytes = new Uint8Array(await (e.data as Blob).arrayBuffer());
        log.push(`message ${e.data instanceof Blob} ${e.data.size} ${[...bytes].join(',')}`);
        ws.close();
      };
      ws.onclose = (e) => {
        log.push(`close ${ws.readyState} ${e.code} ${e.wasClean}`);
        resolve(log);
      };
    }),

  'subprotocol selection': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const ws = new env.WebSocket(`${env.ws}/echo`, ['superchat', 'other']);
      ws.onopen = () => {
        log.push(`open ${ws.protocol} ${ws.extensions === '' ? 'no-ext' : 'ext'}`);
        ws.close(4000);
      };
      ws.onclose = (e) => {
        log.push(`close ${e.code} ${e.wasClean}`);
        resolve(log);
      };
    }),

  'server close with code and reason': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const ws = new env.WebSocket(`${env.ws}/server-close`);
      ws.onopen = () => log.push(`open ${ws.readyState}`);
      ws.onmessage = (e) => log.push(`message ${e.data}`);
      ws.onerror = () => log.push(`error ${ws.readyState}`);
      ws.onclose = (e) => {
        log.push(`close ${ws.readyState} ${e.code} ${e.reason} ${e.wasClean}`);
        resolve(log);
      };
    }),

  'client close with code and reason': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const ws = new env.WebSocket(`${env.ws}/echo`);
      ws.onopen = () => {
        ws.close(4001, 'client bye ☃');
        log.push(`after close() ${ws.readyState}`);
        try {
          ws.send('late');
          log.push(`send after close ${ws.bufferedAmount}`);
        } catch (error) {
          log.push(`send threw ${(error as Error).name}`);
        }
      };
      ws.onerror = () => log.push(`error ${ws.readyState}`);
      ws.onclose = (e) => {
        log.push(`close ${ws.readyState} ${e.code} ${e.reason} ${e.wasClean}`);
        resolve(log);
      };
    }),

  'close during CONNECTING': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const ws = new env.WebSocket(`${env.ws}/echo`);
      try {
        ws.send('too early');
      } catch (error) {
        log.push(`send threw ${(error as Error).name}`);
      }
      ws.close();
      log.push(`after close() ${ws.readyState}`);
      ws.onopen = () => log.push('open');
      ws.onerror = () => log.push(`error ${ws.readyState}`);
      ws.onclose = (e) => {
        log.push(`close ${ws.readyState} ${e.code} ${e.wasClean}`);
        resolve(log);
      };
    }),

  'connection refused': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const ws = new env.WebSocket(env.refused);
      ws.onopen = () => log.push('open');
      ws.onerror = () => log.push(`error ${ws.readyState}`);
      ws.onclose = (e) => {
        log.push(`close ${ws.readyState} ${e.code} ${e.reason} ${e.wasClean}`);
        resolve(log);
      };
    }),

  'server answers the upgrade with 403': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const ws = new env.WebSocket(`${env.ws}/forbidden`);
      ws.onopen = () => log.push('open');
      ws.onerror = () => log.push(`error ${ws.readyState}`);
      ws.onclose = (e) => {
        log.push(`close ${ws.readyState} ${e.code} ${e.wasClean}`);
        resolve(log);
      };
    }),

  'abrupt server reset': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const ws = new env.WebSocket(`${env.ws}/reset`);
      ws.onopen = () => {
        log.push(`open ${ws.readyState}`);
        ws.send('reset me');
      };
      ws.onerror = () => log.push(`error ${ws.readyState}`);
      ws.onclose = (e) => {
        log.push(`close ${ws.readyState} ${e.code} ${e.wasClean}`);
        resolve(log);
      };
    }),

  'SSE named events, ids and multi-line data': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const source = new env.EventSource(`${env.http}/sse/named`);
      const record = (e: MessageEvent) => {
        log.push(`${e.type} ${source.readyState} ${JSON.stringify(e.data)} ${e.lastEventId} ${e.origin === env.http}`);
        if (e.data === 'last') {
          source.close();
          log.push(`closed ${source.readyState}`);
          resolve(log);
        }
      };
      source.onopen = () => log.push(`open ${source.readyState}`);
      source.onmessage = record;
      source.addEventListener('greeting', record);
      source.addEventListener('update', record);
      source.onerror = () => log.push(`error ${source.readyState}`);
    }),

  'SSE reconnect with Last-Event-ID': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const source = new env.EventSource(`${env.http}/sse/reconnect?run=${Math.random()}`);
      source.onopen = () => log.push(`open ${source.readyState}`);
      source.onmessage = (e) => {
        log.push(`message ${e.data} ${e.lastEventId}`);
        if (e.data.startsWith('resumed')) {
          source.close();
          resolve(log);
        }
      };
      source.onerror = () => log.push(`error ${source.readyState}`);
    }),

  'SSE 204 fails for good': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const source = new env.EventSource(`${env.http}/sse/204`);
      source.onopen = () => log.push('open');
      source.onerror = () => {
        log.push(`error ${source.readyState}`);
        setTimeout(() => resolve(log), 300);
      };
    }),

  'SSE wrong content type fails for good': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const source = new env.EventSource(`${env.http}/sse/wrong-type`);
      source.onopen = () => log.push('open');
      source.onmessage = (e) => log.push(`message ${e.data}`);
      source.onerror = () => {
        log.push(`error ${source.readyState}`);
        setTimeout(() => resolve(log), 300);
      };
    }),
};

async function startServer(t: Test) {
  const reconnects = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>parity</title>');
    } else if (url.pathname === '/sse/named') {
      const es = new EventSource(request, response, { ping: 0 });
      es.send('hello', { event: 'greeting', id: '1' });
      es.send('two\nlines', { id: '2' });
      es.send('no id here', { event: 'update' });
      es.send('', { id: '3' });
      es.send('last');
    } else if (url.pathname === '/sse/reconnect') {
      const run = url.searchParams.get('run') ?? '';
      const count = (reconnects.get(run) ?? 0) + 1;
      reconnects.set(run, count);
      const es = new EventSource(request, response, { ping: 0, retry: 0.05 });
      if (count === 1) {
        es.send('first', { id: 'a1' });
        setTimeout(() => es.close(), 50);
      } else {
        es.send(`resumed after ${es.lastEventId}`);
      }
    } else if (url.pathname === '/sse/204') {
      response.writeHead(204).end();
    } else if (url.pathname === '/sse/wrong-type') {
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end('data: nope\n\n');
    } else {
      response.writeHead(404).end();
    }
  });
  server.on('upgrade', (request, socket, head) => {
    const path = request.url ?? '/';
    if (path === '/forbidden') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const ws = new WebSocket(request, socket, head, ['chat', 'superchat']);
    if (path === '/echo') ws.onmessage = (event) => ws.send(event.data);
    if (path === '/server-close') ws.onopen = () => ws.close(4002, 'server bye');
    if (path === '/reset') ws.onmessage = () => (socket as Socket).resetAndDestroy();
  });
  const port = await listen(t, server);
  return { port };
}

t.test('the same scenarios in Chromium and in Node give identical event traces', async (t) => {
  if (!requireChromium(t)) return;
  const { port } = await startServer(t);
  const refusedPort = await freePort();
  const base = {
    ws: `ws://127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port}`,
    refused: `ws://127.0.0.1:${refusedPort}/`,
  };
  const { page } = await openPage(t, `${base.http}/`);

  for (const [name, scenario] of Object.entries(scenarios)) {
    t.test(name, async (t) => {
      const inBrowser = (await page.evaluate(
        `(${scenario.toString()})({ ...${JSON.stringify(base)}, WebSocket, EventSource })`,
      )) as string[];
      const inNode = await scenario({
        ...base,
        WebSocket: Client,
        EventSource: EventSourceClient,
      });
      t.ok(inBrowser.length > 0, 'the browser recorded events');
      t.same(inNode, inBrowser, `Chromium: ${JSON.stringify(inBrowser)}`);
    });
  }
});
