// Runs an example or a script as a user would (`node file`, `npm run name`),
// reading its output, and kills it (with its children) with the test.

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';

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
