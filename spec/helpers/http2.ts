// HTTP/2 peers for the specs: a secure node:http2 server on a free loopback
// port (HTTP/1.1 allowed, extended CONNECT enabled unless told otherwise),
// torn down with the test with every session and socket it accepted, and a
// client session to it that is closed with the test.

import { once } from 'node:events';
import http2, {
  type ClientHttp2Session,
  type Http2SecureServer,
  type SecureClientSessionOptions,
  type ServerHttp2Session,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Test } from 'tap';
import { certificates } from './tls.js';

export interface Http2Peer {
  server: Http2SecureServer;
  port: number;
  /** `https://localhost:<port>` */
  origin: string;
  /** `wss://localhost:<port>` */
  wss: string;
  /** The CA that signed the server's certificate. */
  ca: string;
  /** Sessions the server accepted, in order. */
  sessions: ServerHttp2Session[];
}

/**
 * A `http2.createSecureServer({ allowHTTP1: true, settings: { enableConnectProtocol } })`
 * listening on 127.0.0.1, port 0 (a certificate for localhost and 127.0.0.1).
 */
export async function http2Server(
  t: Test,
  options: { enableConnectProtocol?: boolean; allowHTTP1?: boolean } = {},
): Promise<Http2Peer> {
  const { ca, key, cert } = certificates();
  const server = http2.createSecureServer({
    key,
    cert,
    allowHTTP1: options.allowHTTP1 ?? true,
    settings: { enableConnectProtocol: options.enableConnectProtocol ?? true },
  });
  const sessions: ServerHttp2Session[] = [];
  const sockets = new Set<Socket>();
  server.on('session', (session) => {
    sessions.push(session);
    session.on('error', () => {});
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const port = (server.address() as AddressInfo).port;
  return { server, port, origin: `https://localhost:${port}`, wss: `wss://localhost:${port}`, ca, sessions };
}

/** A client session to `origin`, trusting `ca`, destroyed with the test. */
export function http2Session(
  t: Test,
  origin: string,
  ca: string,
  options: SecureClientSessionOptions = {},
): ClientHttp2Session {
  const session = http2.connect(origin, { ca, ...options });
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  return session;
}
