// Runs tap for `npm test`. The coverage floors in .taprc are measured with
// every system peer installed; on a machine without one, the suites that need
// it skip (spec/helpers/require-peer.ts) and coverage drops below the floors
// for that reason alone. There the floors are reported but not enforced, and
// one line says which Debian packages would enforce them. With
// ISOSOCKET_REQUIRE_PEERS=1 (.ci/run) they are always enforced.
//
// Usage: node scripts/tap.mjs [tap arguments]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH } from './chromium.mjs';
import { which } from './which.mjs';

const peers = [
  [CHROMIUM_PATH, 'chromium'],
  ['nginx', 'nginx-light'],
  ['redis-server', 'redis-server'],
  ['tinyproxy', 'tinyproxy'],
  ['openssl', 'openssl'],
];
const missing = peers.filter(([command]) => !which(command)).map(([, debianPackage]) => debianPackage);
const args = process.argv.slice(2);
if (missing.length > 0 && process.env.ISOSOCKET_REQUIRE_PEERS !== '1') {
  console.log(`# coverage floors not enforced: apt-get install ${missing.join(' ')} to run every suite`);
  args.push('--allow-incomplete-coverage');
}
const bin = fileURLToPath(new URL('../node_modules/.bin/tap', import.meta.url));
const tap = spawnSync(bin, args, { stdio: 'inherit' });
process.exit(tap.status ?? 1);
