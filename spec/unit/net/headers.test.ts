import t from 'tap';
import { isToken, utf8HeaderValue, validateHeaders, validateOrigin } from '../../../src/net/headers.js';

t.test('validateHeaders', async (t) => {
  t.test('keeps what HTTP can carry: Latin-1, tab, numbers', async (t) => {
    t.same(validateHeaders({ A: 'café', B: 'a\tb', C: 3 }, 'headers'), [
      ['A', 'café'],
      ['B', 'a\tb'],
      ['C', '3'],
    ]);
  });

  t.test('refuses at once what Node would refuse later, inside a timer', async (t) => {
    for (const value of ['☃', 'a\x01b', 'a\x7f', '\u0100']) {
      t.throws(
        () => validateHeaders({ 'X-Value': value }, 'headers'),
        {
          name: 'TypeError',
          message: /^headers: the value of X-Value contains a control character or a character above U\+00FF/,
        },
        JSON.stringify(value),
      );
    }
    t.throws(() => validateHeaders({ A: 'x\ny' }, 'headers'), /CR, LF or NUL, which could inject a header/);
    t.throws(() => validateHeaders({ 'A B': 'x' }, 'headers'), /"A B" is not a valid header name/);
    t.throws(() => validateHeaders([['A', 'b']], 'headers'), /must be an object/);
  });

  t.test('isToken', async (t) => {
    t.equal(isToken('Last-Event-ID'), true);
    t.equal(isToken('a b'), false);
    t.equal(isToken(''), false);
  });
});

t.test('validateOrigin accepts serialized origins and null, and nothing else', async (t) => {
  for (const origin of [
    'null',
    'https://example.com',
    'http://localhost:3000',
    'https://[::1]:8443',
    'chrome-extension://abcdefghijklmnop',
    'https://xn--bcher-kva.example',
  ]) {
    t.equal(validateOrigin(origin, 'origin'), origin);
  }
  for (const origin of [
    '',
    'https://example.com/',
    'https://example.com/path',
    'example.com',
    'https://a b',
    'https://bücher.example',
    'http://a:123456',
    'https://a\r\nb',
    null,
    1,
  ]) {
    t.throws(() => validateOrigin(origin, 'origin'), TypeError, JSON.stringify(origin));
  }
});

t.test('utf8HeaderValue', async (t) => {
  t.test('gives the UTF-8 bytes as Latin-1 characters, which Node writes as those bytes', async (t) => {
    t.equal(utf8HeaderValue('plain 42'), 'plain 42');
    const value = utf8HeaderValue('☃ é 𝄞') as string;
    t.same(Buffer.from(value, 'latin1'), Buffer.from('☃ é 𝄞', 'utf8'));
    t.equal(utf8HeaderValue('a\tb'), 'a\tb');
  });

  t.test('is undefined for a control character HTTP cannot carry', async (t) => {
    for (const value of ['a\x01', '\x1f', 'a\x7fb', '\r', '\n', '\0'])
      t.equal(utf8HeaderValue(value), undefined, JSON.stringify(value));
  });
});
