import { randomBytes } from 'node:crypto';
import t from 'tap';
import { mask } from '../../../src/protocol/mask.js';

/** A byte at a time, as RFC 6455 §5.3 writes it: the reference. */
function reference(payload: Buffer, key: Buffer, offset = 0): Buffer {
  for (let i = 0, n = payload.length - offset; i < n; i++) {
    payload[offset + i] = (payload[offset + i] as number) ^ (key[i % 4] as number);
  }
  return payload;
}

t.test('mask gives the byte-at-a-time result for every length, alignment and offset', async (t) => {
  const pool = randomBytes(300);
  let checked = 0;
  for (const length of [0, 1, 3, 4, 31, 32, 33, 64, 127, 200]) {
    for (const start of [0, 1, 2, 3]) {
      for (const offset of [0, 1, 5]) {
        if (offset > length) continue;
        const key = randomBytes(4);
        const a = Buffer.from(pool.subarray(start, start + length));
        const b = Buffer.alloc(length + start).subarray(start);
        a.copy(b);
        t.ok(
          mask(b, key, offset).equals(reference(a, key, offset)),
          `length ${length}, start ${start}, offset ${offset}`,
        );
        checked++;
      }
    }
  }
  t.equal(checked, 100, 'every combination ran');
});

t.test('masking twice restores the payload; no key changes nothing', async (t) => {
  const data = randomBytes(1000);
  const copy = Buffer.from(data);
  const key = randomBytes(4);
  t.ok(mask(mask(copy, key), key).equals(data));
  t.ok(mask(Buffer.from(data), undefined).equals(data));
});
