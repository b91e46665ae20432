// The pure parts of src/net/http2.ts: header mapping, the URL a stream asked
// for, recognising HTTP/2 arguments, a shared session's fitness, and the
// message for a stream another listener answered. Streams and sessions are
// plain objects with the fields these functions read; the real ones run in
// spec/integration/http2-*.test.ts.

import http2, { type ClientHttp2Session, type ServerHttp2Stream } from 'node:http2';
import t from 'tap';
import {
  alreadyAnswered,
  isHttp2Headers,
  isHttp2Request,
  isHttp2Response,
  isServerStream,
  sessionProblem,
  streamUrl,
  toHttp2Headers,
} from '../../../src/net/http2.js';

const stream = (fields: object): ServerHttp2Stream => fields as unknown as ServerHttp2Stream;

t.test('toHttp2Headers', async (t) => {
  const pairs: Array<[string, string]> = [
    ['Host', 'example.com:8443'],
    ['X-Token', 'a'],
    ['Connection', 'Upgrade'],
    ['Upgrade', 'websocket'],
    ['Keep-Alive', '5'],
    ['Proxy-Connection', 'keep-alive'],
    ['Transfer-Encoding', 'chunked'],
    ['TE', 'gzip'],
  ];
  t.same(toHttp2Headers(pairs, 'request'), { ':authority': 'example.com:8443', 'x-token': 'a' });
  t.same(toHttp2Headers(pairs, 'response'), { 'x-token': 'a' }, 'Host means nothing in a response');
  t.same(
    toHttp2Headers([['TE', ' Trailers ']], 'request'),
    { te: ' Trailers ' },
    'TE: trailers is allowed (RFC 9113 §8.2.2)',
  );
});

t.test('streamUrl', async (t) => {
  const schemes = { plain: 'ws:', secure: 'wss:' };
  const headers = { ':method': 'CONNECT', ':scheme': 'https', ':authority': 'example.com', ':path': '/chat?x=1' };
  t.equal(streamUrl(stream({ session: { encrypted: true } }), headers, schemes, false), 'wss://example.com/chat?x=1');
  t.equal(
    streamUrl(stream({ session: { encrypted: false } }), headers, schemes, false),
    'ws://example.com/chat?x=1',
    'over cleartext a client cannot claim https on its own',
  );
  t.equal(
    streamUrl(stream({ session: { encrypted: false } }), headers, schemes, true),
    'wss://example.com/chat?x=1',
    'behind a trusted TLS-terminating proxy, :scheme says',
  );
  t.equal(
    streamUrl(stream({ session: undefined }), { ':method': 'CONNECT', host: 'h:1' }, schemes, false),
    'ws://h:1/',
    'a Host field stands in for :authority; / for :path',
  );
  t.equal(streamUrl(stream({}), { ':method': 'CONNECT' }, schemes, false), 'ws://localhost/');
});

t.test('recognising HTTP/2 arguments', async (t) => {
  t.ok(isHttp2Headers({ ':method': 'CONNECT' }));
  t.notOk(isHttp2Headers({ method: 'GET', headers: {} }), 'an IncomingMessage is not headers');
  t.notOk(isHttp2Headers(null));
  t.ok(isServerStream({ respond() {}, pushStream() {} }));
  t.notOk(isServerStream({ write() {} }), 'a socket is not a stream');
  t.notOk(isServerStream(undefined));
  t.notOk(isHttp2Request({ headers: {} }));
  t.notOk(isHttp2Response({ writeHead() {} }));
  t.equal(typeof http2.Http2ServerRequest, 'function', 'the classes checked with instanceof exist');
});

t.test('sessionProblem', async (t) => {
  const session = (fields: object): ClientHttp2Session =>
    ({ request() {}, ping() {}, settings() {}, closed: false, destroyed: false, ...fields }) as never;
  const target = new URL('wss://example.com/chat');
  t.equal(sessionProblem(undefined, target), undefined);
  t.equal(sessionProblem(true, target), undefined);
  t.equal(sessionProblem(session({ originSet: ['https://example.com'] }), target), undefined);
  t.equal(
    sessionProblem(session({ originSet: undefined }), target),
    undefined,
    'cleartext sessions have no origin set',
  );
  t.match(sessionProblem(session({ closed: true }), target), /is closed/);
  t.match(sessionProblem(session({ destroyed: true }), target), /is closed/);
  t.match(
    sessionProblem(session({ originSet: ['https://example.com'] }), new URL('wss://example.com:8443/')),
    /serves https:\/\/example\.com, not https:\/\/example\.com:8443/,
  );
  t.match(
    sessionProblem(session({ originSet: ['https://example.com'] }), new URL('ws://example.com/')),
    /not http:\/\/example\.com/,
  );
});

t.test('alreadyAnswered', async (t) => {
  const server = (request: number, connect: number) => ({
    listenerCount: (name: string) => (name === 'request' ? request : name === 'connect' ? connect : 0),
  });
  t.match(
    alreadyAnswered(stream({ sentHeaders: { ':status': 405 }, session: { server: server(1, 0) } })),
    /compatibility layer answered this CONNECT with 405 .* server\.on\('connect'/,
  );
  t.match(
    alreadyAnswered(stream({ sentHeaders: { ':status': 405 }, session: { server: server(1, 1) } })),
    /already answered \(status 405\)/,
    'with a connect listener, someone else answered',
  );
  t.match(alreadyAnswered(stream({ sentHeaders: { ':status': 200 }, session: undefined })), /status 200/);
});
