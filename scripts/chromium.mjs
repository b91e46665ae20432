// How isosocket starts Debian's Chromium, headless, on machines without a
// network: shared by the browser specs and the screenshot script.
// CHROMIUM_PATH picks the binary; otherwise `chromium` on PATH (Debian's
// package installs /usr/bin/chromium).
import { which } from './which.mjs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? which('chromium') ?? 'chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
