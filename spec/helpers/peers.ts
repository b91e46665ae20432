// Real peers over loopback for the specs: an HTTP server on port 0 whose
// upgrades become isosocket server sockets, a `ws` client, and a raw TCP
// client that speaks frames by hand.

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
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

/** Builds one frame: masked when a client sends it. */
export function frame(
  opcode: number,
  payload: Buffer | string = Buffer.alloc(0),
  { fin = true, masked = true, rsv = 0 }: { fin?: boolean; masked?: boolean; rsv?: number } = {},
): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const length = data.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  head[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!masked) return Buffer.concat([head, data]);
  const mask = randomBytes(4);
  mask.copy(head, 2 + lengthBytes);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([head, body]);
}

/** A raw TCP client that has completed a handshake; `received` collects bytes after it. */
export async function rawClient(
  t: Test,
  port: number,
  headers: Record<string, string> = {},
): Promise<{ socket: net.Socket; received: () => Buffer; response: string }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  t.teardown(() => socket.destroy());
  await once(socket, 'connect');
  const lines = [
    'GET /raw HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  let buffer = Buffer.alloc(0);
  let response = '';
  await new Promise<void>((resolve, reject) => {
    const ondata = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        response = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        socket.off('data', ondata);
        resolve();
      }
    };
    socket.on('data', ondata);
    socket.once('close', () => reject(new Error('closed during handshake')));
  });
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
  });
  return { socket, received: () => buffer, response };
}

/** Waits until the predicate holds, polling; fails after `ms`, quoting the predicate. */
export async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${String(predicate).slice(0, 200)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
