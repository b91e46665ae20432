// WebSocket servers for the client specs: a `ws` server and an isosocket
// server behind one interface (so each client spec runs against both), and a
// raw TCP server that answers the handshake however a test tells it to.

import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import deflate from 'permessage-deflate';
import type { Test } from 'tap';
import { WebSocketServer } from 'ws';
import { WebSocket } from '../../src/index.js';
import { listen } from './listen.js';

/** One server-side connection, whichever library serves it. */
export interface PeerConnection {
  send(data: string | Buffer): void;
  close(code: number, reason: string): void;
  terminate(): void;
  /** Resolves when the client answers a ping. */
  ping(): Promise<void>;
  /** Resolves with the code the client closed with. */
  closed: Promise<number>;
}

export interface Peer {
  name: string;
  url: string;
  port: number;
  next(): Promise<PeerConnection>;
}

export interface PeerOptions {
  protocols?: string[];
  deflate?: boolean;
  /** Echo every message back (default true). */
  echo?: boolean;
  tls?: { key: string; cert: string };
}

function queue<T>(): { push(value: T): void; next(): Promise<T> } {
  const ready: T[] = [];
  const waiting: Array<(value: T) => void> = [];
  return {
    push(value) {
      const resolve = waiting.shift();
      if (resolve) resolve(value);
      else ready.push(value);
    },
    next() {
      return new Promise((resolve) => {
        const value = ready.shift();
        if (value !== undefined) resolve(value);
        else waiting.push(resolve);
      });
    },
  };
}

/** A `ws` server. */
export async function wsPeer(t: Test, options: PeerOptions = {}): Promise<Peer> {
  const server = options.tls ? https.createServer(options.tls) : http.createServer();
  const protocols = options.protocols;
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: options.deflate === true,
    ...(protocols ? { handleProtocols: (offered: Set<string>) => protocols.find((p) => offered.has(p)) ?? false } : {}),
  });
  const connections = queue<PeerConnection>();
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    if (options.echo !== false) ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    connections.push({
      send: (data) => ws.send(data),
      close: (code, reason) => ws.close(code, reason),
      terminate: () => ws.terminate(),
      ping: () =>
        new Promise((resolve) => {
          ws.once('pong', () => resolve());
          ws.ping();
        }),
      closed: new Promise((resolve) => ws.on('close', (code) => resolve(code))),
    });
  });
  const port = await listen(t, server);
  t.teardown(() => wss.close());
  return { name: 'ws server', url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/`, port, next: connections.next };
}

/** An isosocket server. */
export async function isoPeer(t: Test, options: PeerOptions = {}): Promise<Peer> {
  const server = options.tls ? https.createServer(options.tls) : http.createServer();
  const connections = queue<PeerConnection>();
  server.on('upgrade', (request, socket, head) => {
    const ws = new WebSocket(request, socket, head, options.protocols ?? [], {
      extensions: options.deflate ? [deflate] : [],
    });
    if (options.echo !== false) ws.on('message', (event) => ws.send(event.data));
    connections.push({
      send: (data) => ws.send(data),
      close: (code, reason) => ws.close(code, reason),
      terminate: () => socket.destroy(),
      ping: () =>
        new Promise((resolve) => {
          if (ws.readyState === WebSocket.OPEN) ws.ping('p', resolve);
          else ws.addEventListener('open', () => ws.ping('p', resolve), { once: true });
        }),
      closed: new Promise((resolve) => ws.addEventListener('close', (event) => resolve(event.code))),
    });
  });
  const port = await listen(t, server);
  return {
    name: 'isosocket server',
    url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/`,
    port,
    next: connections.next,
  };
}

export const PEERS = [wsPeer, isoPeer] as const;

/** The Sec-WebSocket-Accept value for a key (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/**
 * A raw TCP server: `respond` gets the request head and the client's key and
 * returns the bytes to answer with (or undefined to say nothing).
 */
export async function rawServer(
  t: Test,
  respond: (head: string, key: string, socket: net.Socket) => string | undefined,
): Promise<{ url: string; port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    let head = '';
    const ondata = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', ondata);
      const key = /\r\nSec-WebSocket-Key: *([^\r]*)/i.exec(head)?.[1] ?? '';
      const answer = respond(head, key, socket);
      if (answer !== undefined) socket.write(answer);
    };
    socket.on('data', ondata);
  });
  const port = await listen(t, server);
  return { url: `ws://127.0.0.1:${port}/`, port, sockets };
}
