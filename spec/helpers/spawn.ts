// Runs an example or a script as a user would (`node file`, `npm run name`),
// reading its output, and kills it (with its children) with the test; and
// runs one spec file as on a machine without the system peers
// (runWithoutPeers): with node (and tap's TypeScript loader) on a PATH that
// holds nothing but node (scripts/without-peers.mjs), and without what tells
// it that it runs under tap's runner, reading its exit code, output and skips.

import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { hidePeers } from '../../scripts/without-peers.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * How to run npm from a spec: the npm that runs `npm test` when there is one
 * (npm_execpath), else the `npm` on PATH.
 */
export const NPM: [string, ...string[]] = process.env.npm_execpath?.endsWith('npm-cli.js')
  ? [process.execPath, process.env.npm_execpath]
  : ['npm'];

export interface Running {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first match of the pattern in the output. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Runs `node file args` in the repository root. */
export function run(t: Test, file: string, args: string[] = [], env: Record<string, string> = {}): Running {
  return start(t, process.execPath, [file, ...args], env);
}

/** Runs `npm run script -- args` in the repository root, as the README says to. */
export function runNpm(t: Test, script: string, args: string[] = [], env: Record<string, string> = {}): Running {
  const [npm, ...prefix] = NPM;
  return start(t, npm, [...prefix, 'run', '--silent', script, '--', ...args], env);
}

function start(t: Test, command: string, args: string[], env: Record<string, string>): Running {
  // A process group of its own, so that npm's children die with it.
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return {
    child,
    output: () => output,
    exited,
    waitFor: async (pattern, ms = 10_000) => {
      const started = Date.now();
      for (;;) {
        const match = output.match(pattern);
        if (match) return match;
        if (child.exitCode !== null || Date.now() - started > ms) {
          throw new Error(`${[command, ...args].join(' ')} did not print ${pattern}; it printed:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

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
