// Browser parity scenarios, shared by the parity specs: each scenario is a
// self-contained client script, run as source text in Chromium with its
// native WebSocket and EventSource and as a function in Node with
// WebSocket.Client and EventSource.Client; each returns its event trace
// (type, readyState at dispatch, data, code, reason, wasClean, lastEventId).
// The routes they run against are here too, for an HTTP/1.1 server and, over
// HTTP/2, for the compatibility API's request and connect events.

import { createHash } from 'node:crypto';
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

/**
 * Scenarios whose routes are HTTP/1.1 bytes written by hand (a held TCP
 * connection, a 401 challenge, a wrong accept value): the parity spec runs
 * them, the HTTP/2 spec does not.
 */
export const http1Scenarios: Record<string, Scenario> = {
  'delayed TCP close: the server closes, then holds the connection': (env) =>
    new Promise((resolve) => {
      // The server sends its close frame at once and keeps the TCP connection
      // 1 s, says so on /notify, and closes it 200 ms later: the trace shows
      // whether close fired at the close frame or at the TCP close (an order,
      // not a time).
      const log: string[] = [];
      const run = String(Math.random()).slice(2);
      const notify = new env.WebSocket(`${env.ws}/notify?run=${run}`);
      notify.onmessage = (e) => log.push(`notify ${e.data}`);
      notify.onopen = () => {
        const ws = new env.WebSocket(`${env.ws}/delayed-close?run=${run}`);
        ws.onopen = () => log.push(`open ${ws.readyState}`);
        ws.onerror = () => log.push(`error ${ws.readyState}`);
        ws.onclose = (e) => {
          log.push(`close ${ws.readyState} ${e.code} ${e.wasClean}`);
          notify.close();
          resolve(log);
        };
      };
    }),

  'URL credentials answer a 401 Basic challenge': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const ws = new env.WebSocket(`${env.ws.replace('://', '://foo:bar@')}/basic-auth`);
      ws.onopen = () => log.push(`open ${ws.readyState}`);
      ws.onmessage = (e) => {
        log.push(`message ${e.data}`);
        ws.close();
      };
      ws.onerror = () => log.push(`error ${ws.readyState}`);
      ws.onclose = (e) => {
        log.push(`close ${ws.readyState} ${e.code} ${e.wasClean}`);
        resolve(log);
      };
    }),

  'error during connect: a wrong Sec-WebSocket-Accept': (env) =>
    new Promise((resolve) => {
      const log: string[] = [];
      const ws = new env.WebSocket(`${env.ws}/bad-accept`);
      ws.onopen = () => log.push('open');
      // The event's shape a wrapper copies by (its class is ours, ErrorEvent: the
      // report says why; its `code` would turn it into a close event).
      ws.onerror = (e) => log.push(`error ${ws.readyState} ${e.type} ${'code' in e} ${'wasClean' in e}`);
      ws.onclose = (e) => {
        log.push(`close ${ws.readyState} ${e.code} ${e.reason} ${e.wasClean}`);
        resolve(log);
      };
    }),
};

/** Where a scenario runs: the URLs, and the classes (the browser passes its own). */
export interface Base {
  ws: string;
  http: string;
  refused: string;
}

/**
 * Where browsers disagree, the trace Node follows and why (docs/browser-parity.md):
 * WPT and the standard decide.
 */
export const DISAGREEMENTS: Record<string, { follow: 'chromium' | 'firefox'; why: string }> = {
  'abrupt server reset': {
    follow: 'chromium',
    why: 'Firefox fires error before close on a TCP reset after open; Chromium (and undici) only close (1006, not clean): WHATWG fires error when the user agent was required to fail the connection, and a reset is the connection closing, not a failure (RFC 6455 §7.1.5, §7.1.7)',
  },
  'delayed TCP close: the server closes, then holds the connection': {
    follow: 'chromium',
    why: "Firefox fires close at the server's close frame; Chromium (and undici) when the TCP connection closes, which RFC 6455 §7.1.4 and WPT Close-delayed.any.js require",
  },
};

/** A page of either browser driver: both evaluate an expression given as text. */
export interface EvaluatingPage {
  evaluate(expression: string): Promise<unknown>;
}

/** Runs a scenario in the page, as source text, with the browser's own classes. */
export async function inBrowser(page: EvaluatingPage | Page, scenario: Scenario, base: Base): Promise<string[]> {
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
  const notifiers = new Map<string, WebSocket>();
  // The WebSocket paths, for a server socket however it was made.
  const behave = (ws: WebSocket, path: string, reset: () => void): void => {
    onSocket?.(ws, path);
    if (path === '/echo') ws.onmessage = (event) => ws.send(event.data);
    if (path === '/server-close') ws.onopen = () => ws.close(4002, 'server bye');
    if (path === '/reset') ws.onmessage = reset;
    if (path.startsWith('/notify?')) {
      const run = new URL(path, 'http://x').searchParams.get('run') ?? '';
      notifiers.set(run, ws);
      ws.onclose = () => notifiers.delete(run);
    }
  };
  // RFC 6455 §4.2.2: the accept value for a key, or a wrong one.
  const accept = (request: IncomingMessage): string =>
    createHash('sha1')
      .update(`${request.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
  const switching = (value: string): string =>
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${value}\r\n\r\n`;
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
      if (path === '/bad-accept') {
        socket.write(switching(Buffer.alloc(20).toString('base64')));
        socket.resume();
        return;
      }
      if (path.startsWith('/delayed-close?')) {
        // A close frame (1000) at once; the connection held 1 s, announced,
        // then closed 200 ms later.
        const run = new URL(path, 'http://x').searchParams.get('run') ?? '';
        socket.write(switching(accept(request)));
        socket.write(Buffer.from([0x88, 2, 0x03, 0xe8]));
        socket.resume();
        const timer = setTimeout(() => {
          notifiers.get(run)?.send('tcp closing');
          setTimeout(() => socket.end(), 200);
        }, 1000);
        socket.on('close', () => clearTimeout(timer));
        return;
      }
      if (path === '/basic-auth' && request.headers.authorization !== `Basic ${btoa('foo:bar')}`) {
        socket.end(
          'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Basic realm="parity"\r\nConnection: close\r\n\r\n',
        );
        return;
      }
      const ws = new WebSocket(request, socket, head, ['chat', 'superchat']);
      if (path === '/basic-auth') ws.onopen = () => ws.send(`authorized ${request.url}`);
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
