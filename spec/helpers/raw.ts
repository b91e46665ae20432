// Raw TCP conversations with a WebSocket server, for hostile input: send any
// bytes, then read the server's answer and the close code it sent.

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

export function handshake(
  port: number,
  extra: Record<string, string> = {},
  overrides: Record<string, string | undefined> = {},
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
  return `GET / HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** The bytes after the handshake response. */
export function framesOf(received: Buffer): Buffer {
  const end = received.indexOf('\r\n\r\n');
  return end < 0 ? Buffer.alloc(0) : received.subarray(end + 4);
}

/** The status code of the first close frame the server sent, if any. */
export function closeCodeOf(received: Buffer): number | undefined {
  return closeCodeIn(framesOf(received));
}

/** The status code of the first close frame in unmasked frames (an HTTP/2 stream has no head before them). */
export function closeCodeIn(frames: Buffer): number | undefined {
  let bytes = frames;
  while (bytes.length >= 2) {
    const opcode = (bytes[0] as number) & 0x0f;
    let length = (bytes[1] as number) & 0x7f;
    let offset = 2;
    if (length === 126) {
      length = bytes.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(2));
      offset = 10;
    }
    if (opcode === 8) return length >= 2 ? bytes.readUInt16BE(offset) : 1005;
    bytes = bytes.subarray(offset + length);
  }
  return undefined;
}
