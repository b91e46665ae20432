// The built package, imported and required by name the way users do
// (package self-reference resolves `isosocket` to this repository's dist/).

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const run = (file: string): unknown =>
  JSON.parse(execFileSync(process.execPath, [file], { cwd: fixtures, encoding: 'utf8' }));

const expected = {
  defaultIsClass: true,
  closed: 3,
  isWebSocket: 'function',
  client: 'function',
  eventSource: 'function',
  closeEvent: 1000,
  errorEvent: 'm',
};

t.test('the package', async (t) => {
  t.test('import gives the WebSocket class as default export, with the rest named', async (t) => {
    t.same(run(`${fixtures}esm.mjs`), expected);
  });

  t.test('require gives the WebSocket class itself, with everything attached', async (t) => {
    t.same(run(`${fixtures}cjs.cjs`), expected);
  });

  t.test('type-checks for ESM and CommonJS consumers', async (t) => {
    const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
    const project = fileURLToPath(new URL('../types/tsconfig.json', import.meta.url));
    t.doesNotThrow(() => execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' }));
  });
});
