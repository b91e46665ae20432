// Real peers over loopback for the specs: an HTTP server on port 0 whose
// upgrades become isosocket server sockets, and a `ws` client. (The raw TCP
// client is spec/helpers/raw.ts's, the frame codec spec/helpers/wire.ts's.)

import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import WS from 'ws';
import type { ServerOptions } from '../../src/index.js';
import { WebSocket } from '../../src/index.js';
import { nextWithin, within } from './bounded.js';

export interface ServerHandle {
  port: number;
  url: string;
  server: http.Server;
  /** Resolves with the next server-side socket. */
  next(): Promise<WebSocket>;
}

/**
 * Starts an HTTP server whose upgrades become isosocket sockets, torn down
 * with the test. `setup` runs on each new socket before anything else.
 */
export async function startServer(
  t: Test,
  options: {
    protocols?: string[];
    options?: ServerOptions;
    setup?: (ws: WebSocket, request: http.IncomingMessage) => void;
  } = {},
): Promise<ServerHandle> {
  const server = http.createServer((_req, res) => res.end('not a websocket'));
  const waiting: Array<(ws: WebSocket) => void> = [];
  const ready: WebSocket[] = [];
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (request, socket, head) => {
    const ws = new WebSocket(request, socket, head, options.protocols, options.options);
    options.setup?.(ws, request);
    const resolve = waiting.shift();
    if (resolve) resolve(ws);
    else ready.push(ws);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    server,
    next: () =>
      new Promise((resolve) => {
        const ws = ready.shift();
        if (ws) resolve(ws);
        else waiting.push(resolve);
      }),
  };
}

/** A `ws` client, terminated with the test. */
export function wsClient(t: Test, url: string, protocols?: string | string[], options?: WS.ClientOptions): WS {
  const client = new WS(url, protocols, options);
  client.on('error', () => {});
  t.teardown(() => client.terminate());
  return client;
}

/** Resolves when the ws client is open; rejects after 10 s. */
export async function opened(client: WS): Promise<void> {
  if (client.readyState === WS.OPEN) return;
  await within(once(client, 'open'), 10_000, 'a ws client to open');
}

/** Resolves when the server socket is open (now, or later). */
export async function isOpen(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.OPEN) return;
  await nextWithin(ws, 'open');
}

/** Waits until the predicate holds, polling; fails after `ms`, quoting the predicate. */
export async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${String(predicate).slice(0, 200)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
