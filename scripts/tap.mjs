// Runs tap for `npm test`. The coverage floors in .taprc are measured with
// every system peer installed; on a machine without one, the suites that need
// it skip (spec/helpers/require-peer.ts) and coverage drops below the floors
// for that reason alone. There the floors are not enforced: one line says so
// and which Debian packages would enforce them, and tap gets floors of 0
// (UNENFORCED), since it prints `ERROR: incomplete ... coverage` for a floor
// it misses even under --allow-incomplete-coverage. With
// ISOSOCKET_REQUIRE_PEERS=1 (.ci/run) they are always enforced.
//
// Usage: node scripts/tap.mjs [tap arguments]
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHROMIUM_PATH } from './chromium.mjs';
import { FIREFOX_PATH } from './firefox.mjs';
import { which } from './which.mjs';

/** Each system peer's command and its Debian package. */
export const PEERS = [
  [CHROMIUM_PATH, 'chromium'],
  ['nginx', 'nginx-light'],
  ['redis-server', 'redis-server'],
  ['tinyproxy', 'tinyproxy'],
  ['openssl', 'openssl'],
  [FIREFOX_PATH, 'firefox-esr'],
  ['microsocks', 'microsocks'],
];

/**
 * The extra tap arguments and the line to print: none when every peer is
 * found or ISOSOCKET_REQUIRE_PEERS=1, else `--allow-incomplete-coverage` and
 * the packages to install.
 */
export function coverageGate(env = process.env, found = which) {
  const missing = PEERS.filter(([command]) => !found(command)).map(([, debianPackage]) => debianPackage);
  if (missing.length === 0 || env.ISOSOCKET_REQUIRE_PEERS === '1') return { args: [], line: undefined };
  return {
    args: ['--allow-incomplete-coverage'],
    line: `# coverage floors not enforced: apt-get install ${missing.join(' ')} to run every suite`,
  };
}

/** Floors of 0 for tap's command line, which wins over .taprc: nothing to report as an ERROR. */
export const UNENFORCED = ['--statements=0', '--lines=0', '--branches=0', '--functions=0'];

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const gate = coverageGate();
  if (gate.line) console.log(gate.line);
  const bin = fileURLToPath(new URL('../node_modules/.bin/tap', import.meta.url));
  const floors = gate.args.length > 0 ? UNENFORCED : [];
  const tap = spawnSync(bin, [...process.argv.slice(2), ...gate.args, ...floors], { stdio: 'inherit' });
  process.exit(tap.status ?? 1);
}
