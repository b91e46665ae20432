// The raw client: TCP conversations with a WebSocket server, for hostile
// input. connectRaw sends any bytes and collects the answer; rawClient
// completes a handshake first. Reading frames and close codes out of what
// came back is spec/helpers/wire.ts's (the frame codec).

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
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
