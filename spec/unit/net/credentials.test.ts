// src/net/credentials.ts: the Authorization value from a URL's userinfo and
// whether a WWW-Authenticate value offers Basic.
import t from 'tap';
import { offersBasic, urlAuthorization } from '../../../src/net/credentials.js';

const basic = (userPass: string): string => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

t.test('urlAuthorization', async (t) => {
  t.test('none for a URL without userinfo', async (t) => {
    t.equal(urlAuthorization(new URL('wss://host.test/')), undefined);
  });

  t.test('Basic user:password (RFC 7617), a user alone with an empty password', async (t) => {
    t.equal(urlAuthorization(new URL('wss://user:pass@host.test/')), basic('user:pass'));
    t.equal(urlAuthorization(new URL('wss://user@host.test/')), basic('user:'));
    t.equal(urlAuthorization(new URL('wss://:pass@host.test/')), basic(':pass'));
  });

  t.test('the userinfo is percent-decoded first, as Chromium does', async (t) => {
    t.equal(urlAuthorization(new URL('wss://a%40b:p%3Ass@host.test/')), basic('a@b:p:ss'));
    t.equal(urlAuthorization(new URL('wss://%C3%A9:%e2%82%ac@host.test/')), basic('é:€'), 'UTF-8 bytes, either case');
  });

  t.test('a % not followed by two hex digits stays as it is', async (t) => {
    const url = new URL('wss://host.test/');
    url.username = 'a%zz';
    url.password = '100%';
    t.equal(urlAuthorization(url), basic('a%zz:100%'));
  });
});

t.test('offersBasic', async (t) => {
  t.test('a Basic challenge, in any case, alone or among others', async (t) => {
    t.equal(offersBasic('Basic realm="a"'), true);
    t.equal(offersBasic('basic'), true);
    t.equal(offersBasic('Bearer realm="x", BASIC realm="y"'), true);
    t.equal(offersBasic(['Bearer', 'Basic realm="z"']), true, 'in a second field');
  });

  t.test('no Basic challenge: none, another scheme, or "basic" inside an auth-param', async (t) => {
    t.equal(offersBasic(undefined), false);
    t.equal(offersBasic(''), false);
    t.equal(offersBasic('Bearer realm="a"'), false);
    t.equal(offersBasic('Digest realm="a, basic"'), false);
    t.equal(offersBasic('Basically'), false);
    t.equal(offersBasic([]), false);
  });
});
