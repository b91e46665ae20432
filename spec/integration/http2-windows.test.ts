// HTTP/2 flow-control windows of sessions that carry WebSockets (issue 25
// item 2; src/net/http2.ts raiseWindows): the server raises its session's
// SETTINGS_INITIAL_WINDOW_SIZE and connection window when an extended CONNECT
// is admitted, the client does the same on its session before it sends one,
// and a window the application chose is kept. Read from Node's own session
// state (`localSettings`, `state.effectiveLocalWindowSize`) and from what the
// other end was told (`remoteSettings`).
//
// References: RFC 9113 §6.5.2 (SETTINGS_INITIAL_WINDOW_SIZE), §6.9 (flow
// control): https://www.rfc-editor.org/rfc/rfc9113

import type { ServerHttp2Session } from 'node:http2';
import t, { type Test } from 'tap';
import { Client, WebSocket } from '../../src/index.js';
import { DEFAULT_HTTP2_WINDOW, WEBSOCKET_SESSION_WINDOW, WEBSOCKET_STREAM_WINDOW } from '../../src/net/http2.js';
import { within } from '../helpers/bounded.js';
import { http2Server, http2Session, rawConnect, settled } from '../helpers/http2.js';
import { requirePeer } from '../helpers/require-peer.js';

async function echoServer(t: Test) {
  const peer = await http2Server(t);
  const sessions: ServerHttp2Session[] = [];
  peer.server.on('stream', (stream, headers) => {
    if (headers[':method'] !== 'CONNECT') return;
    sessions.push(stream.session as ServerHttp2Session);
    const ws = new WebSocket(stream, headers);
    ws.onmessage = (event) => ws.send(event.data);
  });
  return { ...peer, webSocketSessions: sessions };
}

/** Resolves once `session`'s SETTINGS in flight were acknowledged (a PING answered after them). */
function acknowledged(session: { ping(callback: (error: Error | null) => void): boolean }): Promise<void> {
  return within(new Promise<void>((resolve) => session.ping(() => resolve())), 5000, 'a PING answered');
}

t.test('the windows are larger than the default, and the bound stays finite', async (t) => {
  t.ok(WEBSOCKET_STREAM_WINDOW > DEFAULT_HTTP2_WINDOW);
  t.ok(WEBSOCKET_SESSION_WINDOW >= WEBSOCKET_STREAM_WINDOW);
  t.ok(WEBSOCKET_STREAM_WINDOW <= 1024 * 1024, 'a stream window of at most 1 MiB (100 streams: at most 100 MiB)');
});

t.test('both ends of a WebSocket session raise their receive windows', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;
  const peer = await echoServer(t);
  const session = http2Session(t, peer.origin, peer.ca);
  const ws = new Client(`${peer.wss}/`, [], { http2: session, perMessageDeflate: false, binaryType: 'nodebuffer' });
  await within(new Promise((resolve) => (ws.onopen = resolve)), 5000, 'open');
  const [server] = peer.webSocketSessions;
  t.ok(server, 'the server made a WebSocket');
  if (!server) return;
  await acknowledged(session);
  await acknowledged(server);
  t.equal(session.localSettings.initialWindowSize, WEBSOCKET_STREAM_WINDOW, "client: each stream's window");
  t.equal(session.state.effectiveLocalWindowSize, WEBSOCKET_SESSION_WINDOW, "client: the connection's window");
  t.equal(server.localSettings.initialWindowSize, WEBSOCKET_STREAM_WINDOW, "server: each stream's window");
  t.equal(server.state.effectiveLocalWindowSize, WEBSOCKET_SESSION_WINDOW, "server: the connection's window");
  t.equal(session.remoteSettings.initialWindowSize, WEBSOCKET_STREAM_WINDOW, 'the client was told the server window');
  t.equal(server.remoteSettings.initialWindowSize, WEBSOCKET_STREAM_WINDOW, 'the server was told the client window');
  // A 1 MiB message crosses both ways on the raised windows.
  const big = Buffer.alloc(1024 * 1024, 0x61);
  const echoed = new Promise<Buffer>((resolve) => (ws.onmessage = (event) => resolve(event.data as Buffer)));
  ws.send(big);
  t.ok((await within(echoed, 5000, 'the echo')).equals(big), 'a 1 MiB message echoed');
  ws.close();
});

t.test('a session without WebSockets keeps the defaults; a window the application set is kept', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;
  const peer = await echoServer(t);
  const plain = http2Session(t, peer.origin, peer.ca);
  await settled(plain);
  await acknowledged(plain);
  t.equal(plain.localSettings.initialWindowSize, DEFAULT_HTTP2_WINDOW, 'no WebSocket, no change');

  const chosen = 100_000;
  const session = http2Session(t, peer.origin, peer.ca, { settings: { initialWindowSize: chosen } });
  const ws = new Client(`${peer.wss}/`, [], { http2: session, perMessageDeflate: false });
  await within(new Promise((resolve) => (ws.onopen = resolve)), 5000, 'open');
  await acknowledged(session);
  t.equal(session.localSettings.initialWindowSize, chosen, "the application's stream window");
  t.equal(session.state.effectiveLocalWindowSize, WEBSOCKET_SESSION_WINDOW, 'the connection window still raised');
  ws.close();
});

t.test('a raw extended CONNECT: the server raises its windows for it', async (t) => {
  if (!requirePeer(t, 'openssl', 'openssl')) return;
  const peer = await echoServer(t);
  const session = http2Session(t, peer.origin, peer.ca);
  const raw = await rawConnect(session, '/');
  t.equal(raw.response[':status'], 200);
  const [server] = peer.webSocketSessions;
  if (!server) return t.fail('no server session');
  await acknowledged(server);
  t.equal(server.localSettings.initialWindowSize, WEBSOCKET_STREAM_WINDOW);
  await within(
    new Promise<void>((resolve) => {
      if (session.remoteSettings.initialWindowSize === WEBSOCKET_STREAM_WINDOW) resolve();
      else session.on('remoteSettings', () => resolve());
    }),
    5000,
    "the server's new SETTINGS",
  );
  t.equal(session.remoteSettings.initialWindowSize, WEBSOCKET_STREAM_WINDOW, 'the client was told');
  t.equal(session.localSettings.initialWindowSize, DEFAULT_HTTP2_WINDOW, "a raw client's own window is its own");
  raw.stream.close();
});
