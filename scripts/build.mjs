// Builds dist/esm (ES modules) and dist/cjs (CommonJS), and the CommonJS entry
// whose module.exports is the WebSocket class itself, as faye-websocket's is.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = (project) =>
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
tsc('tsconfig.json');
tsc('tsconfig.cjs.json');
// A hand-written declaration both entry points reference (tsc does not copy
// it), in one place so that a program loading both entries sees it once.
mkdirSync('dist/types', { recursive: true });
copyFileSync('src/types/permessage-deflate.d.cts', 'dist/types/permessage-deflate.d.cts');
for (const entry of ['dist/esm/index.d.ts', 'dist/cjs/index.d.ts']) {
  writeFileSync(
    entry,
    readFileSync(entry, 'utf8').replace(
      /path="[^"]*permessage-deflate\.d\.cts"/,
      'path="../types/permessage-deflate.d.cts"',
    ),
  );
}
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
writeFileSync(
  'dist/cjs/main.cjs',
  `'use strict';
// require('isosocket') is the WebSocket class, with everything else attached.
const api = require('./index.js');
const WebSocket = api.default;
for (const [name, value] of Object.entries(api)) {
  if (name !== 'default' && !(name in WebSocket)) WebSocket[name] = value;
}
WebSocket.default = WebSocket;
module.exports = WebSocket;
`,
);
// Types for require('isosocket'): the class, with every export as a member.
const require = createRequire(import.meta.url);
const values = Object.keys(require('../dist/cjs/index.js')).filter((n) => n !== 'default');
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
