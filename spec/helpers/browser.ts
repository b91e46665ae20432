// Headless Chromium from Debian, driven by playwright-core, for the browser
// parity specs. One browser per spec file, closed with the test.

import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../scripts/chromium.mjs';
import { requirePeer } from './require-peer.js';

/** Skips (or, on CI, fails) the suite when Chromium is missing; see requirePeer. */
export function requireChromium(t: Test): boolean {
  return requirePeer(t, CHROMIUM_PATH, 'chromium');
}

/** Launches Chromium and opens a page at `url` (in a context with `context` options, such as `ignoreHTTPSErrors`). */
export async function openPage(
  t: Test,
  url: string,
  context: BrowserContextOptions = {},
): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  t.teardown(() => browser.close());
  const page = await browser.newPage(context);
  await page.goto(url);
  return { browser, page };
}
