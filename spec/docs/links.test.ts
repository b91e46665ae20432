// Every relative link in the repository's Markdown (README.md, CONTRIBUTING.md,
// SECURITY.md, CHANGELOG.md, docs/**) leads somewhere: the file or folder
// exists, and an anchor names a heading of the target (GitHub's slugs), so a
// moved section or a renamed heading fails npm test instead of a reader.

import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/spawn.js';
import { anchors, DOCUMENTS, links, read, slug } from './markdown.js';

/** What is wrong with each relative link of `path` (whose text is `text`), as "path:line: message" lines. */
export function deadLinks(path: string, text: string, readTarget: (path: string) => string | undefined): string[] {
  const problems: string[] = [];
  for (const { target, line } of links(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // absolute URLs, mailto:
    const hash = target.indexOf('#');
    const file = hash === -1 ? target : target.slice(0, hash);
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const resolved = file === '' ? path : normalize(join(dirname(path), decodeURIComponent(file)));
    if (resolved.startsWith('..')) {
      problems.push(`${path}:${line}: ${target} leaves the repository`);
      continue;
    }
    const content = readTarget(resolved);
    if (content === undefined) {
      problems.push(`${path}:${line}: ${target}: no file ${resolved}`);
      continue;
    }
    if (anchor !== undefined && anchor !== '' && resolved.endsWith('.md') && !anchors(content).has(anchor)) {
      problems.push(`${path}:${line}: ${target}: ${resolved} has no heading #${anchor}`);
    }
  }
  return problems;
}

/** A file's text, '' for a folder, undefined when absent. */
function fromDisk(path: string): string | undefined {
  const full = join(ROOT, path);
  if (!existsSync(full)) return undefined;
  return statSync(full).isDirectory() ? '' : path.endsWith('.md') ? read(path) : '';
}

/**
 * Documents the README links to that other branches add (issue 24): while one
 * is absent its dead link is reported as a todo, not a pass. Empty this list
 * once they are merged.
 */
const PENDING: string[] = [];

t.test('every relative link and anchor in the Markdown resolves', async (t) => {
  t.ok(DOCUMENTS.includes('README.md') && DOCUMENTS.includes('CONTRIBUTING.md'), 'the documents are found');
  for (const path of DOCUMENTS) {
    const problems = deadLinks(path, read(path), fromDisk);
    const pending = problems.filter((problem) => PENDING.some((file) => problem.endsWith(`: no file ${file}`)));
    t.same(
      problems.filter((problem) => !pending.includes(problem)),
      [],
      path,
    );
    for (const problem of pending) t.fail(problem, { todo: 'added by another branch of issue 24' });
  }
});

t.test('the check fails on a dead file, a dead anchor, and passes a live one', async (t) => {
  const docs: Record<string, string> = {
    'docs/a.md': '# A page\n\n## Scaling a feed out\n\n## FAQ\n\n## FAQ\n',
  };
  const readTarget = (path: string) => docs[path];
  const text = [
    '[gone](examples/demo/bus.mjs)',
    '[stale](#scaling-out-past-one-process)',
    '[ok](docs/a.md#scaling-a-feed-out) and [second](docs/a.md#faq-1)',
    '`[not a link](nowhere.md)`',
    '```md',
    '[in a fence](nowhere.md)',
    '```',
    '[web](https://example.com/) [mail](mailto:a@b.c)',
  ].join('\n');
  t.same(
    deadLinks('README.md', `${text}\n# Top\n`, (path) =>
      path === 'README.md' ? `${text}\n# Top\n` : readTarget(path),
    ),
    [
      'README.md:1: examples/demo/bus.mjs: no file examples/demo/bus.mjs',
      'README.md:2: #scaling-out-past-one-process: README.md has no heading #scaling-out-past-one-process',
    ],
  );
});

t.test("headings get GitHub's anchors", async (t) => {
  t.equal(slug('WebSockets over HTTP/2 (RFC 8441)'), 'websockets-over-http2-rfc-8441');
  t.equal(
    slug('Browser-exact: what is covered, and what cannot be'),
    'browser-exact-what-is-covered-and-what-cannot-be',
  );
  t.equal(
    slug("How do I get the client's IP address, also behind a proxy?"),
    'how-do-i-get-the-clients-ip-address-also-behind-a-proxy',
  );
  t.equal(slug('`WebSocket.Client` and [links](x.md)'), 'websocketclient-and-links');
  t.equal(slug('[Unreleased]'), 'unreleased');
});
