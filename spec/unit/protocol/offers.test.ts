// The handshake's two lists read within bounds (src/protocol/offers.ts): the
// grammar, the bounds, the messages, and, for any text, agreement with
// websocket-extensions' own parser on what it means.

import { createRequire } from 'node:module';
import fc from 'fast-check';
import t from 'tap';
import { cut, excerpt, MAX_EXTENSION_PARAMS, readExtensionList, readTokenList } from '../../../src/protocol/offers.js';

const require = createRequire(import.meta.url);
/** websocket-extensions' parser, the one the elements are handed to. */
const Parser = require('websocket-extensions/lib/parser.js') as {
  parseHeader(header: string): { toArray(): Array<{ name: string; params: Record<string, unknown> }> };
};

const texts = (header: string, max = 1000) => readExtensionList(header, max).elements.map((e) => e.text);

t.test('readExtensionList: RFC 6455 §9.1 and RFC 7692 offers, element by element', async (t) => {
  t.same(readExtensionList('permessage-deflate', 16), {
    elements: [{ name: 'permessage-deflate', text: 'permessage-deflate' }],
    complete: true,
  });
  // RFC 7692 §5: two offers, the second a fallback.
  t.same(texts('permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate'), [
    'permessage-deflate; client_max_window_bits; server_max_window_bits=10',
    'permessage-deflate',
  ]);
  t.same(texts(' a ;b = 1 ;\tc="2" , d '), ['a ;b = 1 ;\tc="2"', 'd'], 'OWS around ; = and , is not part of a text');
  t.same(texts('a; b="x\\y"'), ['a; b="x\\y"'], 'a quoted-pair of a tchar');
  t.same(readExtensionList('a, b, c', 2), {
    elements: [
      { name: 'a', text: 'a' },
      { name: 'b', text: 'b' },
    ],
    complete: false,
  });
  t.same(readExtensionList('a, b', 2).complete, true, 'exactly the bound is complete');
  const params = (n: number) => `x${'; p'.repeat(n)}`;
  t.same(readExtensionList(params(MAX_EXTENSION_PARAMS), 16).elements.length, 1);
  t.same(readExtensionList(`a, ${params(MAX_EXTENSION_PARAMS + 1)}, b`, 16), {
    elements: [{ name: 'a', text: 'a' }],
    complete: false,
  });
});

t.test('readExtensionList: malformed text is a SyntaxError naming where and what', async (t) => {
  const cases: Array<[string, string]> = [
    ['', 'Unexpected end of the header, expected an extension name'],
    [',a', 'Unexpected "," at index 0, expected an extension name'],
    ['a,,b', 'Unexpected "," at index 2, expected an extension name'],
    ['a,', 'Unexpected end of the header, expected an extension name'],
    ['a;', 'Unexpected end of the header, expected a parameter name'],
    ['a; ;', 'Unexpected ";" at index 3, expected a parameter name'],
    ['a b', `Unexpected "b" at index 2, expected ';', ',' or the end`],
    ['a; b=', 'Unexpected end of the header, expected a parameter value'],
    ['a; b=c d', `Unexpected "d" at index 7, expected ';', ',' or the end`],
    ['a; b=""', 'Unexpected """ at index 6, expected a token in the quoted string'.replace('"""', '"\\""')],
    ['a; b="c d"', 'Unexpected " " at index 7, expected a token in the quoted string'],
    ['a; b="c', 'Unexpected end of the header, expected a token in the quoted string'],
    ['a; b="\\"', 'Unexpected "\\"" at index 7, expected a token in the quoted string'],
    ['é', 'Unexpected "é" at index 0, expected an extension name'],
  ];
  for (const [header, message] of cases) {
    t.throws(() => readExtensionList(header, 16), new SyntaxError(message), JSON.stringify(header));
  }
  t.same(texts('a, ;;', 1), ['a'], 'what is past the bound is not read, so not judged');
});

t.test('readTokenList: 1#token, empty elements ignored and counted', async (t) => {
  t.same(readTokenList('chat, superchat', 64), { elements: ['chat', 'superchat'], complete: true });
  t.same(readTokenList(' , a ,, b ,', 64), { elements: ['a', 'b'], complete: true });
  t.same(readTokenList('', 64), { elements: [], complete: true });
  t.same(readTokenList('a, b, c', 2), { elements: ['a', 'b'], complete: false });
  t.same(readTokenList('a, b, ', 2), { elements: ['a', 'b'], complete: true }, 'only space after: nothing unread');
  t.same(readTokenList(',,,a', 2), { elements: [], complete: false }, 'empty elements count toward the bound');
  t.throws(() => readTokenList('a b', 64), new SyntaxError(`Unexpected "b" at index 2, expected ',' or the end`));
  t.throws(() => readTokenList('a, "b"', 64), new SyntaxError('Unexpected "\\"" at index 3, expected a token'));
  t.same(readTokenList('a, b, "c"', 2).elements, ['a', 'b'], 'not read, not judged');
});

t.test('excerpt and cut keep peer text short', async (t) => {
  t.equal(cut('abc', 2), 'ab…');
  t.equal(cut('abc', 3), 'abc');
  t.equal(excerpt('x'.repeat(100)), `"${'x'.repeat(64)}…"`);
  t.equal(excerpt('a"b'), '"a\\"b"');
});

t.test('for any text, the elements mean what websocket-extensions reads in the whole', async (t) => {
  // Text made of the grammar's own pieces, and a few that are not in it.
  const piece = fc.constantFrom(
    'permessage-deflate',
    'x',
    'client_max_window_bits',
    '10',
    '1.5',
    '-3',
    ';',
    ',',
    '=',
    '"',
    '\\',
    ' ',
    '\t',
    'é',
    '(',
    '\r\n ',
  );
  const header = fc.array(piece, { minLength: 1, maxLength: 24 }).map((pieces) => pieces.join(''));
  let agreed = 0;
  fc.assert(
    fc.property(header, (raw) => {
      // RFC 9110 §5.5: a field value has no leading or trailing whitespace
      // (Node removes it); an empty one is no offer, and never read.
      const text = raw.replace(/^[ \t]+|[ \t]+$/g, '');
      if (text === '') return true;
      let ours: string[] | undefined;
      try {
        ours = texts(text);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
      }
      let theirs: ReturnType<ReturnType<typeof Parser.parseHeader>['toArray']> | undefined;
      try {
        theirs = Parser.parseHeader(text).toArray();
      } catch {}
      if (ours === undefined) {
        // Stricter only where RFC 6455 §9.1 is: a quoted value that is not a
        // token once unescaped, and the obsolete line folding.
        return theirs === undefined || /"|\r\n/.test(text);
      }
      agreed++;
      // Whatever we read, websocket-extensions reads too, to the same offers.
      return (
        theirs !== undefined && JSON.stringify(Parser.parseHeader(ours.join(', ')).toArray()) === JSON.stringify(theirs)
      );
    }),
    { numRuns: 3000 },
  );
  t.ok(agreed > 100, `${agreed} well-formed headers compared`);
});
