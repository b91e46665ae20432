// Ports for the specs: listening on a free loopback port for the length of a
// test (every connection the server accepted is destroyed and the server
// closed in t.teardown, so no spec leaves a handle behind), a free port for a
// child process to take, and waiting until something accepts on one.

import { once } from 'node:events';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import type { Test } from 'tap';

/** Listens on 127.0.0.1, port 0; resolves with the port. */
export async function listen(t: Test, server: Server): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Listens with `servers[0]` on 127.0.0.1, port 0, and `servers[1]` on
 * 127.0.0.2 at the same port: "another host" with the same port, for the
 * per-host rules (RFC 6455 §4.1). Resolves with the port; torn down as
 * listen() is.
 */
export async function listenOnTwoHosts(t: Test, servers: readonly [Server, Server]): Promise<number> {
  const sockets = new Set<Socket>();
  for (const server of servers) {
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  }
  const [first, second] = servers;
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(
      servers.filter((server) => server.listening).map((server) => new Promise((resolve) => server.close(resolve))),
    );
  });
  first.listen(0, '127.0.0.1');
  await once(first, 'listening');
  const port = (first.address() as AddressInfo).port;
  second.listen(port, '127.0.0.2');
  await once(second, 'listening');
  return port;
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts connections on the port; fails after 10 s. */
export async function waitForPort(port: number, what: string, output: () => string): Promise<void> {
  const started = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - started > 10_000) throw new Error(`${what} did not start: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
