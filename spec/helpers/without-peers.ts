// Runs one spec file as on a machine without the system peers: with node
// (and tap's TypeScript loader) on a PATH that holds nothing but node
// (scripts/without-peers.mjs), and without what tells it that it runs under
// tap's runner. Reads its exit code, its output and its skip lines.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Test } from 'tap';
import { hidePeers } from '../../scripts/without-peers.mjs';
import { ROOT } from './spawn.js';

export interface BareRun {
  code: number | null;
  output: string;
  /** Each `ok N - name # SKIP reason` line, at any depth, as printed. */
  skips: string[];
}

/** Runs `spec` (relative to the repository) with only node on PATH; `env` is added to the child's environment. */
export async function runWithoutPeers(t: Test, spec: string, env: Record<string, string> = {}): Promise<BareRun> {
  const hidden = hidePeers(process.env, ['node']);
  t.teardown(() => rmSync(hidden.dir, { recursive: true, force: true }));
  const inherited = Object.fromEntries(
    Object.entries(hidden.env).filter(([name]) => !/^(TAP|NODE_OPTIONS$)/.test(name)),
  );
  const child = spawn(process.execPath, ['--import=@tapjs/typescript/import', spec], {
    cwd: ROOT,
    env: { ...inherited, TS_NODE_TRANSPILE_ONLY: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output, skips: output.split('\n').filter((line) => /^ *ok \d+ - .* # SKIP /.test(line)) };
}
