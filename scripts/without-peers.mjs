// Runs a command with the system peers hidden, as on a machine with only
// Node: PATH is a fresh directory holding links to a few essentials (node,
// npm, npx, tar, gzip, sh) and nothing else, and the variables that point at a
// browser (CHROMIUM_PATH, FIREFOX_PATH) or make a missing peer a failure
// (ISOSOCKET_REQUIRE_PEERS) are dropped. /usr/bin/chromium cannot be hidden
// by taking /usr/bin off PATH while node lives there too: linking the
// essentials one by one can. .ci/run runs `npm test` this way and requires it
// green; spec/helpers/spawn.ts's runWithoutPeers runs single spec files with only node.
//
// Usage: node scripts/without-peers.mjs <command> [arguments]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { which } from './which.mjs';

/** What `npm test` needs on PATH: node and npm for the scripts, tar and gzip (Debian's Essential packages) for the package spec, sh. */
export const ESSENTIALS = ['node', 'npm', 'npx', 'tar', 'gzip', 'sh'];

/** Every system peer a spec may run, as its command on PATH. */
export const PEER_COMMANDS = ['chromium', 'firefox-esr', 'nginx', 'redis-server', 'tinyproxy', 'microsocks', 'openssl'];

/**
 * A copy of `env` with the peers hidden: PATH is a new directory (made under
 * the system's temporary directory; the caller removes `dir`) with links to
 * `essentials` as found on env's PATH; node is always process.execPath.
 */
export function hidePeers(env = process.env, essentials = ESSENTIALS) {
  const dir = mkdtempSync(join(tmpdir(), 'isosocket-bare-path-'));
  for (const command of essentials) {
    const found = command === 'node' ? process.execPath : which(command, env.PATH);
    if (found) symlinkSync(found, join(dir, command));
  }
  const hidden = Object.fromEntries(
    Object.entries(env).filter(([name]) => !/^(CHROMIUM_PATH|FIREFOX_PATH|ISOSOCKET_REQUIRE_PEERS|PATH)$/.test(name)),
  );
  return { dir, env: { ...hidden, PATH: dir } };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error('usage: node scripts/without-peers.mjs <command> [arguments]');
    process.exit(2);
  }
  const { dir, env } = hidePeers();
  const visible = PEER_COMMANDS.filter((peer) => which(peer, env.PATH));
  if (visible.length > 0) {
    rmSync(dir, { recursive: true, force: true });
    console.error(`without-peers: still on PATH: ${visible.join(' ')}`);
    process.exit(2);
  }
  console.log(`# without the system peers: PATH=${dir} (${ESSENTIALS.join(' ')})`);
  const run = spawnSync(command, args, { env, stdio: 'inherit' });
  rmSync(dir, { recursive: true, force: true });
  if (run.error) console.error(String(run.error));
  process.exit(run.status ?? 1);
}
