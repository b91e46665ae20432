// Redis Cluster key slots against values redis-server 7.0 gives for the same
// keys (CLUSTER KEYSLOT), the CRC16 check value, and the hash-tag rules of the
// cluster specification.

import t from 'tap';
import { crc16, keySlot, SLOTS } from '../../../src/sse/redis-slot.js';

t.test('crc16 is CRC16-CCITT (XMODEM): the check value of "123456789" is 0x31C3', async (t) => {
  t.equal(crc16(Buffer.from('123456789')), 0x31c3);
  t.equal(crc16(Buffer.alloc(0)), 0);
});

t.test('keySlot gives the slots CLUSTER KEYSLOT gives', async (t) => {
  const known: Array<[string, number]> = [
    ['123456789', 12739],
    ['foo', 12182],
    ['room:42', 16332],
    ['', 0],
    ['a', 15495],
    ['b', 3300],
    ['é{ü}', 9552], // UTF-8 bytes, the tag only
  ];
  for (const [key, slot] of known) t.equal(keySlot(key), slot, JSON.stringify(key));
});

t.test('a hash tag: only what is between the first { and the } after it, when not empty', async (t) => {
  t.equal(keySlot('{user1000}.following'), keySlot('user1000'));
  t.equal(keySlot('{user1000}.following'), 3443);
  t.equal(keySlot('foo{}{bar}'), 8363, 'an empty tag: the whole key');
  t.equal(keySlot('foo{{bar}}zap'), 4015, 'the tag is "{bar"');
  t.equal(keySlot('foo{bar}{zap}'), keySlot('bar'), 'the first tag only');
  t.equal(keySlot('foo{bar'), crc16(Buffer.from('foo{bar')) % SLOTS, 'no closing brace: the whole key');
  t.equal(keySlot('room:{7}:a'), keySlot('room:{7}:b'), 'rooms sharing a tag share a shard');
});
