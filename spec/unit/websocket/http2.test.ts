// How the server constructor reads its arguments when they come from an
// HTTP/2 server (src/websocket/http2.ts): the compatibility API's request and
// response, or the stream event's stream and headers, then protocols and
// options, with or without a head in third place. The request and response
// are Node's own classes over a stand-in stream.

import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import t from 'tap';
import { http2Arguments } from '../../../src/websocket/http2.js';

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
