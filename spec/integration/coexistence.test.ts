// Importing isosocket changes nothing outside it: faye-websocket in the same
// process runs on websocket-driver's own code, and both libraries talk to
// each other. Run in a child process that loads the driver before isosocket.

import t from 'tap';
import { run } from '../helpers/spawn.js';

t.test('faye-websocket and isosocket in one process: the driver is untouched and both echo', async (t) => {
  const child = run(t, 'spec/fixtures/coexistence.mjs');
  t.equal(await child.exited, 0, child.output());
  const report = JSON.parse(child.output().trim().split('\n').at(-1) ?? '{}') as {
    functions: number;
    changed: string[];
    echoes: Record<string, string>;
  };
  t.ok(
    report.functions > 100,
    `${report.functions} functions of websocket-driver, websocket-extensions and permessage-deflate fingerprinted`,
  );
  t.same(report.changed, [], 'none replaced (Hybi.mask, Message#read, StreamReader#read included)');
  t.same(report.echoes, {
    fayeToFaye: `faye: ${'x'.repeat(200)}`,
    fayeToIso: 'iso: hello',
    isoToFaye: 'faye: hello',
  });
});
