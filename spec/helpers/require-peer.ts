// System peers: the Debian packages some specs run for real (chromium,
// firefox-esr, nginx-light, redis-server, tinyproxy, microsocks, openssl).
//
// Calling contract: the helper that STARTS a peer (startRedis, startNginx,
// startTinyproxy, openPage, certificates(t)...) calls requirePeer itself and
// resolves with undefined when the peer is missing, so a spec cannot forget
// the skip: its types make it write `if (!redis) return;`. On a machine
// without the peer the suite is skipped with one line naming the package to
// install, and every other spec still runs; with ISOSOCKET_REQUIRE_PEERS=1
// (.ci/run sets it) the same line is a failure, so CI never skips silently.
// spec/integration/missing-peers.test.ts checks both, and that no spec starts
// a peer by itself.

import type { Test } from 'tap';
import { which } from '../../scripts/which.mjs';

/** The environment variable that turns a missing peer from a skip into a failure. */
export const REQUIRE_PEERS = 'ISOSOCKET_REQUIRE_PEERS';

/**
 * Whether `command` (a name on PATH, or a path) can run. When it cannot, the
 * suite is skipped, naming `debianPackage`, or failed when
 * ISOSOCKET_REQUIRE_PEERS=1; either way the caller returns at once. A suite
 * that has already asserted something records the skip as one skipped
 * assertion (tap cannot plan 0 after an assertion).
 *
 * @example
 * export async function startNginx(t: Test): Promise<{ port: number } | undefined> {
 *   if (!requirePeer(t, 'nginx', 'nginx-light')) return undefined;
 *   // ...start nginx
 * }
 */
export function requirePeer(t: Test, command: string, debianPackage: string): boolean {
  if (which(command)) return true;
  return skipWithoutPeer(t, `needs ${command}, not found on PATH: apt-get install ${debianPackage}`);
}

/**
 * Skips the suite with the one line `missing` (or fails it under
 * ISOSOCKET_REQUIRE_PEERS=1) and returns false: requirePeer's skip, for a
 * helper whose peer is not a Debian package (bun and deno come from npm:
 * spec/helpers/runtimes.ts).
 */
export function skipWithoutPeer(t: Test, missing: string): false {
  if (process.env[REQUIRE_PEERS] === '1') t.fail(`${missing} (${REQUIRE_PEERS}=1 makes this a failure)`);
  else if (t.count === 0) t.plan(0, missing);
  else t.pass('the rest of this suite', { skip: missing });
  return false;
}
