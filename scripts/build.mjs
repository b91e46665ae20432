// Builds the package: one CommonJS build of src/ (dist/cjs), and two thin
// entry points over it, so that `import` and `require` share one copy of
// every class (no dual-package hazard: an imported Client is
// `instanceof require('isosocket').Client`, and both see the same types).
//
// - dist/cjs/main.cjs: `require('isosocket')` is the WebSocket class with
//   everything else attached, as faye-websocket's module is.
// - dist/index.mjs: `import WebSocket, { EventSource, Client } from 'isosocket'`,
//   the same objects, re-exported from main.cjs.
// - dist/browser.mjs: the `browser` and `worker` export conditions' entry
//   (src/browser.ts, no imports): the platform's own client classes under
//   the same names, and server-side classes that throw a clear error.
//
// No source maps are emitted: src/ is not shipped, and a map pointing at
// files that are not there only misleads debuggers.
//
// References:
// - Node.js docs, "Dual CommonJS/ES module packages" (the wrapper approach)
// - TypeScript handbook, "Modules - Reference" (nodenext, export =)
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  console.error('isosocket build: TypeScript is not installed. Run `npm ci` first (it installs the devDependencies).');
  process.exit(1);
}

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// A hand-written declaration the entry's types reference (tsc does not copy
// it): permessage-deflate's types, so that `import deflate from
// 'permessage-deflate'` compiles in any project that imports isosocket.
mkdirSync('dist/types', { recursive: true });
copyFileSync('src/types/permessage-deflate.d.cts', 'dist/types/permessage-deflate.d.cts');
writeFileSync(
  'dist/cjs/index.d.ts',
  readFileSync('dist/cjs/index.d.ts', 'utf8').replace(
    /path="[^"]*permessage-deflate\.d\.cts"/,
    'path="../types/permessage-deflate.d.cts"',
  ),
);
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');

// The browser entry: one file, transpiled alone to an ES module (it imports
// nothing, so there is nothing to bundle). tsc compiled it into dist/cjs
// with the rest; that copy is no entry point of the package, so it goes.
const ts = require('typescript');
writeFileSync(
  'dist/browser.mjs',
  ts.transpileModule(readFileSync('src/browser.ts', 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, removeComments: false },
  }).outputText,
);
rmSync('dist/cjs/browser.js');
rmSync('dist/cjs/browser.d.ts');

// require('isosocket'): the WebSocket class, with every other export attached.
writeFileSync(
  'dist/cjs/main.cjs',
  `'use strict';
// require('isosocket') is the WebSocket class, with everything else attached.
const api = require('./bundle.cjs');
const WebSocket = api.default;
for (const [name, value] of Object.entries(api)) {
  if (name !== 'default' && !(name in WebSocket)) WebSocket[name] = value;
}
WebSocket.default = WebSocket;
module.exports = WebSocket;
`,
);

// The build as one file, dist/cjs/bundle.cjs, which main.cjs requires:
// esbuild joins the compiled modules (each kept in a function of its own,
// run in the same order, so nothing is renamed or reordered), leaving the
// dependencies and Node's built-in modules as require() calls where they are
// (the lazy ones stay lazy). 48 small files cost a cold require() 36 ms of
// CPU against ws's 21 (resolving, reading and compiling each); one file, 22 ms
// (bench/import.mjs). main.cjs stays a few lines: `import` runs Node's
// CommonJS export lexer over it, which takes 24 ms over the whole bundle. The
// per-file build stays in dist/cjs for its declarations and for the specs and
// benches that load one module alone; package.json's "files" ships the bundle.
require('esbuild').buildSync({
  entryPoints: ['dist/cjs/index.js'],
  outfile: 'dist/cjs/bundle.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  legalComments: 'none',
});

// import 'isosocket': the same objects, re-exported. Every value export of
// the barrel is listed, so a new export cannot be missed here.
const values = Object.keys(require('../dist/cjs/index.js')).filter((n) => n !== 'default');
const named = values.filter((n) => n !== 'WebSocket');
writeFileSync(
  'dist/index.mjs',
  `// import 'isosocket': a thin wrapper over the CommonJS build, so that import and
// require share one copy of every class.
import WebSocket from './cjs/main.cjs';

export default WebSocket;
export { WebSocket };
export const { ${named.join(', ')} } = WebSocket;
`,
);
// Its types are the CommonJS build's declarations, re-exported: one
// declaration per class, so ESM and CommonJS types are the same types.
writeFileSync(
  'dist/index.d.mts',
  `export * from './cjs/index.js';
export { WebSocket as default } from './cjs/index.js';
`,
);

// Types for require('isosocket'): the class, with every export as a member.
const types = [...readFileSync('dist/cjs/index.d.ts', 'utf8').matchAll(/export (?:type )?\{([^}]*)\}/g)]
  .flatMap((m) => m[1].split(','))
  .map((name) =>
    name
      .replace(/^\s*type\s+/, '')
      .split(/\s+as\s+/)
      .pop()
      .trim(),
  )
  .filter((n) => n && n !== 'default' && !values.includes(n));
// A type alias that keeps the declaration's type parameters.
const declarations = readdirSync('dist/cjs', { recursive: true })
  .filter((file) => String(file).endsWith('.d.ts'))
  .map((file) => readFileSync(`dist/cjs/${file}`, 'utf8'))
  .join('\n');
function typeAlias(name) {
  const start = new RegExp(`(?:interface|type|class) ${name}<`).exec(declarations);
  if (!start) return `  export type ${name} = api.${name};`;
  let depth = 0;
  let end = start.index + start[0].length - 1;
  do {
    const c = declarations[end++];
    if (c === '<') depth++;
    if (c === '>' && declarations[end - 2] !== '=') depth--;
  } while (depth > 0);
  const params = declarations.slice(start.index + start[0].length - 1, end);
  const names = params
    .slice(1, -1)
    .split(/,(?![^<]*>)/)
    .map((param) => param.trim().split(/\s/)[0]);
  return `  export type ${name}${params} = api.${name}<${names.join(', ')}>;`;
}
writeFileSync(
  'dist/cjs/main.d.cts',
  `import * as api from './index.js';
declare class WebSocket extends api.WebSocket {}
declare namespace WebSocket {
${values.map((n) => `  export import ${n} = api.${n};`).join('\n')}
${[...new Set(types)].map(typeAlias).join('\n')}
}
export = WebSocket;
`,
);
