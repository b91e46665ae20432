import t from 'tap';
import { fitReason, isSendableCode, MAX_REASON_BYTES } from '../../../src/protocol/codes.js';

t.test('isSendableCode: 1000-1003, 1007-1014, 3000-4999 (RFC 6455 §7.4, IANA)', async (t) => {
  const sendable: number[] = [];
  for (let code = 0; code < 6000; code++) if (isSendableCode(code)) sendable.push(code);
  t.same(sendable.slice(0, 11), [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013]);
  t.equal(sendable.length, 4 + 8 + 2000);
  t.equal(sendable.at(-1), 4999);
});

t.test('fitReason cuts at 123 bytes without splitting a character', async (t) => {
  t.equal(fitReason('short'), 'short');
  t.equal(fitReason('a'.repeat(MAX_REASON_BYTES)), 'a'.repeat(MAX_REASON_BYTES), 'exactly 123 bytes is kept whole');
  t.equal(fitReason('a'.repeat(200)).length, MAX_REASON_BYTES);
  const fitted = fitReason('é'.repeat(100));
  t.equal(Buffer.byteLength(fitted), 122);
  t.equal(fitted, 'é'.repeat(61));
});
