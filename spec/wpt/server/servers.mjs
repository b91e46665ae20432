// The WPT servers on 127.0.0.1, port 0, under WPT's names (web-platform.test,
// www.web-platform.test, not-web-platform.test...: the test processes resolve
// them to 127.0.0.1, as WPT's hosts file does): what wptserve and pywebsocket are to
// a browser run, for the Node runner (spec/wpt/runner.mjs).
// - http (WPT's `http` and `ws` ports): the files of /work/shared/wpt (with
//   `.sub.` substitution), the eventsource/resources/*.py ports, and the
//   WebSocket handlers over an HTTP/1.1 upgrade;
// - https (`https`, `wss`): the same over TLS;
// - h2 (`h2`): HTTP/2 over TLS with the extended CONNECT protocol enabled
//   (RFC 8441 §3), the WebSocket handlers on CONNECT streams.
// The certificate is made with openssl at start (as spec/helpers/tls.ts does)
// for those names; the CA is written to a file for the test
// processes' NODE_EXTRA_CA_CERTS, so neither client is told to trust it.
//
// Calling contract: `const s = await startServers(root)`; `s.env` is the
// substitution table, `s.caFile` the CA path, `await s.close()` stops all.
//
// References: https://web-platform-tests.org/writing-tests/server-pipes.html
// (the `sub` pipe), RFC 6455 §4.2, RFC 8441 §4-5.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { eventSourceResource } from './eventsource.mjs';
import { handlers } from './handlers.mjs';
import { dispatch, WsRequest } from './pywebsocket.mjs';

/** The host the tests see as `{{host}}`, and the other names for it. */
export const HOST = 'web-platform.test';
/** wptserve's `alt` host: another site. */
export const ALT_HOST = 'not-web-platform.test';
/** Every name in the certificate; the test processes resolve them to 127.0.0.1. */
export const HOST_PATTERN = /(^|\.)(not-)?web-platform\.test$/;

function certificates() {
  const dir = mkdtempSync(join(tmpdir(), 'isosocket-wpt-tls-'));
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=isosocket WPT CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=DNS:web-platform.test,DNS:*.web-platform.test,DNS:not-web-platform.test,DNS:*.not-web-platform.test,IP:127.0.0.1\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'server.pem',
  );
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    key: readFileSync(join(dir, 'server.key')),
    cert: readFileSync(join(dir, 'server.pem')),
  };
}

/**
 * wptserve's `sub` pipe for the names the vendored tests use: `{{host}}`,
 * `{{ports[ws][0]}}`, `{{hosts[alt][www]}}`, `{{domains[www2]}}`,
 * `{{headers[accept]}}`, `{{GET[name]}}`.
 */
export function substitute(text, env, request) {
  return text.replace(/\{\{([a-z_]+)(?:\[([^\]]*)\])?(?:\[([^\]]*)\])?\}\}/gi, (match, name, a, b) => {
    switch (name) {
      case 'host':
        return HOST;
      case 'ports': {
        const ports = env.ports[a];
        return ports ? String(ports[Number(b ?? 0)] ?? ports[0]) : match;
      }
      case 'hosts': {
        const base = a === '' ? HOST : ALT_HOST;
        return b ? `${b}.${base}` : base;
      }
      case 'domains':
        return a ? `${a}.${HOST}` : HOST;
      case 'headers':
        return request?.headers[a.toLowerCase()] ?? '';
      case 'GET':
        return request ? (new URL(request.url, 'http://x').searchParams.get(a) ?? '') : '';
      default:
        return match;
    }
  });
}

const TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.idl': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain',
};

/** wptserve's file handler, for what scripts fetch (`/interfaces/*.idl`). */
function serveFile(root, env, request, response) {
  const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
  const file = normalize(join(root, path));
  if (!file.startsWith(root) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  let body = readFileSync(file);
  if (path.includes('.sub.')) body = Buffer.from(substitute(body.toString('utf8'), env, request));
  response
    .writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'access-control-allow-origin': '*',
    })
    .end(body);
}

/**
 * WPT's stash, as fetch/api/resources/stash-put.py and stash-take.py use it
 * (the fetch/ folder is not vendored): WebSocketStream's abort test connects
 * to stash-put.py and checks with stash-take.py that nothing arrived. A
 * WebSocket handshake to stash-put.py stores its value too, as wptserve
 * serves it as a plain GET.
 */
const stashed = new Map();
function stash(request, response) {
  const url = new URL(request.url, 'http://x');
  const key = url.searchParams.get('key');
  if (url.pathname === '/fetch/api/resources/stash-put.py') {
    stashed.set(key, url.searchParams.get('value'));
    response?.writeHead(200, { 'content-type': 'text/plain' }).end('done');
    return true;
  }
  if (url.pathname === '/fetch/api/resources/stash-take.py') {
    const value = stashed.has(key) ? JSON.stringify(stashed.get(key)) : 'null';
    stashed.delete(key);
    response.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(value);
    return true;
  }
  return false;
}

const accept = (key) => createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

function handlerFor(uri) {
  const name = uri.split('?')[0].replace(/^\//, '');
  return Object.hasOwn(handlers, name) ? handlers[name] : undefined;
}

/** The server side of an HTTP/1.1 upgrade (RFC 6455 §4.2.2), pywebsocket style. */
async function upgrade(request, socket, head) {
  socket.on('error', () => {});
  const refuse = (status, headers = {}) => {
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${lines.join('')}Content-Length: 0\r\n\r\n`);
  };
  if (stash(request, undefined)) return refuse(200);
  const handler = handlerFor(request.url);
  if (!handler) return refuse(404);
  const key = request.headers['sec-websocket-key'];
  if (request.headers['sec-websocket-version'] !== '13' || !key || Buffer.from(key, 'base64').length !== 16) {
    return refuse(400);
  }
  const ws = new WsRequest(socket, { protocol: 'HTTP/1.1', uri: request.url, headers: request.headers });
  const answer = await handler.extraHandshake?.(ws);
  if (answer === 'raw') return;
  if (typeof answer === 'object') return refuse(answer.status, answer.headers);
  // pywebsocket: a handler must choose one of the offered subprotocols.
  if (ws.requestedProtocols !== null && ws.chosenProtocol === null) return refuse(400);
  let response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n`;
  if (ws.chosenProtocol !== null) response += `Sec-WebSocket-Protocol: ${ws.chosenProtocol}\r\n`;
  for (const [name, value] of ws.extraHeaders) response += `${name}: ${value}\r\n`;
  ws.write(`${response}\r\n`);
  if (handler.passiveClose) ws.passiveClose = handler.passiveClose;
  ws.attach(head);
  await dispatch(ws, handler);
}

/** The server side of an extended CONNECT (RFC 8441 §5). */
async function connectStream(stream, headers) {
  stream.on('error', () => {});
  const refuse = (status, more = {}) => {
    if (!stream.headersSent) stream.respond({ ':status': status, ...more }, { endStream: true });
  };
  if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket') return refuse(400);
  const handler = handlerFor(headers[':path']);
  if (!handler) return refuse(404);
  if (headers['sec-websocket-version'] !== '13') return refuse(400);
  const ws = new WsRequest(stream, { protocol: 'HTTP/2', uri: headers[':path'], headers });
  const respond = () => {
    if (stream.headersSent || stream.destroyed) return;
    const out = { ':status': 200 };
    if (ws.chosenProtocol !== null) out['sec-websocket-protocol'] = ws.chosenProtocol;
    for (const [name, value] of ws.extraHeaders) {
      // A header value cannot carry CR LF over HTTP/2 (set-cookie_http's trick).
      if (!/[\r\n]/.test(value)) out[name.toLowerCase()] = value;
    }
    stream.respond(out);
  };
  ws.beforeWrite = respond;
  const answer = await handler.extraHandshake?.(ws);
  if (answer === 'raw') return;
  if (typeof answer === 'object') return refuse(answer.status, answer.headers);
  if (ws.requestedProtocols !== null && ws.chosenProtocol === null) return refuse(400);
  respond();
  if (handler.passiveClose) ws.passiveClose = handler.passiveClose;
  ws.attach();
  await dispatch(ws, handler);
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/** Starts the http, https and h2 servers; resolves to their ports and a close(). */
export async function startServers(root) {
  const tls = certificates();
  const env = { ports: {} };
  const onRequest = (request, response) => {
    request.on('error', () => {});
    response.on('error', () => {});
    try {
      if (stash(request, response)) return;
      if (eventSourceResource(root, env, request, response)) return;
      serveFile(root, env, request, response);
    } catch (error) {
      console.error('request', request.url, error);
      response.destroy();
    }
  };
  const plain = http.createServer(onRequest);
  const secure = https.createServer({ key: tls.key, cert: tls.cert }, onRequest);
  const h2 = http2.createSecureServer({ key: tls.key, cert: tls.cert, settings: { enableConnectProtocol: true } });
  for (const server of [plain, secure]) {
    server.on('upgrade', (request, socket, head) => {
      upgrade(request, socket, head).catch(() => socket.destroy());
    });
    server.on('clientError', (_error, socket) => socket.destroy());
  }
  h2.on('stream', (stream, headers) => {
    connectStream(stream, headers).catch(() => stream.destroy());
  });
  h2.on('sessionError', () => {});
  const sessions = new Set();
  h2.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  const [httpPort, httpsPort, h2Port] = await Promise.all([listen(plain), listen(secure), listen(h2)]);
  env.ports = {
    http: [httpPort, httpPort],
    ws: [httpPort],
    https: [httpsPort, httpsPort],
    wss: [httpsPort],
    h2: [h2Port],
  };
  return {
    env,
    caFile: tls.caFile,
    async close() {
      for (const server of [plain, secure]) server.closeAllConnections();
      for (const session of sessions) session.destroy();
      await Promise.all(
        [plain, secure, h2].map(
          (server) =>
            new Promise((resolve) => {
              server.close(() => resolve());
              // An HTTP/2 server whose sessions were destroyed may never call
              // back (and leave nothing to wait on): a second at most.
              setTimeout(resolve, 1000);
            }),
        ),
      );
      rmSync(tls.dir, { recursive: true, force: true });
    },
  };
}
