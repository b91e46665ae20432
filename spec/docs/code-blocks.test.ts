// Every ```js and ```ts block in README.md and docs/ is code a reader can
// paste: it parses (esbuild's TypeScript parser, as an ES module), unless the
// line before it is `<!-- fragment -->` (optionally with a reason:
// `<!-- fragment: inside an upgrade handler -->`), which says on purpose that
// it is a piece of a program. The README's complete examples also run.

import { transformSync } from 'esbuild';
import t from 'tap';
import { type CodeBlock, codeBlocks, DOCUMENTS, read } from './markdown.js';

const LANGUAGES = new Set(['js', 'javascript', 'mjs', 'cjs', 'ts', 'typescript']);

/** Whether the block is marked as a fragment on purpose. */
export function isFragment(block: CodeBlock): boolean {
  return /^<!--\s*fragment\b[^>]*-->$/.test(block.before);
}

/** Why the block does not parse, or undefined when it does. */
export function parseError(block: CodeBlock): string | undefined {
  try {
    transformSync(block.code, { loader: 'ts', format: 'esm', logLevel: 'silent' });
    return undefined;
  } catch (error) {
    return String((error as Error).message)
      .split('\n')
      .slice(0, 2)
      .join(' ');
  }
}

const documents = DOCUMENTS.filter((path) => path === 'README.md' || path.startsWith('docs/'));

t.test('every unmarked js/ts block in README.md and docs/ parses', async (t) => {
  let checked = 0;
  for (const path of documents) {
    for (const block of codeBlocks(read(path))) {
      if (!LANGUAGES.has(block.lang) || isFragment(block)) continue;
      checked++;
      t.equal(parseError(block), undefined, `${path}:${block.line} parses (or mark it <!-- fragment -->)`);
    }
  }
  t.ok(checked >= 10, `${checked} blocks checked`);
});

t.test('the check tells a program, a broken block and a marked fragment apart', async (t) => {
  const [program, broken, fragment] = codeBlocks(
    [
      '```js',
      "import WebSocket from 'isosocket';",
      '```',
      '',
      '```js',
      "  ca: fs.readFileSync('ca.pem'),",
      '})',
      '```',
      '<!-- fragment: the options of a call -->',
      '```js',
      "  ca: fs.readFileSync('ca.pem'),",
      '```',
    ].join('\n'),
  );
  t.ok(program && broken && fragment, 'three blocks found');
  if (!program || !broken || !fragment) return;
  t.equal(parseError(program), undefined);
  t.match(parseError(broken), /Expected|Unexpected/);
  t.notOk(isFragment(broken));
  t.ok(isFragment(fragment));
});
