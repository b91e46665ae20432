// System peers: the Debian packages some specs run for real (chromium,
// nginx-light, redis-server, tinyproxy, openssl). A suite that needs one
// calls requirePeer before anything else. On a machine without the peer the
// suite is skipped with one line naming the package to install, and every
// other spec still runs; with ISOSOCKET_REQUIRE_PEERS=1 (.ci/run sets it) the
// same line is a failure, so CI never skips silently.

import type { Test } from 'tap';
import { which } from '../../scripts/which.mjs';

/** The environment variable that turns a missing peer from a skip into a failure. */
export const REQUIRE_PEERS = 'ISOSOCKET_REQUIRE_PEERS';

/**
 * Whether `command` (a name on PATH, or a path) can run. When it cannot, the
 * suite is skipped, naming `debianPackage`, or failed when
 * ISOSOCKET_REQUIRE_PEERS=1; either way the caller returns at once.
 *
 * @example
 * t.test('behind nginx', async (t) => {
 *   if (!requirePeer(t, 'nginx', 'nginx-light')) return;
 *   // ...start nginx
 * });
 */
export function requirePeer(t: Test, command: string, debianPackage: string): boolean {
  if (which(command)) return true;
  const missing = `needs ${command}, not found on PATH: apt-get install ${debianPackage}`;
  if (process.env[REQUIRE_PEERS] === '1') t.fail(`${missing} (${REQUIRE_PEERS}=1 makes this a failure)`);
  else t.plan(0, missing);
  return false;
}
