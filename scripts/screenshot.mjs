// Takes the README's screenshot of the demo: starts the demo server, opens
// the page in headless Chromium, has a terminal client and the page chat,
// and writes docs/demo.png.
//
//   npm run screenshot
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.mjs';

const server = spawn(process.execPath, ['examples/demo/server.mjs'], {
  env: { ...process.env, PORT: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise((resolve) =>
  server.stdout.on('data', (chunk) => {
    const match = /demo on (http:\/\/[^/]+)\//.exec(String(chunk));
    if (match) resolve(match[1]);
  }),
);
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 620 } });
  await page.goto(`${base}/?name=ada`);
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('connected as ada'));
  const terminal = spawn(process.execPath, ['examples/demo/client.mjs', base, 'grace'], {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('grace joined'));
  terminal.stdin.write('Hello from a Node terminal, same chat code as the page.\n');
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('grace: Hello'));
  await page.fill('#text', 'And hello back from Chromium!');
  await page.click('button');
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('ada: And hello'));
  await page.waitForTimeout(1200);
  mkdirSync('docs', { recursive: true });
  await page.screenshot({ path: 'docs/demo.png' });
  terminal.kill();
  console.log('wrote docs/demo.png');
} finally {
  await browser.close();
  server.kill();
}
