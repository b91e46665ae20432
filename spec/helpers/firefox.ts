// Headless Firefox ESR from Debian, driven over WebDriver BiDi by
// puppeteer-core, for the browser specs that compare a second engine with
// Chromium (spec/helpers/browser.ts). One browser per call, closed with the
// test. `page.evaluate` runs a function or source text in the page, as
// playwright's does, so a scenario written for Chromium runs here unchanged.
//
// References:
// - W3C WebDriver BiDi
// - Puppeteer docs, "WebDriver BiDi support" (`browser: 'firefox'`, `protocol: 'webDriverBiDi'`)

import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Test } from 'tap';
import { which } from '../../scripts/which.mjs';
import { requirePeer } from './require-peer.js';

/** FIREFOX_PATH picks the binary; otherwise Debian's /usr/bin/firefox-esr, or `firefox-esr` on PATH. */
export const FIREFOX_PATH =
  process.env.FIREFOX_PATH ?? which('/usr/bin/firefox-esr') ?? which('firefox-esr') ?? 'firefox-esr';

/** Skips (or, with ISOSOCKET_REQUIRE_PEERS=1, fails) the suite when Firefox ESR is missing; see requirePeer. */
export function requireFirefox(t: Test): boolean {
  return requirePeer(t, FIREFOX_PATH, 'firefox-esr');
}

/** Launches headless Firefox ESR and opens a page at `url`; both are closed in t.teardown. */
export async function openFirefoxPage(t: Test, url: string): Promise<{ browser: Browser; page: Page }> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX_PATH,
    headless: true,
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(url);
  return { browser, page };
}
