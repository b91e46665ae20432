// How the server constructor reads its arguments when they come from an
// HTTP/2 server (src/websocket/http2.ts): the compatibility API's request and
// response, or the stream event's stream and headers, then protocols and
// options, with or without a head in third place. The request and response
// are Node's own classes over a stand-in stream.

import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import t from 'tap';
import {
  admitStream,
  DEFAULT_MAX_WEBSOCKET_STREAMS,
  http2Arguments,
  maxWebSocketStreams,
  webSocketStreams,
} from '../../../src/websocket/http2.js';

const headers = { ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/', ':authority': 'x', ':scheme': 'https' };

function compat() {
  const stream = Object.assign(new EventEmitter(), { respond() {}, pushStream() {} });
  const request = new http2.Http2ServerRequest(stream as never, headers, {}, []);
  const response = new http2.Http2ServerResponse(stream as never);
  return { stream, request, response };
}

t.test('http2Arguments', async (t) => {
  const { stream, request, response } = compat();
  const options = { ping: 5 };
  const read = (...args: unknown[]) => {
    const result = http2Arguments(args);
    return result && { protocols: result.protocols, options: result.options };
  };

  t.test('(request, response) of the compatibility API', async (t) => {
    const result = http2Arguments([request, response, ['chat'], options]);
    t.equal(result?.peer.stream, stream, "the response's stream");
    t.equal(result?.peer.headers, headers);
    t.equal(result?.peer.request, request);
    t.same(read(request, response, ['chat'], options), { protocols: ['chat'], options });
    t.same(read(request, response, 'chat'), { protocols: 'chat', options: undefined });
    t.same(read(request, response), { protocols: undefined, options: undefined });
    t.same(read(request, response, undefined, options), { protocols: undefined, options }, 'no protocols, options');
    t.same(read(request, response, null, options), { protocols: null, options });
  });

  t.test('a head in third place, as a handler shared with upgrade passes it', async (t) => {
    t.same(read(request, response, undefined, ['chat'], options), { protocols: ['chat'], options });
    t.same(read(request, response, Buffer.alloc(0), ['chat']), { protocols: ['chat'], options: undefined });
    t.same(read(request, response, Buffer.alloc(0)), { protocols: undefined, options: undefined });
    t.same(read(request, response, null, null, options), { protocols: null, options });
    t.same(read(request, response, undefined, 'chat', options), { protocols: 'chat', options });
  });

  t.test('(stream, headers) of the stream event', async (t) => {
    const result = http2Arguments([stream, headers, ['chat'], options]);
    t.equal(result?.peer.stream, stream);
    t.equal(result?.peer.request, undefined);
    t.same(read(stream, headers, ['chat'], options), { protocols: ['chat'], options });
  });

  t.test("HTTP/1.1's (request, socket, head) is not HTTP/2's", async (t) => {
    const socket = Object.assign(new EventEmitter(), { write() {} });
    t.equal(http2Arguments([{ method: 'GET', headers: {} }, socket, Buffer.alloc(0)]), undefined);
    t.equal(http2Arguments([request, socket]), undefined, 'an HTTP/2 request with a socket is neither');
    t.equal(http2Arguments([stream, { host: 'x' }]), undefined, 'headers without :method are not HTTP/2 headers');
  });
});

t.test('WebSocket streams per HTTP/2 session', async (t) => {
  t.test("the limit is the server's settings.maxConcurrentStreams, else DEFAULT_MAX_WEBSOCKET_STREAMS", async (t) => {
    t.equal(DEFAULT_MAX_WEBSOCKET_STREAMS, 100);
    const session = (maxConcurrentStreams: number) => ({ localSettings: { maxConcurrentStreams } }) as never;
    t.equal(maxWebSocketStreams(session(2 ** 32 - 1)), 100, "Node's default (no limit) gives ours");
    t.equal(maxWebSocketStreams(session(10)), 10, 'a setting of the application is kept');
    t.equal(maxWebSocketStreams(session(1000)), 1000, 'also above ours');
  });

  t.test(
    'admitStream counts streams until they close and resets those past the limit with REFUSED_STREAM',
    async (t) => {
      const session = { localSettings: { maxConcurrentStreams: 2 } };
      const closed: number[] = [];
      const stream = () =>
        Object.assign(new EventEmitter(), {
          session,
          destroyed: false,
          closed: false,
          respond() {},
          pushStream() {},
          close(code: number) {
            closed.push(code);
          },
        });
      const peer = (s: ReturnType<typeof stream>) => ({ stream: s as never, headers, request: undefined });
      const [a, b, c] = [stream(), stream(), stream()];
      t.equal(admitStream(peer(a)), undefined);
      t.equal(admitStream(peer(b)), undefined);
      t.equal(webSocketStreams(session as never), 2);
      t.match(admitStream(peer(c)), /REFUSED_STREAM.*already holds 2/);
      t.same(closed, [7], 'the third is reset with REFUSED_STREAM (7)');
      t.equal(c.listenerCount('error'), 1, 'its error (Node reports the reset as one) is handled');
      a.emit('close');
      a.emit('close');
      t.equal(webSocketStreams(session as never), 1, 'a closed stream gives its place back, once');
      t.equal(admitStream(peer(stream())), undefined, 'and the place is taken again');
    },
  );
});
