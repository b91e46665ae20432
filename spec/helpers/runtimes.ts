// Bun and Deno, as the `bun` and `deno` devDependencies install them
// (package.json's allowScripts lets their postinstall put the binary in
// place on `npm ci`): found on PATH, which holds node_modules/.bin under
// `npm test` and `npx tap`, and started once with --version. Where one is
// missing or does not start (an unsupported platform, `npm ci
// --ignore-scripts`) the suite is skipped with one line, or failed under
// ISOSOCKET_REQUIRE_PEERS=1, as for the system peers (require-peer.ts).

import { spawnSync } from 'node:child_process';
import type { Test } from 'tap';
import { which } from '../../scripts/which.mjs';
import { skipWithoutPeer } from './require-peer.js';

export interface Runtime {
  /** The executable. */
  command: string;
  /** As `--version` prints it, e.g. `1.4.5` or `deno 2.9.6 (stable, ...)`: its first line. */
  version: string;
  /** The arguments that run a script with everything allowed (`deno run -A`). */
  run: string[];
}

const RUN: Record<'bun' | 'deno', string[]> = { bun: [], deno: ['run', '-A', '--no-lock'] };

/** `bun` or `deno`, ready to run a script; undefined (the suite skipped) when it cannot be found or started. */
export function startRuntime(t: Test, name: 'bun' | 'deno'): Runtime | undefined {
  const install = `npm ci installs it (the ${name} devDependency)`;
  const command = which(name);
  if (!command) {
    skipWithoutPeer(t, `needs ${name}, not found on PATH: ${install}`);
    return undefined;
  }
  const probe = spawnSync(command, ['--version'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
  });
  const version = probe.stdout?.split('\n')[0]?.trim() ?? '';
  if (probe.status !== 0 || !version) {
    const why = (probe.error?.message ?? probe.stderr ?? '').split('\n')[0]?.trim() || `exit ${probe.status}`;
    skipWithoutPeer(t, `needs ${name}, which does not start (${why}): ${install}`);
    return undefined;
  }
  return { command, version, run: RUN[name] };
}
