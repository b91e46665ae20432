import t from 'tap';
import { matchesNoProxy, proxyForUrl } from '../../../src/net/proxy-env.js';
import { endpointOf, parseWebSocketUrl, validateProtocols } from '../../../src/net/url.js';

t.test('parseWebSocketUrl', async (t) => {
  t.test('accepts ws: and wss:, and maps http: and https:', async (t) => {
    t.equal(parseWebSocketUrl('ws://a.test/x?y').href, 'ws://a.test/x?y');
    t.equal(parseWebSocketUrl('wss://a.test').href, 'wss://a.test/');
    t.equal(parseWebSocketUrl('http://a.test:81/').href, 'ws://a.test:81/');
    t.equal(parseWebSocketUrl(new URL('https://a.test/')).href, 'wss://a.test/');
  });

  t.test('refuses other schemes, fragments and garbage with SyntaxError', async (t) => {
    for (const url of ['file:///x', 'ws://a.test/#x', 'ws://a.test/#', 'ws://', '']) {
      t.throws(() => parseWebSocketUrl(url), { name: 'SyntaxError' }, url);
    }
  });

  t.test('endpointOf gives host, default ports and unbracketed IPv6', async (t) => {
    t.same(endpointOf(new URL('ws://a.test/')), { host: 'a.test', port: 80, secure: false });
    t.same(endpointOf(new URL('wss://[::1]/')), { host: '::1', port: 443, secure: true });
    t.same(endpointOf(new URL('https://a.test:8443/')), { host: 'a.test', port: 8443, secure: true });
  });
});

t.test('validateProtocols', async (t) => {
  t.same(validateProtocols(undefined), []);
  t.same(validateProtocols('chat'), ['chat']);
  t.same(validateProtocols(['a', 'b']), ['a', 'b']);
  t.throws(() => validateProtocols(['a', 'a']), { name: 'SyntaxError' });
  for (const bad of ['', 'a b', 'a,b', 'a"', 'ü', 'a/b']) {
    t.throws(() => validateProtocols([bad]), { name: 'SyntaxError' }, bad);
  }
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
