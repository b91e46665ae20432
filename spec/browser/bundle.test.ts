// One import for Node and the browser: a client script that imports
// 'isosocket' (spec/fixtures/browser-client.mjs) is bundled by esbuild for
// the browser, where the `browser` export condition resolves the package to
// dist/browser.mjs (the platform's own WebSocket, EventSource, CloseEvent...).
// The bundle must import nothing from Node and stay small; loaded in
// Chromium and Firefox ESR it must record the same event trace as the same
// script run in Node on isosocket, against one isosocket server on 127.0.0.1.
//
// References:
// - Node.js docs, "Packages: conditional exports", "Self-referencing a package using its name"
// - esbuild docs, "Build API: conditions, nodePaths, platform"

import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import t, { type Test } from 'tap';
import WebSocket, { EventSource } from '../../dist/index.mjs';
import { openFirefoxPage, openPage, requireChromium, requireFirefox } from '../helpers/browser.js';
import { freePort, listen } from '../helpers/listen.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = join(ROOT, 'spec/fixtures/browser-client.mjs');

interface Base {
  ws: string;
  http: string;
  refused: string;
}
interface ClientScript {
  trace(base: Base): Promise<string[]>;
  names(): Record<string, unknown>;
}

/** A directory whose node_modules/isosocket is this repository, as an installed package is. */
function installed(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'isosocket-bundle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(ROOT, join(dir, 'isosocket'), 'dir');
  return dir;
}

/** Bundles `entry` (a path or inline source) for the browser, minified, resolving 'isosocket' by its export conditions. */
async function bundle(
  nodeModules: string,
  entry: { path: string } | { contents: string },
  globalName?: string,
  options: BuildOptions = { platform: 'browser' },
) {
  const result = await build({
    ...('path' in entry
      ? { entryPoints: [entry.path] }
      : { stdin: { contents: entry.contents, resolveDir: ROOT, loader: 'js' as const } }),
    bundle: true,
    ...options,
    format: 'iife',
    ...(globalName ? { globalName } : {}),
    minify: true,
    write: false,
    metafile: true,
    // Not the repository's own node_modules: 'isosocket' is found only here.
    nodePaths: [nodeModules],
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text ?? '';
  const inputs = Object.keys(result.metafile.inputs).map((file) => relative(ROOT, resolve(ROOT, file)));
  return { code, inputs };
}

t.test('a browser bundle of a client', async (t) => {
  const nodeModules = installed(t);

  t.test('resolves isosocket to dist/browser.mjs and imports nothing from Node', async (t) => {
    const { code, inputs } = await bundle(nodeModules, { path: FIXTURE }, 'client');
    t.same(
      inputs.filter((file) => !file.startsWith('spec/')),
      ['dist/browser.mjs'],
      'the only package file in the bundle is the browser entry',
    );
    t.notMatch(code, /\bnode:|\brequire\(|\bprocess\b|\bBuffer\b/, 'no node: import, require, process or Buffer');
  });

  t.test('for a worker (the `worker` condition, no `browser`), resolves it to dist/browser.mjs too', async (t) => {
    const { inputs } = await bundle(nodeModules, { path: FIXTURE }, 'client', {
      platform: 'neutral',
      conditions: ['worker'],
    });
    t.same(
      inputs.filter((file) => !file.startsWith('spec/')),
      ['dist/browser.mjs'],
    );
  });

  t.test('the client part of the package is under 2 KB minified', async (t) => {
    // Everything the entry has: the default export carries every other name.
    const { code } = await bundle(nodeModules, {
      contents: "import WebSocket from 'isosocket'; globalThis.isosocket = WebSocket;",
    });
    t.ok(code.length < 2048, `${code.length} bytes minified`);
  });

  t.test('has the names of the Node entry, each constructor or function as there', async (t) => {
    const browser = await import(pathToFileURL(join(ROOT, 'dist/browser.mjs')).href);
    const node = await import(pathToFileURL(join(ROOT, 'dist/index.mjs')).href);
    t.same(Object.keys(browser).sort(), Object.keys(node).sort(), 'the same named exports');
    for (const name of Object.keys(node)) {
      t.equal(typeof browser[name], typeof node[name], `${name} is a ${typeof node[name]}`);
    }
    // Static functions and attached classes, enumerable or not.
    const functions = (value: object) =>
      Object.getOwnPropertyNames(value)
        .filter((key) => typeof Reflect.get(value, key) === 'function')
        .sort();
    t.same(functions(browser.default), functions(node.default), 'the same functions on the default export');
    t.same(functions(browser.EventSource), functions(node.EventSource), 'the same functions on EventSource');
  });
});

t.test('the bundled script in Chromium and Firefox ESR gives the trace the same script gives in Node', async (t) => {
  const nodeModules = installed(t);
  const { code } = await bundle(nodeModules, { path: FIXTURE }, 'client');

  const server = http.createServer((request, response) => {
    if (request.url === '/client.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
    } else if (request.url === '/events' && EventSource.isEventSource(request)) {
      const source = new EventSource(request, response);
      source.send('one', { id: '1' });
    } else {
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<!doctype html><meta charset="utf-8"><script src="/client.js"></script>');
    }
  });
  server.on('upgrade', (request, socket, head) => {
    if (!WebSocket.isWebSocket(request)) return socket.destroy();
    const ws = new WebSocket(request, socket, head);
    if (request.url === '/server-closes') ws.onopen = () => ws.close(4001, 'server bye');
    else ws.onmessage = (e) => ws.send(e.data);
  });
  const port = await listen(t, server);
  const base: Base = {
    ws: `ws://127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port}`,
    refused: `ws://127.0.0.1:${await freePort()}/`,
  };

  const script = (await import(pathToFileURL(FIXTURE).href)) as ClientScript;
  const inNode = await script.trace(base);
  t.same(
    inNode,
    [
      'open 1 true',
      'message 1 hello ☃',
      'message 1 bytes 1,2,3',
      'close 3 true 4000 bye ☃ true',
      'open 1 true',
      'close 3 true 4001 server bye true',
      'error 3 error',
      'close 3 true 1006  false',
      'open 1',
      'message one 1',
      'closed 2',
    ],
    'Node: echo, server close, refused connection, event stream',
  );

  const serverSide = (name: string, instead: string) =>
    `isosocket: the server-side ${name} needs Node.js; in a browser use ${instead}.Client (the browser's ${instead})`;
  const expected = (webSocketStream: string) => ({
    WebSocket: serverSide('WebSocket', 'WebSocket'),
    EventSource: serverSide('EventSource', 'EventSource'),
    isWebSocket: serverSide('WebSocket', 'WebSocket'),
    RedisChannelStore: serverSide('RedisChannelStore', 'EventSource'),
    setGlobalOrigin:
      "isosocket: setGlobalOrigin is for Node.js; in a browser relative URLs resolve against the page's URL",
    getGlobalOrigin: `${base.http}/`,
    platform: [true, true, true, true, true],
    WebSocketStream: webSocketStream,
  });
  const engines = [
    {
      name: 'Chromium',
      available: requireChromium,
      open: async (t: Test, url: string) => {
        const opened = await openPage(t, url);
        if (!opened) throw new Error('Chromium was checked for just before');
        const { page } = opened;
        return (source: string): Promise<unknown> => page.evaluate(source);
      },
    },
    {
      name: 'Firefox ESR',
      available: requireFirefox,
      open: async (t: Test, url: string) => {
        const opened = await openFirefoxPage(t, url);
        if (!opened) throw new Error('Firefox was checked for just before');
        const { page } = opened;
        return (source: string): Promise<unknown> => page.evaluate(source);
      },
    },
  ] as const;
  for (const engine of engines) {
    t.test(engine.name, async (t) => {
      if (!engine.available(t)) return;
      const evaluate = await engine.open(t, `${base.http}/`);
      const inBrowser = await evaluate(`client.trace(${JSON.stringify(base)})`);
      t.same(inBrowser, inNode, `${engine.name}: ${JSON.stringify(inBrowser)}`);
      // Chromium 124+ has WebSocketStream, and it is the platform's; Firefox
      // ESR 153 has none, and constructing isosocket's says so.
      const hasStream = await evaluate("typeof WebSocketStream === 'function'");
      t.comment(`${engine.name} ${hasStream ? 'has' : 'has no'} WebSocketStream`);
      t.same(
        await evaluate('client.names()'),
        expected(
          hasStream
            ? "the platform's: true"
            : "isosocket: this platform has no WebSocketStream; use WebSocket.Client (the browser's WebSocket)",
        ),
        "the client names are the platform's classes; the server-side ones throw a clear error",
      );
    });
  }
});
