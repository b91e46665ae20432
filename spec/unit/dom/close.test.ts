import t from 'tap';
import { validateCloseArguments } from '../../../src/dom/close.js';

t.test('validateCloseArguments', async (t) => {
  t.test('accepts 1000 and 3000-4999 with a short reason', async (t) => {
    t.same(validateCloseArguments(1000, 'ok'), { code: 1000, reason: 'ok' });
    t.same(validateCloseArguments(3000, undefined), { code: 3000, reason: '' });
    t.same(validateCloseArguments(4999, ''), { code: 4999, reason: '' });
    t.same(validateCloseArguments(undefined, undefined), { code: undefined, reason: '' });
  });

  t.test('throws InvalidAccessError for any other code', async (t) => {
    for (const code of [0, 999, 1001, 1005, 1006, 1015, 2999, 5000, 65535, Number.NaN]) {
      t.throws(() => validateCloseArguments(code, ''), { name: 'InvalidAccessError' }, String(code));
    }
  });

  t.test('clamps like WebIDL [Clamp] unsigned short', async (t) => {
    t.equal(validateCloseArguments(3000.4, '').code, 3000);
    t.throws(() => validateCloseArguments(-1000, ''), { name: 'InvalidAccessError' });
  });

  t.test('throws SyntaxError for a reason over 123 UTF-8 bytes', async (t) => {
    t.doesNotThrow(() => validateCloseArguments(1000, 'a'.repeat(123)));
    t.throws(() => validateCloseArguments(1000, 'a'.repeat(124)), { name: 'SyntaxError' });
    // 62 two-byte characters are 124 bytes although only 62 code units.
    t.throws(() => validateCloseArguments(1000, 'é'.repeat(62)), { name: 'SyntaxError' });
    let thrown: unknown;
    try {
      validateCloseArguments(1000, 'a'.repeat(124));
    } catch (error) {
      thrown = error;
    }
    t.ok(thrown instanceof DOMException, 'a DOMException, as browsers throw');
    t.match(thrown, { name: 'SyntaxError', code: 12 });
  });
});
