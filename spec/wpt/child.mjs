// One WPT test file, one variant, one implementation, in this process (forked
// by spec/wpt/runner.mjs with an IPC channel). The process's own global is
// the test's global, as a worker's would be: testharness.js, the META
// `script=` includes and the test run in it with vm.runInThisContext.
//
// The global gets what a browser's would hold for these tests:
// - `WebSocket`, `CloseEvent`, `EventSource`, `WebSocketStream`,
//   `WebSocketError` from the implementation under test (isosocket's
//   `Client` and `EventSource.Client` from dist/, or undici's);
// - `location` (the test's URL on the http server, variant as the query),
//   `self`, and a `fetch` that resolves relative URLs against it;
// - `setGlobalOrigin(location)` from the implementation, for relative URLs;
// - for `.window.js` and `.html` tests, a minimal `document` after
//   testharness.js has loaded (so the harness stays in its shell mode).
// WPT's names (web-platform.test and its subdomains) resolve to 127.0.0.1
// here: dns.lookup is wrapped for them, which is what WPT's hosts file does.
// For `?wpt_flags=h2`, a browser holding an HTTP/2 connection opens its
// WebSockets on it: isosocket's Client is given `http2: true` through a
// Proxy of the class (every property, the prototype and `new.target` stay
// the class's own), and WebSocketStream the same in its options; undici a
// global dispatcher with `allowH2`.
//
// Messages to the parent: {type:'result', name, status, message},
// {type:'done', harness, message}, {type:'uncaught', message}.
//
// References: https://web-platform-tests.org/writing-tests/testharness-api.html,
// https://github.com/nodejs/undici/blob/main/test/wpt/runner/worker.mjs (the approach).

import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInThisContext } from 'node:vm';

const { impl, root, file, variant, env, timeout, kind, html } = JSON.parse(process.argv[2]);
const HOST_PATTERN = /(^|\.)(not-)?web-platform\.test$/;

const send = (message) => process.send?.(message);
process.on('uncaughtException', (error) => send({ type: 'uncaught', message: String(error?.stack ?? error) }));
process.on('unhandledRejection', () => {});

// WPT's hosts file, for this process.
const lookup = dns.lookup;
dns.lookup = function wptLookup(hostname, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'function' ? {} : typeof options === 'number' ? { family: options } : (options ?? {});
  if (!HOST_PATTERN.test(hostname)) return lookup.call(dns, hostname, options, callback);
  if (opts.all) return process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
  return process.nextTick(cb, null, '127.0.0.1', 4);
};

const flags = new URLSearchParams(variant).getAll('wpt_flags');
const h2 = flags.includes('h2');
// A `.https.` file, or the `https` flag, is served over TLS.
const scheme = file.includes('.https.') || flags.includes('https') ? 'https' : 'http';
const port = env.ports[scheme][0];
const testPath = kind === 'html' ? file : file.replace(/\.(any|window|worker)\.js$/, '.$1.html');
const location = new URL(`/${testPath}${variant}`, `${scheme}://web-platform.test:${port}`);

const api = await loadImplementation();
const props = { writable: true, configurable: true, enumerable: false };
Object.defineProperties(globalThis, {
  self: { ...props, value: globalThis },
  location: { ...props, value: location },
  WebSocket: { ...props, value: api.WebSocket },
  CloseEvent: { ...props, value: api.CloseEvent },
  EventSource: { ...props, value: api.EventSource },
  WebSocketStream: { ...props, value: api.WebSocketStream },
  WebSocketError: { ...props, value: api.WebSocketError },
  GLOBAL: {
    ...props,
    value: { isWindow: () => kind !== 'any', isWorker: () => false, isShadowRealm: () => false },
  },
});
if (kind !== 'any') globalThis.window = globalThis;
// idlharness asks which global it runs in: a window's, as these tests run in
// a page (undici's runner does the same).
globalThis.Window = Object.getPrototypeOf(globalThis).constructor;
const metaTitle = html ? html.title : parseMetaTitle();
if (metaTitle) globalThis.META_TITLE = metaTitle;
const nodeFetch = globalThis.fetch;
globalThis.fetch = (input, init) =>
  nodeFetch(typeof input === 'string' || input instanceof URL ? new URL(input, location) : input, init);
api.setGlobalOrigin(location.href);

async function loadImplementation() {
  if (impl === 'isosocket') {
    const m = await import(pathToFileURL(join(process.cwd(), 'dist/index.mjs')).href);
    let WebSocket = m.Client;
    if (h2) {
      WebSocket = new Proxy(m.Client, {
        construct(target, args, newTarget) {
          if (args.length === 0) return Reflect.construct(target, args, newTarget);
          return Reflect.construct(target, [args[0], args[1], { http2: true }], newTarget);
        },
      });
    }
    let WebSocketStream = m.WebSocketStream;
    if (h2) {
      // A copy of the test's options with http2 added: isosocket reads a
      // dictionary's own properties (the test's getters run once, here).
      WebSocketStream = new Proxy(m.WebSocketStream, {
        construct(target, args, newTarget) {
          const [url, options] = args;
          if (args.length === 0 || (options !== undefined && (typeof options !== 'object' || options === null))) {
            return Reflect.construct(target, args, newTarget);
          }
          const withH2 = { ...options, http2: true };
          return Reflect.construct(target, [url, withH2], newTarget);
        },
      });
    }
    return {
      WebSocket,
      CloseEvent: m.CloseEvent,
      EventSource: m.EventSource.Client,
      WebSocketStream,
      WebSocketError: m.WebSocketError,
      setGlobalOrigin: m.setGlobalOrigin,
    };
  }
  const u = await import('undici');
  if (h2) u.setGlobalDispatcher(new u.Agent({ allowH2: true }));
  return {
    WebSocket: u.WebSocket,
    CloseEvent: u.CloseEvent,
    EventSource: u.EventSource,
    WebSocketStream: u.WebSocketStream,
    WebSocketError: u.WebSocketError,
    setGlobalOrigin: u.setGlobalOrigin,
  };
}

function substitute(text) {
  return text.replace(/\{\{([a-z_]+)(?:\[([^\]]*)\])?(?:\[([^\]]*)\])?\}\}/gi, (match, name, a, b) => {
    if (name === 'host') return 'web-platform.test';
    if (name === 'ports') return String(env.ports[a]?.[Number(b ?? 0)] ?? env.ports[a]?.[0] ?? match);
    if (name === 'hosts') {
      const base = a === '' ? 'web-platform.test' : 'not-web-platform.test';
      return b ? `${b}.${base}` : base;
    }
    if (name === 'domains') return a ? `${a}.web-platform.test` : 'web-platform.test';
    return match;
  });
}

function source(path, from) {
  let resolved;
  if (path === '/resources/WebIDLParser.js') resolved = join(root, 'resources/webidl2/lib/webidl2.js');
  else if (isAbsolute(path)) resolved = join(root, path);
  else resolved = join(dirname(join(root, from)), path);
  const text = readFileSync(resolved, 'utf8');
  return { text: resolved.includes('.sub.') ? substitute(text) : text, filename: resolved };
}

// testharness.js, in its shell environment (no `document` yet).
runInThisContext(readFileSync(join(root, 'resources/testharness.js'), 'utf8'), {
  filename: join(root, 'resources/testharness.js'),
});
globalThis.add_result_callback((test) => {
  send({ type: 'result', name: test.name, status: test.status, message: test.message ?? null });
});
globalThis.add_completion_callback((_tests, status) => {
  send({ type: 'done', harness: status.status, message: status.message ?? null });
  setTimeout(() => process.exit(0), 50);
});
// No harness timeout in the shell environment: ours, then the parent's kill.
setTimeout(() => globalThis.timeout(), timeout);

if (kind !== 'any') installDocument();
const scripts = html?.scripts ?? metaScripts(readFileSync(join(root, file), 'utf8'));
const body = kind === 'html' ? null : source(`/${file}`, file);
// Each script runs on its own, as a page's do: one that throws is reported
// and the next still runs.
const run = (text, filename) => {
  try {
    runInThisContext(text, { filename });
  } catch (error) {
    send({ type: 'uncaught', message: String(error?.stack ?? error) });
  }
};
for (const script of scripts) {
  if (script.inline !== undefined) run(script.inline, `${join(root, file)}#inline`);
  else {
    const { text, filename } = source(script, file);
    run(text, filename);
  }
}
if (body) run(body.text, body.filename);

/**
 * A minimal `document` for .window.js and .html tests, set after
 * testharness.js loaded (so the harness keeps its shell mode): the title,
 * the URL, the cookie string, an empty tree. A test that needs more (frames,
 * elements, navigation) cannot apply to Node and is listed in the
 * expectations file's notApplicable.
 */
function installDocument() {
  const title = metaTitle ?? '';
  const document = {
    title,
    URL: location.href,
    documentURI: location.href,
    domain: location.hostname,
    cookie: '',
    readyState: 'complete',
    // send/010.html sends it and names a subtest after String(document.body).
    body: { [Symbol.toStringTag]: 'HTMLBodyElement' },
    getElementById: () => null,
    getElementsByTagName: (name) => (name === 'title' && title ? [{ firstChild: { data: title } }] : []),
    querySelector: () => null,
    querySelectorAll: () => [],
    addEventListener: () => {},
    removeEventListener: () => {},
  };
  Object.defineProperty(globalThis, 'document', { ...props, value: document });
}

function parseMetaTitle() {
  return /^\/\/\s*META:\s*title=(.*)$/m.exec(readFileSync(join(root, file), 'utf8'))?.[1].trim() ?? '';
}

/** The `// META: script=` lines of an .any.js or .window.js file, in order. */
function metaScripts(code) {
  const scripts = [];
  for (const line of code.split('\n')) {
    const m = /^\/\/\s*META:\s*script=(.+?)\s*$/.exec(line);
    if (m) scripts.push(m[1]);
    else if (!line.startsWith('//') && line.trim() !== '') break;
  }
  return scripts;
}
