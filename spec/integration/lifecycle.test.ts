// Nothing keeps Node alive after everything is closed: no timer (ping,
// closeTimeout, SSE ping, reconnection) and no socket is left behind.

import t from 'tap';
import { run } from '../helpers/spawn.js';

t.test('a process whose sockets are all closed exits by itself', async (t) => {
  const child = run(t, 'spec/fixtures/exit-after-close.mjs');
  const timer = setTimeout(() => child.child.kill('SIGKILL'), 20_000);
  const code = await child.exited;
  clearTimeout(timer);
  t.equal(code, 0, `exited by itself; output:\n${child.output()}`);
  t.match(child.output(), /websocket closed 1000 true\nsse message one\n/);
});
