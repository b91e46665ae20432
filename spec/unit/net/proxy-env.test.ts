import t from 'tap';
import { proxyForUrl, proxyFromEnv } from '../../../src/net/proxy-env.js';

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
