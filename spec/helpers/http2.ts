// HTTP/2 peers for the specs: a secure node:http2 server on a free loopback
// port (HTTP/1.1 allowed, extended CONNECT enabled unless told otherwise),
// torn down with the test with every session and socket it accepted; a
// client session to it that is closed with the test; and an extended CONNECT
// made by hand with Node's client, whose stream a spec reads and writes raw.

import { once } from 'node:events';
import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
  type ServerHttp2Session,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Test } from 'tap';
import { within } from './bounded.js';
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

/** An extended CONNECT stream opened by hand with Node's client, for specs that read and write it raw. */
export interface RawStream {
  stream: ClientHttp2Stream;
  /** The response head. */
  response: IncomingHttpHeaders;
  /** Every byte received on the stream so far. */
  received(): Buffer;
  /** Resolves when the server ended its side (END_STREAM). */
  ended: Promise<void>;
  /** Resolves with the stream's RST_STREAM code (0 when it closed cleanly) once it is closed. */
  closed: Promise<number>;
}

/** Resolves once the session has the server's SETTINGS. */
export async function settled(session: ClientHttp2Session): Promise<void> {
  if (session.remoteSettings.enableConnectProtocol) return;
  await within(once(session, 'remoteSettings'), 5000, "the server's SETTINGS");
}

/**
 * Sends an extended CONNECT for `path` (`:protocol` websocket and version 13
 * unless `headers` say otherwise) and resolves with the stream once the
 * response head arrives.
 */
export async function rawConnect(
  session: ClientHttp2Session,
  path: string,
  headers: OutgoingHttpHeaders = {},
): Promise<RawStream> {
  await settled(session);
  const stream = session.request(
    { ':method': 'CONNECT', ':protocol': 'websocket', ':path': path, 'sec-websocket-version': '13', ...headers },
    { endStream: false },
  );
  stream.on('error', () => {});
  let buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
  });
  const ended = new Promise<void>((resolve) => stream.once('end', () => resolve()));
  const closed = new Promise<number>((resolve) => stream.once('close', () => resolve(stream.rstCode ?? 0)));
  const [response] = (await within(once(stream, 'response'), 5000, `a response to CONNECT ${path}`)) as [
    IncomingHttpHeaders,
  ];
  return { stream, response, received: () => buffer, ended, closed };
}
