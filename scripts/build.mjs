// Builds dist/esm (ES modules) and dist/cjs (CommonJS), and the CommonJS entry
// whose module.exports is the WebSocket class itself, as faye-websocket's is.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = (project) =>
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
tsc('tsconfig.json');
tsc('tsconfig.cjs.json');
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
writeFileSync(
  'dist/cjs/main.d.cts',
  `import * as api from './index.js';
declare class WebSocket extends api.WebSocket {}
declare namespace WebSocket {
${values.map((n) => `  export import ${n} = api.${n};`).join('\n')}
${[...new Set(types)].map((n) => `  export type ${n} = api.${n};`).join('\n')}
}
export = WebSocket;
`,
);
