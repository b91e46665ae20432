// The web-platform-tests of websockets/ and eventsource/ (their `.any.js`
// and `.window.js` files, every variant, HTTP/2 included), for isosocket and
// for undici as the reference, through spec/wpt/runner.mjs: one process per
// implementation, file and variant, against Node ports of the WPT handlers.
// Every subtest isosocket fails must be listed in spec/wpt/expectations.json
// with its reason, and every listed one must fail: a new failure or an
// unexpected pass fails this spec. undici's results are printed beside ours
// (the table, docs/wpt.md) and its differences from its own expectations are
// reported, not enforced: they change with undici's version, not ours.
//
// The vendored WPT folders live beside the repository (`../shared/wpt`, as in
// CI; ISOSOCKET_WPT_ROOT elsewhere). Without them the suite is skipped with one
// line, and fails under ISOSOCKET_REQUIRE_PEERS=1 as a missing peer does.
// About 1,000 processes: 6 minutes of CPU in all, so some 3 minutes on 2 idle
// cores (30 on a machine shared with other work).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { REQUIRE_PEERS, requirePeer } from '../helpers/require-peer.js';

const repo = resolve(import.meta.dirname, '../..');
const root = process.env.ISOSOCKET_WPT_ROOT ? resolve(process.env.ISOSOCKET_WPT_ROOT) : resolve(repo, '../shared/wpt');

interface Subtest {
  name: string;
  status: string;
  message: string | null;
}
interface Run {
  impl: string;
  file: string;
  variant: string;
  harness: string;
  message: string | null;
  subtests: Subtest[];
  output: string;
}
type Expected = Record<string, string | { reason: string; flaky?: boolean }>;
interface Expectations {
  notApplicable: Record<string, string>;
  isosocket: Record<string, Expected>;
  undici: Record<string, Expected>;
}

function failures(run: Run): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of run.subtests) if (s.status !== 'PASS') out[s.name] = `${s.status}: ${s.message ?? ''}`;
  if (run.harness !== 'OK') out['(harness)'] = `${run.harness}: ${run.message ?? ''}`.trim();
  return out;
}

if (!existsSync(join(root, 'resources/testharness.js'))) {
  const missing = `needs the WPT folders at ${root} (websockets/, eventsource/, resources/...)`;
  if (process.env[REQUIRE_PEERS] === '1') t.fail(`${missing} (${REQUIRE_PEERS}=1 makes this a failure)`);
  else t.plan(0, missing);
} else {
  // undici, the reference, runs beside us with ISOSOCKET_WPT_UNDICI=1 (`npm
  // run wpt` prints the table): its HTTP/2 variants mostly time out (its
  // WebSocket does not open over HTTP/2), which doubles the suite's time, so
  // npm test runs isosocket's half.
  const withUndici = process.env.ISOSOCKET_WPT_UNDICI === '1';
  t.setTimeout(30 * 60_000);
  t.test(`web-platform-tests, isosocket${withUndici ? ' and undici' : ''}`, { timeout: 30 * 60_000 }, async (t) => {
    // The servers (spec/wpt/server/servers.mjs) make their certificates with openssl.
    if (!requirePeer(t, 'openssl', 'openssl')) return;
    const dir = mkdtempSync(join(tmpdir(), 'isosocket-wpt-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'runs.json');
    const code = await new Promise<number | null>((done) => {
      const filter = process.env.ISOSOCKET_WPT_FILTER ? ['--filter', process.env.ISOSOCKET_WPT_FILTER] : [];
      const impl = withUndici ? [] : ['--impl', 'isosocket'];
      const child = spawn(process.execPath, ['spec/wpt/runner.mjs', '--jobs', '2', '--json', out, ...impl, ...filter], {
        cwd: repo,
        env: { ...process.env, ISOSOCKET_WPT_ROOT: root, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout.resume();
      child.on('exit', (status) => done(status));
    });
    t.ok(existsSync(out), `the runner wrote its results (exit ${code})`);
    const runs: Run[] = JSON.parse(readFileSync(out, 'utf8'));
    const expectations: Expectations = JSON.parse(readFileSync(join(repo, 'spec/wpt/expectations.json'), 'utf8'));
    const table = await import(join(repo, 'spec/wpt/table.mjs'));
    t.comment(`\n${table.table(runs)}`);

    // Every file and variant ran, for both implementations.
    const ran = new Set(runs.map((r) => `${r.impl} ${r.file}${r.variant}`));
    // ISOSOCKET_WPT_FILTER (comma-separated parts of `file?variant`) runs a few, while working on them.
    if (!process.env.ISOSOCKET_WPT_FILTER) t.ok(runs.length > (withUndici ? 900 : 450), `${runs.length} runs`);
    for (const impl of process.env.ISOSOCKET_WPT_FILTER ? [] : withUndici ? ['isosocket', 'undici'] : ['isosocket']) {
      t.ok(
        runs.some((r) => r.impl === impl && r.variant === '?wpt_flags=h2'),
        `${impl} ran the HTTP/2 variants`,
      );
    }

    for (const run of runs.filter((r) => r.impl === 'isosocket')) {
      const key = `${run.file}${run.variant}`;
      const expected = expectations.isosocket[key] ?? {};
      const failed = failures(run);
      const unexpected = Object.keys(failed).filter((name) => !Object.hasOwn(expected, name));
      const passed = Object.entries(expected)
        .filter(([name, why]) => !Object.hasOwn(failed, name) && !(typeof why === 'object' && why.flaky))
        .map(([name]) => name);
      t.same(
        { unexpected: unexpected.map((name) => `${name} :: ${failed[name]}`), passed },
        { unexpected: [], passed: [] },
        `isosocket ${key}: as expected (${run.subtests.length} subtests)${run.output ? `\n${run.output}` : ''}`,
      );
    }
    if (!process.env.ISOSOCKET_WPT_FILTER) {
      for (const key of Object.keys(expectations.isosocket)) {
        t.ok(ran.has(`isosocket ${key}`), `expectations name a file and variant that ran: ${key}`);
      }
    }

    // undici, the reference: reported beside ours.
    for (const run of runs.filter((r) => r.impl === 'undici')) {
      const key = `${run.file}${run.variant}`;
      const expected = expectations.undici[key] ?? {};
      const failed = failures(run);
      for (const name of Object.keys(failed)) {
        if (!Object.hasOwn(expected, name)) t.comment(`undici: new failure ${key} :: ${name} :: ${failed[name]}`);
      }
      for (const name of Object.keys(expected)) {
        if (!Object.hasOwn(failed, name)) t.comment(`undici: now passes ${key} :: ${name}`);
      }
    }
  });
}
