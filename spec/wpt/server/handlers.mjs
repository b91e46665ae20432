// Node ports of the WPT WebSocket handlers (websockets/handlers/*_wsh.py in
// /work/shared/wpt), one entry per file, on spec/wpt/server/pywebsocket.mjs.
// The URL path names the handler as wptserve's pywebsocket does: `/echo` runs
// echo_wsh.py. Each entry has up to three functions, pywebsocket's:
// - extraHandshake(request): before the 101 (or the HTTP/2 200); may choose
//   `request.chosenProtocol`, add `request.extraHeaders`, write raw bytes, or
//   return an HTTP status (a number) to refuse, or 'raw' when it wrote its own
//   response and the server must not answer;
// - transfer(request): the connection's life (web_socket_transfer_data);
// - passiveClose(request): the answer to the client's close frame
//   (web_socket_passive_closing_handshake), [code, reason].
// The stash handlers (stash_responder*, msg_channel) serve cross-document
// tests that cannot apply to Node and are not ported.
//
// References: https://github.com/web-platform-tests/wpt/tree/master/websockets/handlers

import { createHash } from 'node:crypto';
import { Aborted, closeBody, frame } from './pywebsocket.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const GOODBYE = 'Goodbye';
const query = (request) => {
  const at = request.uri.indexOf('?');
  return at === -1 ? '' : request.uri.slice(at + 1);
};
/** Echoes the client's close code and reason; none stays none. */
const echoClose = async (request) => [request.closeCode === 1005 ? null : request.closeCode, request.closeReason];
const acceptFor = (key) => createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

const drainOne = async (request) => {
  await request.receiveMessage();
};

/** @type {Record<string, {extraHandshake?: Function, transfer: Function, passiveClose?: Function}>} */
export const handlers = {
  basic_auth: {
    extraHandshake(request) {
      if (request.headersIn.authorization === 'Basic Zm9vOmJhcg==') return undefined;
      if (request.protocol === 'HTTP/2') {
        return { status: 401, headers: { 'content-length': '0', 'www-authenticate': 'Basic realm="camelot"' } };
      }
      request.write(
        'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Basic realm="camelot"\r\n\r\n',
      );
      request.connection.end();
      return 'raw';
    },
    async transfer() {},
  },

  'delayed-passive-close': {
    transfer: drainOne,
    async passiveClose(request) {
      const [code, reason] = await echoClose(request);
      await sleep(1000);
      return [code, reason];
    },
  },

  'echo-cookie': {
    async transfer(request) {
      request.sendMessage(request.headersIn.cookie ?? '(none)');
    },
  },

  'echo-query_v13': {
    async transfer(request) {
      request.sendMessage(query(request));
    },
  },

  'echo-query': {
    async transfer(request) {
      request.sendMessage(query(request));
    },
  },

  echo_close_data: {
    async transfer(request) {
      for (;;) {
        const line = await request.receiveMessage();
        if (line === null) return;
        if (typeof line === 'string' && line === GOODBYE) return;
      }
    },
  },

  echo_exit: {
    async transfer(request) {
      for (;;) {
        const line = await request.receiveMessage();
        if (line === null) return;
        if (line === GOODBYE) return;
      }
    },
  },

  echo_raw: {
    async transfer(request) {
      for (;;) {
        const line = await request.receiveMessage();
        if (line === null) return;
        const bytes = Buffer.isBuffer(line) ? line : Buffer.from(line);
        if (bytes.toString('latin1') === 'exit') return;
        request.write(bytes);
      }
    },
  },

  echo: {
    extraHandshake(request) {
      if (request.requestedProtocols?.includes('echo')) request.chosenProtocol = 'echo';
    },
    async transfer(request) {
      for (;;) {
        const line = await request.receiveMessage();
        if (line === null) return;
        if (typeof line === 'string') {
          request.sendMessage(line, false);
          if (line === GOODBYE) return;
        } else {
          request.sendMessage(line, true);
        }
      }
    },
    passiveClose: echoClose,
  },

  'empty-message': {
    async transfer(request) {
      const line = await request.receiveMessage();
      request.sendMessage(line === '' ? 'pass' : 'fail');
    },
  },

  handshake_no_extensions: { async transfer() {} },

  handshake_no_protocol: {
    extraHandshake(request) {
      request.requestedProtocols = null;
    },
    async transfer() {},
  },

  handshake_protocol: {
    extraHandshake(request) {
      request.chosenProtocol = 'foobar';
    },
    async transfer() {},
  },

  handshake_sleep_2: {
    async extraHandshake() {
      await sleep(2000);
    },
    async transfer() {},
  },

  invalid: {
    extraHandshake(request) {
      // HTTP/2 has no status line to garble: the stream is reset instead, as
      // a malformed response would be (RFC 9113 §8.1.1).
      if (request.protocol === 'HTTP/2') {
        request.connection.close(0x1 /* PROTOCOL_ERROR */);
        return 'raw';
      }
      request.write('FOO BAR BAZ\r\n\r\n');
    },
    async transfer() {},
  },

  origin: {
    async transfer(request) {
      request.sendMessage(request.origin);
    },
  },

  'passive-close-abort': {
    async transfer(request) {
      while ((await request.receiveMessage()) !== null) {
        // drop messages until the close frame
      }
    },
    passiveClose() {
      throw new Aborted('abrupt close');
    },
  },

  protocol_array: {
    extraHandshake(request) {
      request.chosenProtocol = (request.headersIn['sec-websocket-protocol'] ?? '').split(',')[0];
    },
    async transfer(request) {
      request.sendMessage(request.chosenProtocol);
    },
  },

  protocol: {
    extraHandshake(request) {
      request.chosenProtocol = request.headersIn['sec-websocket-protocol'] ?? null;
    },
    async transfer(request) {
      request.sendMessage(request.chosenProtocol ?? 'None');
    },
  },

  'receive-backpressure': {
    async transfer(request) {
      await sleep(2000);
      await request.receiveMessage();
    },
  },

  'receive-many-with-backpressure': {
    async transfer(request) {
      for (;;) {
        await sleep(100);
        const line = await request.receiveMessage();
        if (line === null) return;
        request.sendMessage(String(line.length), false);
      }
    },
  },

  referrer: {
    async transfer(request) {
      request.sendMessage(request.headersIn.referer ?? 'MISSING AS PER FETCH');
    },
  },

  'remote-close': {
    async transfer(request) {
      const parameters = new URLSearchParams(query(request));
      if (parameters.has('abrupt')) {
        request.sendPing('ping');
        throw new Aborted('Abort the connection');
      }
      const code = parameters.has('code') ? Number.parseInt(parameters.get('code'), 10) : null;
      const reason = code === null ? '' : (parameters.get('reason') ?? '');
      await request.closeConnection(code, reason);
    },
  },

  'send-backpressure': {
    async transfer(request) {
      request.sendMessage(Buffer.alloc(0), true);
      const start = performance.now();
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 16; i++) {
        // pywebsocket's socket write blocks while the client does not read.
        if (!request.connection.write(frame(2, chunk))) {
          await new Promise((resolve) => request.connection.once('drain', resolve));
        }
      }
      request.sendMessage(String((performance.now() - start) / 1000), false);
    },
  },

  'set-cookie-secure': {
    extraHandshake(request) {
      request.extraHeaders.push(['Set-Cookie', `ws_test_${query(request)}=test; Secure; Path=/`]);
    },
    transfer: drainOne,
  },

  'set-cookie_http': {
    extraHandshake(request) {
      request.extraHeaders.push([
        'Set-Cookie',
        `ws_test_${query(request)}=test; Path=/; HttpOnly\r\nSec-WebSocket-Origin: ${request.origin}`,
      ]);
    },
    transfer: drainOne,
  },

  'set-cookie': {
    extraHandshake(request) {
      request.extraHeaders.push(['Set-Cookie', `ws_test_${query(request)}=test; Path=/`]);
    },
    transfer: drainOne,
  },

  'set-cookies-samesite': {
    extraHandshake(request) {
      const q = query(request);
      const maxAge = q.includes('clear') ? '; Max-Age=0' : '';
      const value = q.includes('value') ? (new URLSearchParams(q).get('value') ?? '1') : '1';
      for (const cookie of [
        `samesite-unspecified=${value}; Path=/${maxAge}`,
        `samesite-lax=${value}; Path=/; SameSite=Lax${maxAge}`,
        `samesite-strict=${value}; Path=/; SameSite=Strict${maxAge}`,
        `samesite-none=${value}; Path=/; SameSite=None; Secure${maxAge}`,
      ]) {
        request.extraHeaders.push(['Set-Cookie', cookie]);
      }
    },
    transfer: drainOne,
  },

  simple_handshake: {
    extraHandshake(request) {
      if (request.protocol === 'HTTP/2') return { status: 400 };
      request.write(
        'HTTP/1.1 101 Switching Protocols:\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n' +
          `Set-Cookie: ws_test=test\r\nSec-WebSocket-Origin: ${request.origin}\r\n` +
          `Sec-WebSocket-Accept: ${acceptFor(request.headersIn['sec-websocket-key'])}\r\n\r\n`,
      );
      request.write(frame(8, closeBody(1001, 'PASS')));
      // Read the client's close frame, then drop the connection.
      request.connection.once('data', () => request.connection.destroy());
      return 'raw';
    },
    async transfer() {},
  },

  sleep_10_v13: {
    async extraHandshake() {
      await sleep(10_000);
    },
    async transfer(request) {
      for (;;) {
        const line = await request.receiveMessage();
        if (line === GOODBYE || line === null) return;
        request.sendMessage(line, false);
      }
    },
  },

  wrong_accept_key: {
    extraHandshake(request) {
      if (request.protocol === 'HTTP/2') return { status: 400 };
      request.write(
        'HTTP/1.1 101 Switching Protocols:\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n' +
          `Sec-WebSocket-Origin: ${request.origin}\r\nSec-WebSocket-Accept: thisisawrongacceptkey\r\n\r\n`,
      );
      return undefined;
    },
    async transfer(request) {
      request.sendMessage('test', false);
    },
  },
};
