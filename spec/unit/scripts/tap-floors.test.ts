// scripts/tap.mjs as `npm test` runs it, on a throwaway project whose one
// spec covers less than its .taprc floors: on a machine without the system
// peers the floors are not enforced and nothing says ERROR (tap prints
// `ERROR: incomplete ... coverage` for a missed floor even under
// --allow-incomplete-coverage, so the script passes floors of 0); under
// ISOSOCKET_REQUIRE_PEERS=1 the same run fails, naming the floor.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { hidePeers } from '../../../scripts/without-peers.mjs';
import { ROOT } from '../../helpers/spawn.js';

// Two runs of tap itself, each with coverage.
t.setTimeout(240_000);

async function runTapScript(
  t: Test,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const project = mkdtempSync(join(tmpdir(), 'isosocket-floors-'));
  t.teardown(() => rmSync(project, { recursive: true, force: true }));
  symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
  writeFileSync(join(project, 'package.json'), '{ "name": "floors", "private": true, "type": "module" }\n');
  writeFileSync(
    join(project, '.taprc'),
    'include:\n  - "*.test.mjs"\nstatements: 99\nlines: 99\nbranches: 99\nfunctions: 99\ncoverage-report:\n  - text-summary\n',
  );
  writeFileSync(join(project, 'half.mjs'), 'export const f = (x) => (x ? 1 : 2);\nexport const g = () => 3;\n');
  writeFileSync(
    join(project, 'half.test.mjs'),
    "import t from 'tap';\nimport { f } from './half.mjs';\nt.equal(f(1), 1);\n",
  );
  const hidden = hidePeers(process.env, ['node']);
  t.teardown(() => rmSync(hidden.dir, { recursive: true, force: true }));
  // Nothing of the tap run this spec is part of.
  const inherited = Object.fromEntries(
    Object.entries(hidden.env).filter(([name]) => !/^(TAP|NODE_OPTIONS$|NODE_V8_COVERAGE$|_TAPJS)/.test(name)),
  );
  const child = spawn(process.execPath, [join(ROOT, 'scripts/tap.mjs')], {
    cwd: project,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output };
}

t.test('without the peers: "not enforced", the coverage summary, no ERROR, and a pass', async (t) => {
  const { code, output } = await runTapScript(t);
  t.equal(code, 0, 'passes', { output });
  t.match(output, /^# coverage floors not enforced: apt-get install chromium nginx-light /m);
  t.match(output, /Functions {4}: 50% \( 1\/2 \)/, 'the summary is still printed');
  t.notMatch(output, /ERROR/);
});

t.test('with ISOSOCKET_REQUIRE_PEERS=1 the floors are enforced: ERROR and a failure', async (t) => {
  const { code, output } = await runTapScript(t, { ISOSOCKET_REQUIRE_PEERS: '1' });
  t.equal(code, 1, 'fails', { output });
  t.match(output, /# ERROR: incomplete functions coverage \(50%\)/);
  t.notMatch(output, /not enforced/);
});
