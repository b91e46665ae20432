// The raw client: TCP conversations with a WebSocket server, for hostile
// input. connectRaw sends any bytes and collects the answer; rawClient
// completes a handshake first; silentClient completes one and then stops
// reading, writeUntilStalled floods until the peer stops taking bytes (for the
// specs that prove a peer which never reads cannot make us hold what we owe
// it: pongs, echoes). Reading frames and close codes out of what
// came back is spec/helpers/wire.ts's (the frame codec).

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import type { Writable } from 'node:stream';
import type { Test } from 'tap';

export interface RawConnection {
  socket: net.Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves when the server has closed the TCP connection. */
  closed: Promise<void>;
}

/** Connects and sends the given request head (a valid handshake by default). */
export async function connectRaw(t: Test, port: number, head?: string): Promise<RawConnection> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  t.teardown(() => socket.destroy());
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await once(socket, 'connect');
  socket.write(head ?? handshake(port));
  return { socket, received: () => buffer, closed };
}

/** A client's opening handshake for 127.0.0.1:port: `extra` headers appended, `overrides` replace (undefined drops one). */
export function handshake(
  port: number,
  extra: Record<string, string> = {},
  overrides: Record<string, string | undefined> = {},
  path = '/',
): string {
  const headers: Record<string, string | undefined> = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...extra,
    ...overrides,
  };
  const lines = Object.entries(headers)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}: ${value}`);
  return `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
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
  socket.write(handshake(port, headers, {}, '/raw'));
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

/** A raw client that completed the opening handshake on `port` and reads nothing more until told. */
export async function silentClient(t: Test, port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  t.teardown(() => socket.destroy());
  await once(socket, 'connect');
  socket.write(handshake(port));
  let head = '';
  await new Promise<void>((resolve, reject) => {
    const ondata = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', ondata);
      socket.pause();
      resolve();
    };
    socket.on('data', ondata);
    socket.once('close', () => reject(new Error('closed during the handshake')));
  });
  return socket;
}

/** Starts reading `socket` again, discarding what it reads. */
export function readAndDiscard(socket: net.Socket): void {
  socket.on('data', () => {});
  socket.resume();
}

/**
 * Writes `piece` to a socket or an HTTP/2 stream until `limit` bytes went or the peer took no byte for
 * `quietMs` (it stopped reading, and cannot drain what it answered);
 * resolves with the bytes written.
 */
export async function writeUntilStalled(
  socket: Writable,
  piece: Buffer,
  limit: number,
  quietMs = 1000,
): Promise<{ written: number; stalled: boolean }> {
  let written = 0;
  while (written < limit && !socket.destroyed) {
    written += piece.length;
    if (socket.write(piece)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      let last = socket.writableLength;
      let still = 0;
      const done = (): void => {
        clearInterval(timer);
        resolve(true);
      };
      const timer = setInterval(() => {
        if (socket.writableLength !== last) {
          last = socket.writableLength;
          still = 0;
          return;
        }
        still += 100;
        if (still < quietMs) return;
        clearInterval(timer);
        socket.off('drain', done);
        resolve(false);
      }, 100);
      socket.once('drain', done);
    });
    if (!drained) return { written, stalled: true };
  }
  return { written, stalled: false };
}
