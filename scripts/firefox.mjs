// How the specs find Debian's Firefox ESR: FIREFOX_PATH picks the binary;
// otherwise `firefox-esr` on PATH (Debian's package installs
// /usr/bin/firefox-esr).
import { which } from './which.mjs';

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? which('firefox-esr') ?? 'firefox-esr';
