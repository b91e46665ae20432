// UTF-8 checked as it arrives: valid prefixes wait, bytes that can never be
// UTF-8 fail at once, whatever might follow them.

import t from 'tap';
import { checkUtf8 } from '../../../src/protocol/utf8.js';

const check = (...values: number[]): number => checkUtf8(Buffer.from(values), 0, values.length);

t.test('checkUtf8', async (t) => {
  t.test('complete text is checked to its end', async (t) => {
    const text = Buffer.from('a☃😀é');
    t.equal(checkUtf8(text, 0, text.length), text.length);
    t.equal(check(), 0, 'nothing to check');
    t.equal(checkUtf8(text, 1, 4), 4, 'from a character boundary');
  });

  t.test('an unfinished character at the end may still complete: checked up to its start', async (t) => {
    t.equal(check(0x61, 0xe2), 1, 'the lead of ☃');
    t.equal(check(0x61, 0xe2, 0x98), 1, 'two bytes of ☃');
    t.equal(check(0x61, 0xf0, 0x9f, 0x98), 1, 'three bytes of 😀');
    t.equal(check(0xc3), 0, 'the lead of é');
    t.equal(check(0xf4, 0x8f, 0xbf), 0, 'U+10FFFF so far');
  });

  t.test('bytes that cannot begin a character fail at once', async (t) => {
    for (const values of [[0xff], [0xc0], [0xc1, 0x81], [0xf5], [0x80], [0x61, 0xbf]]) {
      t.equal(check(...values), -1, Buffer.from(values).toString('hex'));
    }
  });

  t.test(
    'an unfinished character that no byte can complete fails at once (the second byte is out of range)',
    async (t) => {
      t.equal(check(0x61, 0xf4, 0x90), -1, 'F4 90: past U+10FFFF (Autobahn 6.4.2, 6.4.4)');
      t.equal(check(0xe0, 0x80), -1, 'E0 80: overlong');
      t.equal(check(0xf0, 0x80), -1, 'F0 80: overlong');
      t.equal(check(0xed, 0xa0), -1, 'ED A0: a surrogate');
      t.equal(check(0xe0, 0xa0), 0, 'E0 A0: fine so far');
      t.equal(check(0xed, 0x9f), 0, 'ED 9F: fine so far');
    },
  );

  t.test('invalid bytes before a valid unfinished tail fail', async (t) => {
    t.equal(check(0xff, 0xe2, 0x98), -1);
    t.equal(check(0x80, 0x80, 0x80, 0x80), -1, 'four continuation bytes');
    t.equal(check(0xf0, 0x9f, 0x98, 0x80, 0x80), -1, 'a continuation byte too many');
  });
});
