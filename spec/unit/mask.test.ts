import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import t from 'tap';
import { FAST_MASK } from '../../src/internal/core.js';
import { installMask, mask } from '../../src/internal/mask.js';

const require = createRequire(import.meta.url);
const Hybi = require('websocket-driver/lib/websocket/driver/hybi') as { mask: typeof mask };

/** websocket-driver 0.8.0's Hybi.mask, verbatim, as the reference. */
function reference(payload: Buffer, key: Buffer, offset = 0): Buffer {
  for (let i = 0, n = payload.length - offset; i < n; i++) {
    payload[offset + i] = (payload[offset + i] as number) ^ (key[i % 4] as number);
  }
  return payload;
}

t.test('our mask is the one websocket-driver runs', async (t) => {
  t.equal(FAST_MASK, true, 'installed for websocket-driver 0.8.x');
  t.equal(Hybi.mask, mask, "Hybi.mask is isosocket's function");
  t.equal(installMask(), true, 'installing twice is harmless');
});

t.test('mask produces the same bytes as the driver, at every length, offset and alignment', async (t) => {
  let checked = 0;
  for (const length of [0, 1, 3, 4, 5, 31, 32, 33, 64, 127, 1000, 65_537]) {
    for (const offset of [0, 1, 2, 3, 6, 10, 14]) {
      for (const shift of [0, 1, 2, 3]) {
        if (offset > length) continue;
        const key = randomBytes(4);
        const backing = randomBytes(length + shift);
        const ours = Buffer.from(backing).subarray(shift);
        const theirs = Buffer.from(backing).subarray(shift);
        mask(ours, key, offset);
        reference(theirs, key, offset);
        if (!ours.equals(theirs)) t.fail(`length ${length}, offset ${offset}, shift ${shift}`);
        checked++;
      }
    }
  }
  t.ok(checked > 200, `${checked} combinations identical`);
  const payload = Buffer.from('unchanged');
  t.equal(mask(payload, Buffer.alloc(0)), payload);
  t.equal(mask(payload, undefined).toString(), 'unchanged');
  const twice = randomBytes(100);
  const key = randomBytes(4);
  t.same(mask(mask(Buffer.from(twice), key), key), twice, 'masking twice restores the payload');
});
