// The demo as people use it: `npm start`'s server, the page in Chromium with
// the browser's own WebSocket and EventSource, and `npm run demo:client` in a
// terminal, chatting with each other, and chatting again after the server
// restarts (chat.mjs reconnects with backoff, in the page and in Node alike).

import type { Page } from 'playwright-core';
import t from 'tap';

declare const document: { getElementById(id: string): { textContent: string | null } | null };

import { openPage } from '../helpers/browser.js';
import { freePort } from '../helpers/listen.js';
import { run, runNpm } from '../helpers/spawn.js';

const STARTED = /isosocket demo on http:\/\/127\.0\.0\.1:(\d+)\//;

/** Resolves when the page's chat log contains `text` at least `times` times; fails after 15 s. */
async function logShows(page: Page, text: string, times = 1): Promise<void> {
  await page.waitForFunction(
    ([text, times]) => (document.getElementById('log')?.textContent?.split(text).length ?? 0) > times,
    [text, times] as const,
    { timeout: 15_000 },
  );
}

t.test('the demo page and the terminal client chat with each other', async (t) => {
  const server = run(t, 'examples/demo/server.mjs', [], { PORT: '0' });
  const [, port] = await server.waitFor(STARTED);
  const base = `http://127.0.0.1:${port}`;
  const opened = await openPage(t, `${base}/?name=browser`);
  if (!opened) return;
  const { page } = opened;
  await page.waitForFunction(() => /\d\d:\d\d:\d\d/.test(document.getElementById('clock')?.textContent ?? ''));
  await logShows(page, 'connected as browser');

  const terminal = runNpm(t, 'demo:client', [base, 'terminal'], { LINGER_MS: '3000' });
  await terminal.waitFor(/\[status\] connected as terminal/);
  await logShows(page, 'terminal joined');

  await page.fill('#text', 'hello from Chromium');
  await page.click('button');
  await terminal.waitFor(/\[chat\] browser: hello from Chromium/);

  terminal.child.stdin?.write('hello from the terminal\n');
  await logShows(page, 'terminal: hello from the terminal');
  t.pass('messages crossed both ways, and the SSE clock and join feed reached the page');
});

t.test('after a server restart, the page and npm run demo:client reconnect and chat again', async (t) => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const first = run(t, 'examples/demo/server.mjs', [], { PORT: String(port) });
  await first.waitFor(STARTED);
  const opened = await openPage(t, `${base}/?name=browser`);
  if (!opened) return;
  const { page } = opened;
  await logShows(page, 'connected as browser');
  t.match(await page.textContent('#reconnect'), /reconnects by itself with backoff/, 'the page says so');
  const terminal = runNpm(t, 'demo:client', [base, 'terminal']);
  await terminal.waitFor(/\[status\] connected as terminal/);

  // Ctrl-C: both chat sockets are closed with 1001 (going away), and the
  // server exits 0.
  first.child.kill('SIGINT');
  t.equal(await first.exited, 0, 'the first server shut down');
  await logShows(page, 'chat closed (1001), reconnecting in');
  await terminal.waitFor(/\[status\] chat closed \(1001\), reconnecting in/);

  // Said while the server is down: kept, and sent once the chat is back.
  await page.fill('#text', 'typed in Chromium while the server was down');
  await page.click('button');
  terminal.child.stdin?.write('typed in the terminal while the server was down\n');
  await terminal.waitFor(/\[status\] not connected: sending once the chat is open/);

  const second = run(t, 'examples/demo/server.mjs', [], { PORT: String(port) });
  await second.waitFor(STARTED);
  await logShows(page, 'connected as browser', 2);
  await terminal.waitFor(/connected as terminal[\s\S]*connected as terminal/, 15_000);
  await logShows(page, 'browser: typed in Chromium while the server was down');
  await terminal.waitFor(/\[chat\] terminal: typed in the terminal while the server was down/);

  await page.fill('#text', 'hello again from Chromium');
  await page.click('button');
  await terminal.waitFor(/\[chat\] browser: hello again from Chromium/);
  terminal.child.stdin?.write('hello again from the terminal\n');
  await logShows(page, 'terminal: hello again from the terminal');
  t.pass('both reconnected to the new server and chat crossed both ways');
});
