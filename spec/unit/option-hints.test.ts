// optionHint (src/option-hints.ts): what to write instead of a key that looks
// like an option name and is not one; nothing for a key that does not.
import t from 'tap';
import { optionHint } from '../../src/option-hints.js';

const KEYS = ['headers', 'tls', 'ca', 'proxy', 'maxLength', 'handshakeTimeout', 'ping'];

t.test('a near-miss of a valid key: case, a transposed short name, 1 edit up to 5 letters, 2 beyond', async (t) => {
  t.equal(optionHint('Headers', KEYS), 'did you mean headers?');
  t.equal(optionHint('tsl', KEYS), 'did you mean tls?');
  t.equal(optionHint('CA', KEYS), 'did you mean ca?');
  t.equal(optionHint('proxi', KEYS), 'did you mean proxy?');
  t.equal(optionHint('maxLenght', KEYS), 'did you mean maxLength?', 'a transposition is one edit');
  t.equal(optionHint('handshakeTimout', KEYS), 'did you mean handshakeTimeout?');
});

t.test('the edit limits hold: 2 edits from a 5-letter name, 3 from a longer one, are not near', async (t) => {
  t.not(optionHint('prxxi', KEYS), 'did you mean proxy?');
  t.not(optionHint('maxLengthXYZ', KEYS), 'did you mean maxLength?');
  t.not(optionHint('cb', KEYS), 'did you mean ca?', 'a 2-letter name takes only a transposition');
});

t.test("another library's option name says what isosocket takes instead", async (t) => {
  t.equal(
    optionHint('rejectUnauthorized', KEYS),
    "another library's name; isosocket takes tls: { rejectUnauthorized }",
  );
  t.equal(optionHint('maxPayload', KEYS), "another library's name; isosocket takes maxLength");
  t.match(optionHint('fetch', KEYS), /^another library's name; isosocket takes headers, method and body/);
  t.equal(optionHint('constructor', KEYS), undefined, 'an Object.prototype name is not a foreign option');
});

t.test('a name holding an option word points at the options that mention it', async (t) => {
  t.equal(optionHint('pingInterval', KEYS), 'not an option; see the options that mention ping');
  t.equal(optionHint('tlsOptions', KEYS), 'not an option; see the options that mention tls');
  t.equal(optionHint('extraHeaders', KEYS), 'not an option; see the options that mention headers');
  t.equal(optionHint('HTTPProxy', KEYS), 'not an option; see the options that mention proxy');
});

t.test('any other key gets no hint: a browser ignores it, and so does isosocket', async (t) => {
  for (const key of ['mode', 'cache', 'keepalive', 'priority', 'x', '']) t.equal(optionHint(key, KEYS), undefined, key);
});
