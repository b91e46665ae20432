// Node ports of eventsource/resources/*.py (and the `.event_stream` files
// with wptserve's `sub` pipe, and common/redirect.py that cors.py runs), for
// spec/wpt/server/servers.mjs. Each port keeps its Python's branches in
// order; cookies are read from the Cookie header and set with Set-Cookie, as
// wptserve does (a Node client without a cookie jar never sends them back,
// which the expectations file records).
//
// Calling contract: eventSourceResource(root, env, request, response) answers
// and returns true for a path it knows, else returns false.
//
// References: https://github.com/web-platform-tests/wpt/tree/master/eventsource/resources

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { substitute } from './servers.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function cookies(request) {
  const jar = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) jar[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return jar;
}

/** A response under construction, written by finish(). */
class Reply {
  status = 200;
  message = undefined;
  headers = {};
  setCookies = [];
  body = '';
  header(name, value) {
    // wptserve sends what the handler gives; a missing value (no Origin to
    // echo) is left out, as Node refuses undefined.
    if (value !== undefined && value !== null) this.headers[name.toLowerCase()] = value;
  }
  setCookie(name, value, expires) {
    this.setCookies.push(`${name}=${value}; Path=/${expires ? `; Expires=${expires}` : ''}`);
  }
  deleteCookie(name) {
    this.setCookie(name, '', 'Thu, 01 Jan 1970 00:00:00 GMT');
  }
  finish(response) {
    const headers = { ...this.headers };
    if (this.setCookies.length) headers['set-cookie'] = this.setCookies;
    response.writeHead(this.status, this.message, headers);
    response.end(this.body);
  }
}

const resources = {
  async 'message.py'(get, _request, reply) {
    const mime = get.get('mime') ?? 'text/event-stream';
    const newline = get.get('newline') === 'none' ? '' : '\n\n';
    const wait = Number.parseInt(get.get('sleep') ?? '0', 10);
    reply.header('Content-Type', mime);
    // wptserve decodes the query as UTF-8 bytes: keep them as they came.
    reply.body = Buffer.concat([
      rawParam(_request, 'message') ?? Buffer.from('data: data'),
      Buffer.from(`${newline}\n`),
    ]);
    if (wait) await sleep(wait);
  },

  async 'message2.py'(_get, request, _reply, response) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let open = true;
    request.on('close', () => {
      open = false;
    });
    response.on('close', () => {
      open = false;
    });
    while (open) {
      response.write('data:msg\ndata: msg\n\n:\nfalsefield:msg\n\nfalsefield:msg\nData:data\n\ndata\n\ndata:end\n\n');
      await sleep(2000);
    }
    return 'streamed';
  },

  async 'last-event-id.py'(get, request, reply) {
    reply.header('Content-Type', 'text/event-stream');
    const last = request.headers['last-event-id'] ?? '';
    if (last) reply.body = Buffer.concat([Buffer.from('data: '), Buffer.from(last, 'latin1'), Buffer.from('\n\n')]);
    else {
      const id = rawParam(request, 'idvalue') ?? Buffer.from('\u2026', 'utf8');
      reply.body = Buffer.concat([Buffer.from('id: '), id, Buffer.from('\nretry: 200\ndata: hello\n\n')]);
    }
    void get;
  },

  async 'last-event-id2.py'(get, _request, reply) {
    reply.header('Content-Type', 'text/event-stream');
    const type = Number.parseInt(get.get('type') ?? '1', 10) || 1;
    reply.body =
      type === 1
        ? 'id: 1\ndata: 1\n\ndata: 2\n\nid: 2\ndata:3\n\ndata:4\n\n'
        : type === 2
          ? 'id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n'
          : type === 3
            ? 'id: 1\ndata: 1\n\nid\ndata:2\n\ndata:3\n\n'
            : 'data: invalid_test\n\n';
  },

  async 'status-error.py'(get, _request, reply) {
    reply.status = Number(get.get('status') ?? '404');
    reply.message = 'HAHAHAHA';
    reply.header('Content-Type', 'text/event-stream');
    reply.body = reply.status === 204 || reply.status === 205 ? '' : 'data: data\n\n';
  },

  async 'status-reconnect.py'(get, request, reply) {
    const statusCode = get.get('status') ?? '204';
    const name = get.get('id') ?? statusCode;
    reply.header('Content-Type', 'text/event-stream');
    const cookieName = `request${name}`;
    if (cookies(request)[cookieName] === statusCode) {
      reply.status = 200;
      reply.deleteCookie(cookieName);
      reply.body = 'data: data\n\n';
    } else {
      reply.setCookie(cookieName, statusCode);
      reply.status = Number(statusCode);
      reply.message = 'TEST';
      reply.body = `retry: 2\n${get.has('ok_first') ? 'data: ok\n\n' : ''}`;
    }
  },

  async 'reconnect-fail.py'(get, request, reply) {
    const name = `recon_fail_${get.get('id')}`;
    reply.header('Content-Type', 'text/event-stream');
    const state = cookies(request)[name];
    if (state === 'opened') {
      reply.message = 'RECONNECT';
      reply.setCookie(name, 'reconnected');
      reply.body = 'data: reconnected\n\n';
    } else if (state === 'reconnected') {
      reply.status = 204;
      reply.message = 'NO CONTENT (CLOSE)';
      reply.deleteCookie(name);
    } else {
      reply.message = 'OPEN';
      reply.setCookie(name, 'opened');
      reply.body = 'retry: 2\ndata: opened\n\n';
    }
  },

  async 'cors-cookie.py'(get, request, reply) {
    const last = request.headers['last-event-id'] ?? '';
    const ident = get.get('ident') ?? 'test';
    const cookie = ident in cookies(request) ? 'COOKIE' : 'NO_COOKIE';
    const origin = get.get('origin') ?? request.headers.origin;
    const credentials = get.get('credentials') ?? 'true';
    if (origin !== 'none') reply.header('Access-Control-Allow-Origin', origin);
    if (credentials !== 'none') reply.header('Access-Control-Allow-Credentials', credentials);
    if (last === '') {
      reply.header('Content-Type', 'text/event-stream');
      reply.setCookie(ident, 'COOKIE');
      reply.body = `id: 1\nretry: 200\ndata: first ${cookie}\n\n`;
    } else if (last === '1') {
      reply.header('Content-Type', 'text/event-stream');
      reply.setCookie(ident, 'COOKIE', 'Fri, 27 Jul 2001 00:00:00 GMT');
      reply.body = `id: 2\ndata: second ${cookie}\n\n`;
    } else {
      reply.header('Content-Type', 'stop');
      reply.body = `data: ${last}${cookie}\n\n`;
    }
  },

  async 'cors.py'(get, request, reply, response, context) {
    reply.header('Access-Control-Allow-Origin', get.get('origin') ?? request.headers.origin);
    reply.header('Access-Control-Allow-Credentials', get.get('credentials') ?? 'true');
    const run = get.get('run');
    if (run === 'cache-control') {
      reply.header('Content-Type', 'text/event-stream');
      const file = readFileSync(join(context.root, 'eventsource/resources/cache-control.event_stream'), 'utf8');
      reply.body = substitute(file, context.env, request);
      return undefined;
    }
    if (run === 'redirect') return redirect(get, request, reply);
    if (run === 'status-reconnect' || run === 'message') {
      return resources[`${run}.py`](get, request, reply, response, context);
    }
    return undefined;
  },
};

/** common/redirect.py. */
function redirect(get, request, reply) {
  reply.status = Number.parseInt(get.get('status') ?? '302', 10) || 302;
  reply.header('Location', get.get('location'));
  if (get.has('enable-cors') && request.headers.origin) {
    reply.header('Content-Type', 'text/plain');
    reply.header('Access-Control-Allow-Origin', request.headers.origin);
    reply.header('Access-Control-Allow-Credentials', 'true');
  }
}

/** A query parameter's bytes as sent (percent-decoded, not UTF-8-decoded). */
function rawParam(request, name) {
  const search = request.url.split('?')[1] ?? '';
  for (const pair of search.split('&')) {
    const at = pair.indexOf('=');
    const key = at === -1 ? pair : pair.slice(0, at);
    if (decodeURIComponent(key) !== name) continue;
    const value = at === -1 ? '' : pair.slice(at + 1).replace(/\+/g, ' ');
    const bytes = [];
    for (let i = 0; i < value.length; i++) {
      if (value[i] === '%' && /^[0-9a-f]{2}$/i.test(value.slice(i + 1, i + 3))) {
        bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(value[i], 'utf8'));
      }
    }
    return Buffer.from(bytes);
  }
  return undefined;
}

export function eventSourceResource(root, env, request, response) {
  const url = new URL(request.url, 'http://x');
  const match = /^\/eventsource\/resources\/([^/]+)$/.exec(url.pathname);
  const path = url.pathname;
  if (path === '/common/redirect.py') {
    const reply = new Reply();
    redirect(url.searchParams, request, reply);
    reply.finish(response);
    return true;
  }
  if (!match) return false;
  const name = match[1];
  if (name.endsWith('.event_stream')) {
    const file = readFileSync(join(root, path), 'utf8');
    const body = url.searchParams.get('pipe') === 'sub' ? substitute(file, env, request) : file;
    response.writeHead(200, { 'content-type': 'text/event-stream' }).end(body);
    return true;
  }
  const resource = resources[name];
  if (!resource) return false;
  const reply = new Reply();
  resource(url.searchParams, request, reply, response, { root, env })
    .then((done) => {
      if (done !== 'streamed' && !response.headersSent) reply.finish(response);
    })
    .catch((error) => {
      console.error('eventsource resource', request.url, error);
      response.destroy();
    });
  return true;
}
