// The built declarations as a consumer's compiler sees them, with
// skipLibCheck off: the compile-only files in spec/types (ESM and CommonJS
// consumers, and lib.dom compatibility) type-check against dist/ through the
// package's self-reference. A file of its own, so that it runs beside the
// slower tarball spec rather than after it.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ROOT } from '../helpers/spawn.js';

// One tsc run over the declarations: seconds when the machine is idle, more
// than .taprc's 90 s for the file on a busy 2-core one.
t.setTimeout(300_000);

t.test('the compile-only consumer and lib.dom checks in spec/types type-check against dist/', async (t) => {
  const project = fileURLToPath(new URL('../types/tsconfig.json', import.meta.url));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  let failure: string | undefined;
  try {
    execFileSync(process.execPath, [tsc, '-p', project], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
    failure = `${stdout ?? ''}${stderr ?? ''}` || message;
  }
  t.equal(failure, undefined, 'tsc reports no errors');
});
