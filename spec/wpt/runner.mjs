// The WPT runner: the `*.any.js` (and `.window.js`) tests of websockets/ and
// eventsource/ from /work/shared/wpt (`../shared/wpt` from the repository
// root), for isosocket and for undici as the reference. It starts the servers
// of spec/wpt/server/ once, then forks spec/wpt/child.mjs once per
// implementation, file and variant, `jobs` at a time, each with a timeout
// (WPT's 10 s, 60 s for `timeout=long`, times 2; the child times the harness
// out first, so the subtests that did finish are still reported), and collects
// every subtest's status. compare() holds the results against
// spec/wpt/expectations.json.
//
//   node spec/wpt/runner.mjs [--impl isosocket|undici] [--filter text] [--jobs 2] [--json out.json]
//
// prints one line per file and variant that differs from the expectations and
// exits 1 when any does (isosocket's; undici's are reported, see compare()).
// spec/wpt/table.mjs prints the comparison table; spec/integration/wpt.test.ts
// runs this under tap.
//
// References: https://web-platform-tests.org/writing-tests/testharness.html
// (file name flags, META), https://github.com/nodejs/undici/tree/main/test/wpt.

import { fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServers } from './server/servers.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
/** The repository root. */
export const REPO = resolve(here, '../..');
/**
 * Where the vendored WPT folders are: `../shared/wpt` beside the repository,
 * or ISOSOCKET_WPT_ROOT (a git worktree elsewhere).
 */
export const WPT_ROOT = process.env.ISOSOCKET_WPT_ROOT
  ? resolve(process.env.ISOSOCKET_WPT_ROOT)
  : resolve(REPO, '../shared/wpt');
export const EXPECTATIONS = join(here, 'expectations.json');
export const IMPLEMENTATIONS = ['isosocket', 'undici'];

/** testharness.js statuses, by number. */
export const STATUS = ['PASS', 'FAIL', 'TIMEOUT', 'NOTRUN', 'PRECONDITION_FAILED'];
const HARNESS = ['OK', 'ERROR', 'TIMEOUT', 'PRECONDITION_FAILED'];

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

/**
 * A test file's text: UTF-8, or windows-1252 (latin1 here) for a page that is
 * not UTF-8, as a browser decodes a page without a charset.
 */
function decode(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** META lines: scripts, variants, timeout. */
export function parseMeta(code) {
  const meta = { scripts: [], variants: [], long: false, title: undefined };
  for (const line of code.split('\n')) {
    const m = /^\/\/\s*META:\s*([a-z_]+)=(.*?)\s*$/.exec(line);
    if (!m) {
      if (line.startsWith('//') || line.trim() === '') continue;
      break;
    }
    if (m[1] === 'script') meta.scripts.push(m[2]);
    else if (m[1] === 'variant') meta.variants.push(m[2]);
    else if (m[1] === 'timeout') meta.long = m[2] === 'long';
    else if (m[1] === 'title') meta.title = m[2];
  }
  return meta;
}

/**
 * An .html test's title, variants, timeout and scripts in document order
 * (paths, or `{inline}`), without testharness.js and testharnessreport.js;
 * undefined for a page that does not load testharness.js (a helper page).
 */
export function parseHtml(code) {
  if (!/<script[^>]+src=["']?\/resources\/testharness\.js/i.test(code)) return undefined;
  const title = /<title>([\s\S]*?)<\/title>/i.exec(code)?.[1].trim();
  const variants = [...code.matchAll(/<meta\s+name=["']?variant["']?\s+content=["']([^"']*)["']/gi)].map((m) => m[1]);
  const long = /<meta\s+name=["']?timeout["']?\s+content=["']?long/i.test(code);
  const scripts = [];
  for (const m of code.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/gi)) {
    const src = /src=["']?([^"'\s>]+)/i.exec(m[1])?.[1];
    if (src) {
      if (!/\/resources\/testharness(report)?\.js$/.test(src)) scripts.push(src);
    } else if (m[2].trim()) scripts.push({ inline: m[2] });
  }
  return { title, variants, long, scripts };
}

/** Every test file and variant, as [{file, variant, long, kind, html?}]. */
export function listTests(root = WPT_ROOT) {
  const tests = [];
  for (const folder of ['websockets', 'eventsource']) {
    for (const path of walk(join(root, folder))) {
      const file = relative(root, path);
      const code = () => decode(readFileSync(path));
      if (path.endsWith('.any.js') || path.endsWith('.window.js')) {
        const kind = path.endsWith('.any.js') ? 'any' : 'window';
        const meta = parseMeta(code());
        for (const variant of meta.variants.length ? meta.variants : ['']) {
          tests.push({ file, variant, long: meta.long, kind });
        }
      } else if (/\.html?$/.test(path)) {
        const html = parseHtml(code());
        if (!html) continue;
        for (const variant of html.variants.length ? html.variants : ['']) {
          tests.push({ file, variant, long: html.long, kind: 'html', html });
        }
      }
    }
  }
  return tests;
}

/** The group a file and variant count in, for the table. */
export function groupOf(file, variant) {
  if (file.startsWith('eventsource/')) return 'eventsource';
  return variant.includes('wpt_flags=h2') ? 'websockets h2' : 'websockets';
}

function runOne(impl, test, env, caFile, root) {
  // WPT's timeouts, 10 s and 60 s, times ISOSOCKET_WPT_TIMEOUT_MULTIPLIER (2:
  // the 2 cores CI gives are shared by two tests at a time), as `wpt run
  // --timeout-multiplier` does.
  const timeout = (test.long ? 60_000 : 10_000) * Number(process.env.ISOSOCKET_WPT_TIMEOUT_MULTIPLIER ?? 2);
  const config = { impl, root, file: test.file, variant: test.variant, env, timeout, kind: test.kind, html: test.html };
  return new Promise((resolveRun) => {
    const subtests = [];
    const uncaught = [];
    let harness = 'CRASH';
    let message = null;
    const child = fork(join(here, 'child.mjs'), [JSON.stringify(config)], {
      cwd: REPO,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      if (output.length < 4000) output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      if (output.length < 4000) output += chunk;
    });
    child.on('message', (m) => {
      if (m.type === 'result')
        subtests.push({ name: m.name, status: STATUS[m.status] ?? String(m.status), message: m.message });
      else if (m.type === 'done') {
        harness = HARNESS[m.harness] ?? String(m.harness);
        message = m.message;
      } else if (m.type === 'uncaught') uncaught.push(m.message);
    });
    const kill = setTimeout(() => {
      harness = 'KILLED';
      child.kill('SIGKILL');
    }, timeout + 5_000);
    child.on('exit', () => {
      clearTimeout(kill);
      resolveRun({ impl, ...test, harness, message, subtests, uncaught, output: harness === 'OK' ? '' : output });
    });
  });
}

/**
 * Runs every test (or those whose `file + variant` includes one of the
 * comma-separated `filter`) for
 * each implementation, `jobs` processes at a time; resolves to the runs.
 */
export async function runWpt({ root = WPT_ROOT, impls = IMPLEMENTATIONS, jobs = 2, filter, skip = {}, onRun } = {}) {
  const servers = await startServers(root);
  try {
    const queue = [];
    for (const test of listTests(root)) {
      if (filter && !filter.split(',').some((f) => `${test.file}${test.variant}`.includes(f))) continue;
      if (Object.hasOwn(skip, test.file)) continue;
      for (const impl of impls) queue.push([impl, test]);
    }
    const runs = [];
    const worker = async () => {
      while (queue.length) {
        const [impl, test] = queue.shift();
        const { html: _html, ...run } = await runOne(impl, test, servers.env, servers.caFile, root);
        runs.push(run);
        onRun?.(run);
      }
    };
    await Promise.all(Array.from({ length: jobs }, worker));
    return runs.sort((a, b) => `${a.impl} ${a.file}${a.variant}`.localeCompare(`${b.impl} ${b.file}${b.variant}`));
  } finally {
    await servers.close();
  }
}

/** The subtests of a run that did not pass, with the harness's own failure. */
export function failures(run) {
  const out = {};
  for (const s of run.subtests) if (s.status !== 'PASS') out[s.name] = `${s.status}: ${s.message ?? ''}`;
  if (run.harness !== 'OK') out['(harness)'] = `${run.harness}: ${run.message ?? ''}`.trim();
  return out;
}

/** The expectations file: { notApplicable: {file: reason}, isosocket: {...}, undici: {...} }. */
export function loadExpectations(path = EXPECTATIONS) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * Differences between the runs and the expectations, per implementation:
 * `unexpected` (a failure not listed) and `passed` (listed, and passed). A
 * listed subtest with `"flaky": true` may do either.
 */
export function compare(runs, expectations) {
  const diff = {};
  for (const run of runs) {
    const key = `${run.file}${run.variant}`;
    const expected = expectations[run.impl]?.[key] ?? {};
    const failed = failures(run);
    diff[run.impl] ??= { unexpected: [], passed: [] };
    const d = diff[run.impl];
    for (const [name, detail] of Object.entries(failed)) {
      if (!Object.hasOwn(expected, name)) d.unexpected.push({ key, name, detail });
    }
    for (const [name, why] of Object.entries(expected)) {
      if (Object.hasOwn(failed, name) || why?.flaky) continue;
      d.passed.push({ key, name });
    }
  }
  return diff;
}

/** Passed and total subtests per group and variant, per implementation. */
export function tally(runs) {
  const table = {};
  for (const run of runs) {
    const row = `${groupOf(run.file, run.variant)}\t${run.variant || '(none)'}`;
    table[row] ??= {};
    table[row][run.impl] ??= { pass: 0, total: 0, files: 0, clean: 0 };
    const cell = table[row][run.impl];
    const total = run.subtests.length + (run.harness === 'OK' ? 0 : 1);
    cell.total += total;
    cell.pass += run.subtests.filter((s) => s.status === 'PASS').length;
    cell.files += 1;
    if (Object.keys(failures(run)).length === 0) cell.clean += 1;
  }
  return table;
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name) => {
    const at = args.indexOf(`--${name}`);
    return at === -1 ? undefined : args[at + 1];
  };
  if (!existsSync(WPT_ROOT)) {
    console.log(`# WPT not found at ${WPT_ROOT}`);
    process.exit(0);
  }
  const expectations = loadExpectations();
  const impls = option('impl') ? [option('impl')] : IMPLEMENTATIONS;
  const runs = await runWpt({
    impls,
    jobs: Number(option('jobs') ?? 2),
    filter: option('filter'),
    skip: expectations.notApplicable,
    onRun: (run) => {
      const n = Object.keys(failures(run)).length;
      console.log(`${run.impl.padEnd(9)} ${n ? `${n} failing` : 'ok'.padEnd(9)} ${run.file}${run.variant}`);
    },
  });
  if (option('json')) writeFileSync(option('json'), `${JSON.stringify(runs, null, 1)}\n`);
  const diff = compare(runs, expectations);
  let bad = false;
  for (const [impl, d] of Object.entries(diff)) {
    for (const u of d.unexpected) console.log(`${impl}: unexpected failure ${u.key} :: ${u.name} :: ${u.detail}`);
    for (const p of d.passed) console.log(`${impl}: unexpected pass ${p.key} :: ${p.name}`);
    if (impl === 'isosocket' && (d.unexpected.length || d.passed.length)) bad = true;
  }
  process.exit(bad ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
