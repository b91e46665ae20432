// A raw WebSocket client that stops reading, and a flood that runs until the
// peer stops taking bytes: for the specs that prove a peer which never reads
// cannot make us hold what we owe it (pongs, echoes).

import { once } from 'node:events';
import net from 'node:net';
import type { Writable } from 'node:stream';
import type { Test } from 'tap';
import { handshake } from './raw.js';

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
