// `node bench/import.mjs`: what loading each package costs, isosocket beside
// ws, undici, faye-websocket and eventsource (and websocket-driver alone, the
// dependency only isosocket's server 101 needs). Each figure is the median
// of IMPORT_RUNS fresh processes (default 11), each timing one `require()`
// or one `import()` of one package from a cold module cache (Node's own
// start-up is not counted), with min and max. Run `npm run build` first:
// isosocket is loaded from dist/, as a user loads it.
//
// It also lists, for isosocket, whether websocket-driver, http-parser-js and
// node:http2 were loaded by the import alone (process.moduleLoadList names
// the built-in modules Node has loaded; require.cache the packages).
//
// Wall time is what a user waits; CPU time (process.cpuUsage across the
// load) is shown beside it because it moves less on a busy machine.
//
// Output: a table on stdout, and with --json the figures as JSON (the lead's
// bench/run.mjs may fold them into bench/results.json).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.IMPORT_RUNS ?? 11);
const PACKAGES = ['isosocket', 'ws', 'undici', 'faye-websocket', 'eventsource', 'websocket-driver'];

// One cold load in a fresh process; prints JSON { ms, modules }. The probe
// runs from the package root, so `isosocket` resolves to this build by its
// own "exports" (self-reference), as `import`/`require` resolve it for a user.
const probe = (how, name) => `
const { performance } = require('node:perf_hooks');
const cpu = process.cpuUsage();
const start = performance.now();
const done = () => {
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const files = Object.keys(require.cache);
  const modules = {
    'websocket-driver': files.some((f) => f.includes('/websocket-driver/')),
    'http-parser-js': files.some((f) => f.includes('/http-parser-js/')),
    'node:http2': process.moduleLoadList.includes('NativeModule http2'),
  };
  process.stdout.write(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, modules }));
};
if (${JSON.stringify(how)} === 'require') { require(${JSON.stringify(name)}); done(); }
else import(${JSON.stringify(name)}).then(done);
`;

function once(how, name) {
  // The probe is CommonJS (-e), so require.cache sees what import() loaded
  // through CommonJS too (isosocket's ESM entry wraps its CommonJS build).
  const out = execFileSync(process.execPath, ['-e', probe(how, name)], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Round-robin: run i of every package and mode before run i+1 of any, so
// that a busy moment on the machine lands on all of them alike.
const results = {};
for (const name of PACKAGES) {
  results[name] = { require: { runs: [], cpuRuns: [] }, import: { runs: [], cpuRuns: [] } };
}
for (let i = 0; i < RUNS; i++) {
  for (const name of PACKAGES) {
    for (const how of ['require', 'import']) {
      const result = once(how, name);
      results[name][how].runs.push(result.ms);
      results[name][how].cpuRuns.push(result.cpuMs);
      results[name][how].modules = result.modules;
    }
  }
}
for (const name of PACKAGES) {
  for (const how of ['require', 'import']) {
    const r = results[name][how];
    Object.assign(r, {
      median: median(r.runs),
      min: Math.min(...r.runs),
      max: Math.max(...r.runs),
      cpuMedian: median(r.cpuRuns),
    });
  }
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const ws = results.ws;
  const row = (name) => {
    const r = results[name];
    const cell = (how) =>
      `${r[how].median.toFixed(1).padStart(6)} ms (${r[how].min.toFixed(1)}-${r[how].max.toFixed(1)}) ${(r[how].median / ws[how].median).toFixed(2)}x ws, CPU ${r[how].cpuMedian.toFixed(1)} ms ${(r[how].cpuMedian / ws[how].cpuMedian).toFixed(2)}x`;
    return `${name.padEnd(17)} require ${cell('require')}   import ${cell('import')}`;
  };
  console.log(`Cold load, median of ${RUNS} fresh processes (node ${process.version}):`);
  for (const name of PACKAGES) console.log(row(name));
  const loaded = results.isosocket.require.modules;
  console.log(
    `isosocket's import loads: ${
      Object.entries(loaded)
        .filter(([, yes]) => yes)
        .map(([m]) => m)
        .join(', ') || 'none of websocket-driver, http-parser-js, node:http2'
    }`,
  );
}
