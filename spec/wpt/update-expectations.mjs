// Rewrites spec/wpt/expectations.json from a runs file (`runner.mjs --json`):
// every subtest that failed is listed, per implementation, file and variant;
// a reason already written is kept, a new failure gets `NEW: <message>`, to be
// replaced by a diagnosis before committing (the spec rejects none of them by
// itself: the reason is for the reader). Subtests that passed are dropped,
// except those marked flaky.
//
//   node spec/wpt/update-expectations.mjs runs.json [isosocket|undici]

import { readFileSync, writeFileSync } from 'node:fs';
import { EXPECTATIONS, failures, loadExpectations } from './runner.mjs';

const [file, only] = process.argv.slice(2);
const runs = JSON.parse(readFileSync(file, 'utf8'));
const old = loadExpectations();
const next = { ...old };
for (const impl of ['isosocket', 'undici']) {
  if (only && impl !== only) continue;
  const table = {};
  for (const run of runs.filter((r) => r.impl === impl)) {
    const key = `${run.file}${run.variant}`;
    const before = old[impl]?.[key] ?? {};
    const entry = {};
    for (const [name, detail] of Object.entries(failures(run))) {
      entry[name] = before[name] ?? `NEW: ${detail.slice(0, 200)}`;
    }
    for (const [name, why] of Object.entries(before)) {
      if (why?.flaky && !Object.hasOwn(entry, name)) entry[name] = why;
    }
    if (Object.keys(entry).length) table[key] = entry;
  }
  // Files not in this run keep their entries.
  for (const [key, entry] of Object.entries(old[impl] ?? {})) {
    if (!runs.some((r) => r.impl === impl && `${r.file}${r.variant}` === key)) table[key] = entry;
  }
  next[impl] = Object.fromEntries(Object.entries(table).sort(([a], [b]) => a.localeCompare(b)));
}
writeFileSync(EXPECTATIONS, `${JSON.stringify(next, null, 2)}\n`);
