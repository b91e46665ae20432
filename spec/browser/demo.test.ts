// The demo as people use it: `npm start`'s server, the page in Chromium with
// the browser's own WebSocket and EventSource, and `npm run demo:client` in a
// terminal, chatting with each other.

import t from 'tap';

declare const document: { getElementById(id: string): { textContent: string | null } | null };

import { openPage, requireChromium } from '../helpers/browser.js';
import { run } from '../helpers/spawn.js';

t.test('the demo page and the terminal client chat with each other', async (t) => {
  if (!requireChromium(t)) return;
  const server = run(t, 'examples/demo/server.mjs', [], { PORT: '0' });
  const [, port] = await server.waitFor(/localhost:(\d+)/);
  const base = `http://127.0.0.1:${port}`;
  const { page } = await openPage(t, `${base}/?name=browser`);
  await page.waitForFunction(() => /\d\d:\d\d:\d\d/.test(document.getElementById('clock')?.textContent ?? ''));
  await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('connected as browser'));

  const terminal = run(t, 'examples/demo/client.mjs', [base, 'terminal'], { LINGER_MS: '3000' });
  await terminal.waitFor(/\[status\] connected as terminal/);
  await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('terminal joined'));

  await page.fill('#text', 'hello from Chromium');
  await page.click('button');
  await terminal.waitFor(/\[chat\] browser: hello from Chromium/);

  terminal.child.stdin?.write('hello from the terminal\n');
  await page.waitForFunction(() =>
    document.getElementById('log')?.textContent?.includes('terminal: hello from the terminal'),
  );
  t.pass('messages crossed both ways, and the SSE clock and join feed reached the page');
});
