// Browser parity scenarios, shared by the parity specs: each scenario is a
// self-contained client script, run as source text in Chromium with its
// native WebSocket and EventSource and as a function in Node with
// WebSocket.Client and EventSource.Client; each returns its event trace
// (type, readyState at dispatch, data, code, reason, wasClean, lastEventId).
// The routes they run against are here too, for an HTTP/1.1 server and, over
// HTTP/2, for the compatibility API's request and connect events.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Page } from 'playwright-core';
import { type Client, EventSource, type EventSourceClient, WebSocket } from '../../src/index.js';

export interface Env {
  ws: string;
  http: string;
  refused: string;
  // Typed as ours; in the browser the scenario gets the native classes.
  WebSocket: typeof Client;
  EventSource: typeof EventSourceClient;
}

export type Scenario = (env: Env) => Promise<string[]>;

// Each scenario is self-contained: it is also sent to the browser as source text.
export const scenarios: Record<string, Scenario> = {
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

/** Where a scenario runs: the URLs, and the classes (the browser passes its own). */
export interface Base {
  ws: string;
  http: string;
  refused: string;
}

/** Runs a scenario in the page, as source text, with the browser's own classes. */
export async function inBrowser(page: Page, scenario: Scenario, base: Base): Promise<string[]> {
  return (await page.evaluate(
    `(${scenario.toString()})({ ...${JSON.stringify(base)}, WebSocket, EventSource })`,
  )) as string[];
}

/**
 * The routes: `/` (a page) and the event streams for `request`; the
 * WebSocket paths for `upgrade` (HTTP/1.1) and `connect` (HTTP/2): `/echo`,
 * `/server-close`, `/reset` (a TCP reset, or a stream reset over HTTP/2),
 * `/forbidden` (403). `onSocket` sees each server socket first.
 */
export function parityRoutes(onSocket?: (ws: WebSocket, path: string) => void): {
  request(request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse): void;
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  connect(request: Http2ServerRequest, response: Http2ServerResponse): void;
} {
  const reconnects = new Map<string, number>();
  // The WebSocket paths, for a server socket however it was made.
  const behave = (ws: WebSocket, path: string, reset: () => void): void => {
    onSocket?.(ws, path);
    if (path === '/echo') ws.onmessage = (event) => ws.send(event.data);
    if (path === '/server-close') ws.onopen = () => ws.close(4002, 'server bye');
    if (path === '/reset') ws.onmessage = reset;
  };
  return {
    request(request, response) {
      // The compatibility API's response has the same methods as ServerResponse for these routes.
      const res = response as ServerResponse;
      const req = request as IncomingMessage;
      const url = new URL(request.url ?? '/', 'http://x');
      if (url.pathname === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>parity</title>');
      } else if (url.pathname === '/sse/named') {
        const es = new EventSource(req, res, { ping: 0 });
        es.send('hello', { event: 'greeting', id: '1' });
        es.send('two\nlines', { id: '2' });
        es.send('no id here', { event: 'update' });
        es.send('', { id: '3' });
        es.send('last');
      } else if (url.pathname === '/sse/reconnect') {
        const run = url.searchParams.get('run') ?? '';
        const count = (reconnects.get(run) ?? 0) + 1;
        reconnects.set(run, count);
        const es = new EventSource(req, res, { ping: 0, retry: 0.05 });
        if (count === 1) {
          es.send('first', { id: 'a1' });
          setTimeout(() => es.close(), 50);
        } else {
          es.send(`resumed after ${es.lastEventId}`);
        }
      } else if (url.pathname === '/sse/204') {
        res.writeHead(204).end();
      } else if (url.pathname === '/sse/wrong-type') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('data: nope\n\n');
      } else {
        res.writeHead(404).end();
      }
    },
    upgrade(request, socket, head) {
      const path = request.url ?? '/';
      if (path === '/forbidden') {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const ws = new WebSocket(request, socket, head, ['chat', 'superchat']);
      behave(ws, path, () => (socket as Socket).resetAndDestroy());
    },
    connect(request, response) {
      const path = request.url ?? '/';
      if (path === '/forbidden') {
        response.writeHead(403).end();
        return;
      }
      const ws = new WebSocket(request, response, ['chat', 'superchat']);
      // RFC 8441 §5: a stream reset is the HTTP/2 form of a TCP reset.
      behave(ws, path, () => response.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    },
  };
}
