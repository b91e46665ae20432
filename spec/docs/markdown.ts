// Reads the repository's Markdown as GitHub renders it, for the docs specs:
// the documents checked, their relative links, their heading anchors (GitHub's
// slug rules) and their code blocks.
//
// Calling contract: pure functions over a document's text, except DOCUMENTS
// and read(), which list and read files under the repository root.
//
// References: GitHub Flavored Markdown (https://github.github.com/gfm/),
// fenced code blocks §4.5, links §6.3; GitHub's heading anchors follow
// github-slugger (lower case, punctuation removed, spaces to hyphens, -1, -2
// for repeats).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/spawn.js';

/** The documents whose links and code blocks are checked, relative to the root. */
export const DOCUMENTS: readonly string[] = [
  'README.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  'CHANGELOG.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  ...readdirSync(join(ROOT, 'docs/decisions'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/decisions/${name}`),
].filter((path) => existsSync(join(ROOT, path)));

/** The text of a document under the root. */
export function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** A fenced code block: its info string's language, its text, its first line (1-based), and the line before its fence. */
export interface CodeBlock {
  lang: string;
  code: string;
  line: number;
  before: string;
}

/** One pass over the document: each line with whether it is inside (or a fence of) a fenced block, and the blocks. */
function scan(text: string): { lines: { line: string; fenced: boolean }[]; blocks: CodeBlock[] } {
  const lines: { line: string; fenced: boolean }[] = [];
  const blocks: CodeBlock[] = [];
  let open: { fence: string; indent: number; block: CodeBlock; body: string[] } | undefined;
  let before = '';
  text.split('\n').forEach((line, index) => {
    const match = /^( *)(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    const indent = match?.[1]?.length ?? 0;
    const fence = match?.[2] ?? '';
    if (open === undefined) {
      if (match) {
        open = { fence, indent, block: { lang: match[3] ?? '', code: '', line: index + 1, before }, body: [] };
      }
      lines.push({ line, fenced: open !== undefined });
      if (line.trim() !== '' && open === undefined) before = line.trim();
      return;
    }
    lines.push({ line, fenced: true });
    // GFM §4.5: the closing fence is at least as long, of the same character, alone on its line.
    if (match && fence[0] === open.fence[0] && fence.length >= open.fence.length && line.trim() === fence) {
      open.block.code = open.body.join('\n');
      blocks.push(open.block);
      open = undefined;
      before = '';
      return;
    }
    open.body.push(line.slice(Math.min(open.indent, /^ */.exec(line)?.[0].length ?? 0)));
  });
  return { lines, blocks };
}

/** Every fenced code block of the document. */
export function codeBlocks(text: string): CodeBlock[] {
  return scan(text).blocks;
}

/** Text with inline code spans removed, for finding links outside them. */
function withoutCodeSpans(line: string): string {
  return line.replace(/(`+)(?:(?!\1).)+?\1/g, (span) => ' '.repeat(span.length));
}

/** Every inline link or image target outside code, with its line (1-based). */
export function links(text: string): { target: string; line: number }[] {
  const found: { target: string; line: number }[] = [];
  scan(text).lines.forEach(({ line, fenced }, index) => {
    if (fenced) return;
    for (const match of withoutCodeSpans(line).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      found.push({ target: match[1] ?? '', line: index + 1 });
    }
  });
  return found;
}

/** GitHub's anchor for a heading's text (github-slugger), before de-duplication. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text stays
    .replace(/<[^>]+>/g, '') // HTML tags go
    .replace(/[*_`~]/g, (character) => (character === '_' ? '_' : '')); // emphasis and code marks go
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every heading anchor of the document, repeats numbered as GitHub numbers them. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const { line, fenced } of scan(text).lines) {
    const heading = fenced ? undefined : /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  // Explicit anchors: <a id="..."> or <a name="...">.
  for (const match of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) result.add(match[1] ?? '');
  return result;
}
