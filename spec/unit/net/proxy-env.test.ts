import t from 'tap';
import { matchesNoProxy, proxyForUrl, proxyFromEnv } from '../../../src/net/proxy-env.js';

const ws = new URL('ws://a.test/');
const wss = new URL('wss://a.test/');

t.test('proxyFromEnv: ALL_PROXY after the scheme-specific variables, as curl', async (t) => {
  const all = { ALL_PROXY: 'socks5h://all:1080' };
  t.same(proxyFromEnv(ws, all), { value: 'socks5h://all:1080', variable: 'ALL_PROXY' }, 'ws: ALL_PROXY alone');
  t.same(proxyFromEnv(wss, all), { value: 'socks5h://all:1080', variable: 'ALL_PROXY' }, 'wss: ALL_PROXY alone');
  t.same(proxyFromEnv(new URL('https://a.test/'), { all_proxy: 'socks5://lower:1' }), {
    value: 'socks5://lower:1',
    variable: 'ALL_PROXY',
  });
  t.same(proxyFromEnv(ws, { ...all, HTTP_PROXY: 'http://plain:1' }), {
    value: 'http://plain:1',
    variable: 'HTTP_PROXY',
  });
  t.same(proxyFromEnv(wss, { ...all, HTTPS_PROXY: 'http://secure:2' }), {
    value: 'http://secure:2',
    variable: 'HTTPS_PROXY',
  });
  t.same(
    proxyFromEnv(wss, { ...all, HTTP_PROXY: 'http://plain:1' }),
    { value: 'http://plain:1', variable: 'HTTP_PROXY' },
    'a secure target falls back to HTTP_PROXY before ALL_PROXY',
  );
  t.same(
    proxyFromEnv(ws, { ...all, HTTPS_PROXY: 'http://secure:2' })?.variable,
    'ALL_PROXY',
    'HTTPS_PROXY is not for ws:',
  );
  t.equal(
    proxyFromEnv(ws, { all_proxy: 'socks5://lower:1', ALL_PROXY: 'socks5://upper:2' })?.value,
    'socks5://lower:1',
    'lower case wins',
  );
  t.equal(proxyFromEnv(ws, { ALL_PROXY: '' }), undefined, 'empty is unset');
  t.equal(proxyFromEnv(ws, { all_proxy: '', ALL_PROXY: 'socks5://upper:2' })?.value, 'socks5://upper:2');
});

t.test('proxyFromEnv: NO_PROXY applies to ALL_PROXY too', async (t) => {
  const env = { ALL_PROXY: 'socks5://all:1080' };
  t.equal(proxyFromEnv(ws, { ...env, NO_PROXY: 'a.test' }), undefined);
  t.equal(proxyFromEnv(wss, { ...env, no_proxy: '.test' }), undefined);
  t.equal(proxyFromEnv(wss, { ...env, NO_PROXY: 'a.test:80' })?.value, 'socks5://all:1080', 'another port');
  t.equal(proxyFromEnv(ws, { ...env, NO_PROXY: 'a.test:80' }), undefined, 'that port');
  t.equal(proxyFromEnv(new URL('ws://[::1]:9/'), { ...env, NO_PROXY: '::1' }), undefined);
});

t.test('proxyForUrl is the value alone', async (t) => {
  t.equal(proxyForUrl(ws, { ALL_PROXY: 'socks5h://all:1080' }), 'socks5h://all:1080');
  t.equal(proxyForUrl(ws, {}), undefined);
});

t.test('proxyForUrl', async (t) => {
  const env = { HTTP_PROXY: 'http://plain:1', HTTPS_PROXY: 'http://secure:2' };
  t.equal(proxyForUrl(new URL('ws://a.test/'), env), 'http://plain:1');
  t.equal(proxyForUrl(new URL('wss://a.test/'), env), 'http://secure:2');
  t.equal(
    proxyForUrl(new URL('wss://a.test/'), { HTTP_PROXY: 'http://plain:1' }),
    'http://plain:1',
    'HTTPS falls back to HTTP',
  );
  t.equal(
    proxyForUrl(new URL('ws://a.test/'), { http_proxy: 'http://lower:3', HTTP_PROXY: 'http://upper:4' }),
    'http://lower:3',
  );
  t.equal(proxyForUrl(new URL('ws://a.test/'), {}), undefined);
  t.equal(proxyForUrl(new URL('ws://a.test/'), { ...env, NO_PROXY: 'a.test' }), undefined);
  t.equal(proxyForUrl(new URL('ws://a.test/'), { ...env, no_proxy: '*' }), undefined);
});

t.test('matchesNoProxy', async (t) => {
  const cases: Array<[string, string, string, boolean]> = [
    ['a.test', '80', 'a.test', true],
    ['sub.a.test', '80', 'a.test', true],
    ['bad-a.test', '80', 'a.test', false],
    ['sub.a.test', '80', '.a.test', true],
    ['a.test', '80', '.a.test', true],
    ['sub.a.test', '80', '*.a.test', true],
    ['a.test', '8080', 'a.test:8080', true],
    ['a.test', '80', 'a.test:8080', false],
    ['x.test', '80', 'a.test, x.test', true],
    ['x.test', '80', 'a.test b.test', false],
    ['anything', '1', '*', true],
    ['::1', '80', '::1', true],
    ['::1', '80', '[::1]:80', true],
    ['::1', '81', '[::1]:80', false],
    ['127.0.0.1', '80', '', false],
  ];
  for (const [host, port, list, expected] of cases) {
    t.equal(matchesNoProxy(host, port, list), expected, `${host}:${port} in ${JSON.stringify(list)}`);
  }
});
