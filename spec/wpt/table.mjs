// Prints the WPT comparison table, isosocket against undici, per group
// (websockets without HTTP/2, websockets over HTTP/2, eventsource) and
// variant, as Markdown: passed subtests of all subtests, then files with no
// failure. With a runs file written by `runner.mjs --json`, it reads that;
// otherwise it runs everything first (a few minutes).
//
//   node spec/wpt/table.mjs [runs.json]
//
// Also used by spec/integration/wpt.test.ts to print the table in its output.

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { IMPLEMENTATIONS, loadExpectations, runWpt, tally } from './runner.mjs';

const ORDER = ['websockets', 'websockets h2', 'eventsource'];

/** The Markdown table for a list of runs. */
export function table(runs) {
  const rows = tally(runs);
  const keys = Object.keys(rows).sort((a, b) => {
    const [ga, va] = a.split('\t');
    const [gb, vb] = b.split('\t');
    return ORDER.indexOf(ga) - ORDER.indexOf(gb) || va.localeCompare(vb);
  });
  const lines = [
    `| group | variant | ${IMPLEMENTATIONS.map((i) => `${i} subtests | ${i} files`).join(' | ')} |`,
    `|---|---|${IMPLEMENTATIONS.map(() => '---:|---:').join('|')}|`,
  ];
  const sums = {};
  for (const key of keys) {
    const [group, variant] = key.split('\t');
    const cells = IMPLEMENTATIONS.map((impl) => {
      const c = rows[key][impl] ?? { pass: 0, total: 0, files: 0, clean: 0 };
      sums[group] ??= {};
      sums[group][impl] ??= { pass: 0, total: 0, files: 0, clean: 0 };
      const s = sums[group][impl];
      for (const k of Object.keys(s)) s[k] += c[k];
      return `${c.pass} / ${c.total} | ${c.clean} / ${c.files}`;
    });
    lines.push(`| ${group} | \`${variant}\` | ${cells.join(' | ')} |`);
  }
  for (const group of ORDER) {
    if (!sums[group]) continue;
    const cells = IMPLEMENTATIONS.map((impl) => {
      const c = sums[group][impl] ?? { pass: 0, total: 0, files: 0, clean: 0 };
      return `**${c.pass} / ${c.total}** | **${c.clean} / ${c.files}**`;
    });
    lines.push(`| **${group}** | all | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  const runs = file ? JSON.parse(readFileSync(file, 'utf8')) : await runWpt({ skip: loadExpectations().notApplicable });
  console.log(table(runs));
}
