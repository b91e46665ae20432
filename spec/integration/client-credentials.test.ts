// URL credentials and the request's Origin, against a real node:http server:
// `wss://user:pass@host/` answers a 401 Basic challenge once with the URL's
// userinfo (fetch's use-URL-credentials flag, as undici and browsers), never
// sends it unasked, never puts it in the request line or Host; and without an
// `origin` option the client sends the global origin's, as undici does.
// (WPT websockets/basic-auth.any.js and opening-handshake/003.html.)

import http, { type IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import t, { type Test } from 'tap';
import { Client, type CloseEvent, setGlobalOrigin, WebSocket } from '../../src/index.js';
import { nextWithin } from '../helpers/bounded.js';
import { listen } from '../helpers/listen.js';

interface Seen {
  line: string;
  headers: IncomingHttpHeaders;
}

/** A server whose `answer` decides, per upgrade request, 401 (with a challenge or not) or 101. */
async function authServer(
  t: Test,
  answer: (seen: Seen, index: number) => 'accept' | { challenge: string | undefined },
): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer();
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const entry = { line: `${request.method} ${request.url} HTTP/${request.httpVersion}`, headers: request.headers };
    seen.push(entry);
    const verdict = answer(entry, seen.length - 1);
    if (verdict === 'accept') {
      const ws = new WebSocket(request, socket, head);
      ws.onopen = () => ws.send('in');
      return;
    }
    const challenge = verdict.challenge === undefined ? '' : `WWW-Authenticate: ${verdict.challenge}\r\n`;
    socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n${challenge}\r\n`);
  });
  const port = await listen(t, server);
  return { port, seen };
}

const FOO_BAR = `Basic ${Buffer.from('foo:bar').toString('base64')}`;

function basicOnly(seen: Seen): 'accept' | { challenge: string } {
  return seen.headers.authorization === FOO_BAR ? 'accept' : { challenge: 'Basic realm="camelot"' };
}

t.test('URL credentials answer a 401 Basic challenge once', async (t) => {
  const { port, seen } = await authServer(t, basicOnly);
  const url = `ws://foo:bar@127.0.0.1:${port}/basic_auth?x=1`;
  const ws = new Client(url);
  const message = await nextWithin<MessageEvent>(ws, 'message');
  t.equal(message.data, 'in', 'the second request opened the WebSocket');
  t.equal(seen.length, 2, 'two requests: the unauthenticated one and the answer to the challenge');
  t.equal(seen[0]?.headers.authorization, undefined, 'the first request carries no Authorization');
  t.equal(seen[1]?.headers.authorization, FOO_BAR, 'the second carries Basic base64(user:pass)');
  for (const entry of seen) {
    t.equal(entry.line, 'GET /basic_auth?x=1 HTTP/1.1', 'no userinfo in the request target');
    t.equal(entry.headers.host, `127.0.0.1:${port}`, 'no userinfo in Host');
  }
  t.equal(ws.url, `ws://foo:bar@127.0.0.1:${port}/basic_auth?x=1`, 'url is the URL record serialized, userinfo kept');
  ws.close();
  await nextWithin(ws, 'close');
});

t.test('percent-encoded userinfo is decoded before it is encoded as Basic', async (t) => {
  const want = `Basic ${Buffer.from('a@b:p:ss é').toString('base64')}`;
  const { port, seen } = await authServer(t, (entry) =>
    entry.headers.authorization === want ? 'accept' : { challenge: 'Bearer, basic realm="x"' },
  );
  const ws = new Client(`ws://a%40b:p%3Ass%20%C3%A9@127.0.0.1:${port}/`);
  await nextWithin(ws, 'open');
  t.equal(seen[1]?.headers.authorization, want);
  ws.close();
  await nextWithin(ws, 'close');
});

t.test('a second 401 fails the connection: one retry, no loop', async (t) => {
  const { port, seen } = await authServer(t, () => ({ challenge: 'Basic realm="camelot"' }));
  const ws = new Client(`ws://foo:bar@127.0.0.1:${port}/`);
  ws.onopen = () => t.fail('opened');
  const [, close] = await Promise.all([nextWithin(ws, 'error'), nextWithin<CloseEvent>(ws, 'close')]);
  t.equal(close.code, 1006);
  t.equal(seen.length, 2, 'exactly two requests');
  t.equal(ws.statusCode, 401, 'the last answer is the one reported');
});

t.test('a 401 without a Basic challenge fails at once', async (t) => {
  for (const challenge of [undefined, 'Bearer realm="basic"', 'Basicx']) {
    const { port, seen } = await authServer(t, () => ({ challenge }));
    const ws = new Client(`ws://foo:bar@127.0.0.1:${port}/`);
    await Promise.all([nextWithin(ws, 'error'), nextWithin(ws, 'close')]);
    t.equal(seen.length, 1, `one request, the password kept (challenge ${String(challenge)})`);
    t.equal(seen[0]?.headers.authorization, undefined);
  }
});

t.test('without userinfo a 401 fails at once; an Authorization header of its own is not replaced', async (t) => {
  const { port, seen } = await authServer(t, basicOnly);
  const bare = new Client(`ws://127.0.0.1:${port}/`);
  await nextWithin(bare, 'close');
  t.equal(seen.length, 1);
  const own = new Client(`ws://foo:bar@127.0.0.1:${port}/`, [], { headers: { Authorization: 'Basic b3duOm93bg==' } });
  await nextWithin(own, 'close');
  t.equal(seen.length, 2, 'no retry over the application header');
  t.equal(seen[1]?.headers.authorization, 'Basic b3duOm93bg==');
});

t.test('Origin: the global origin without an `origin` option; the option wins', async (t) => {
  const { port, seen } = await authServer(t, () => 'accept');
  t.teardown(() => setGlobalOrigin(undefined));
  const open = async (ws: Client): Promise<void> => {
    await nextWithin(ws, 'open');
    ws.close();
    await nextWithin(ws, 'close');
  };
  await open(new Client(`ws://127.0.0.1:${port}/`));
  t.equal(seen[0]?.headers.origin, undefined, 'no global origin, no option: no Origin');
  setGlobalOrigin('https://app.example:8443/chat/page?q#f');
  await open(new Client(`ws://127.0.0.1:${port}/`));
  t.equal(seen[1]?.headers.origin, 'https://app.example:8443', "the global origin's serialization");
  await open(new Client(`ws://127.0.0.1:${port}/`, [], { origin: 'http://mine.example' }));
  t.equal(seen[2]?.headers.origin, 'http://mine.example', 'the origin option takes precedence');
  await open(new Client(`ws://127.0.0.1:${port}/`, [], { headers: { Origin: 'http://header.example' } }));
  t.equal(seen[3]?.headers.origin, 'http://header.example', 'an Origin header of its own is kept');
});
