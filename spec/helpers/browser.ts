// Real browsers from Debian for the browser specs: headless Chromium driven
// by playwright-core, and Firefox ESR driven by puppeteer-core over WebDriver
// BiDi. One browser per call, closed with the test. Each opener skips the
// suite (or fails it, under ISOSOCKET_REQUIRE_PEERS=1) when its browser is
// missing, and then resolves with undefined: see require-peer.ts.

import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import type { Browser as FirefoxBrowser, Page as FirefoxPage } from 'puppeteer-core';
import type { Test } from 'tap';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../scripts/chromium.mjs';
import { FIREFOX_PATH } from '../../scripts/firefox.mjs';
import { requirePeer } from './require-peer.js';

/** Skips (or, on CI, fails) the suite when Chromium is missing; see requirePeer. */
export function requireChromium(t: Test): boolean {
  return requirePeer(t, CHROMIUM_PATH, 'chromium');
}

/** Skips (or, on CI, fails) the suite when Firefox ESR is missing; see requirePeer. */
export function requireFirefox(t: Test): boolean {
  return requirePeer(t, FIREFOX_PATH, 'firefox-esr');
}

/**
 * Launches Chromium and opens a page at `url` (in a context with `context`
 * options, such as `ignoreHTTPSErrors`); undefined when Chromium is missing.
 *
 * @example
 * const opened = await openPage(t, `http://127.0.0.1:${port}/`);
 * if (!opened) return; // skipped: Chromium is not installed
 */
export async function openPage(
  t: Test,
  url: string,
  context: BrowserContextOptions = {},
): Promise<{ browser: Browser; page: Page } | undefined> {
  if (!requireChromium(t)) return undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  t.teardown(() => browser.close());
  const page = await browser.newPage(context);
  await page.goto(url);
  return { browser, page };
}

/**
 * Launches Firefox ESR (puppeteer-core, WebDriver BiDi) and opens a page at
 * `url`; undefined when Firefox is missing.
 */
export async function openFirefoxPage(
  t: Test,
  url: string,
): Promise<{ browser: FirefoxBrowser; page: FirefoxPage } | undefined> {
  if (!requireFirefox(t)) return undefined;
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX_PATH, headless: true });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(url);
  return { browser, page };
}
