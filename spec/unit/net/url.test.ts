import t from 'tap';
import { matchesNoProxy, proxyForUrl } from '../../../src/net/proxy-env.js';
import {
  apiBaseUrl,
  endpointOf,
  getGlobalOrigin,
  parseUrl,
  parseWebSocketUrl,
  setGlobalOrigin,
  validateProtocols,
} from '../../../src/net/url.js';

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
  t.same(validateProtocols(null), [], "faye's no protocols");
  t.same(validateProtocols('chat'), ['chat']);
  t.same(validateProtocols(['a', 'b']), ['a', 'b']);
  t.same(validateProtocols(42 as never), ['42'], 'WebIDL: a value that is not an object is a DOMString');
  t.same(validateProtocols(new Set(['x', 'y']) as never), ['x', 'y'], 'any iterable is a sequence');
  t.throws(() => validateProtocols(['a', 'a']), { name: 'SyntaxError' });
  t.throws(() => validateProtocols(['echo', 'eCho']), { name: 'SyntaxError' }, 'compared ignoring case');
  t.throws(() => validateProtocols({ headers: {} } as never), { name: 'TypeError', message: /options go after/ });
  for (const bad of ['', 'a b', 'a,b', 'a"', 'ü', 'a/b']) {
    t.throws(() => validateProtocols([bad]), { name: 'SyntaxError' }, bad);
  }
});

t.test('the API base URL', async (t) => {
  t.teardown(() => setGlobalOrigin(undefined));
  t.test('without one, a relative URL is a SyntaxError', async (t) => {
    t.equal(apiBaseUrl(), undefined);
    t.throws(() => parseUrl('/x'), { name: 'SyntaxError' });
  });

  t.test('setGlobalOrigin sets it: relative URLs resolve, ws: mapping included', async (t) => {
    setGlobalOrigin('https://app.test/chat/room');
    t.equal(parseWebSocketUrl('/live').href, 'wss://app.test/live');
    t.equal(parseWebSocketUrl('live?x').href, 'wss://app.test/chat/live?x');
    t.equal(parseWebSocketUrl('ws://other.test/').href, 'ws://other.test/', 'absolute URLs are untouched');
    t.equal(parseUrl('').href, 'https://app.test/chat/room');
    const copy = getGlobalOrigin() as URL;
    copy.pathname = '/changed';
    t.equal(getGlobalOrigin()?.href, 'https://app.test/chat/room', 'getGlobalOrigin gives a copy');
    setGlobalOrigin(new URL('http://b.test:81/'));
    t.equal(parseWebSocketUrl('/x').href, 'ws://b.test:81/x');
    setGlobalOrigin(undefined);
    t.equal(getGlobalOrigin(), undefined);
    t.throws(() => parseWebSocketUrl('/x'), { name: 'SyntaxError' });
  });

  t.test('setGlobalOrigin takes http: and https: URLs only', async (t) => {
    for (const bad of ['ws://a.test/', 'file:///x', 'relative', '']) {
      t.throws(() => setGlobalOrigin(bad), TypeError, bad);
    }
    t.equal(getGlobalOrigin(), undefined, 'a refused value leaves none');
  });

  t.test('globalThis.location counts where a runtime defines it, after setGlobalOrigin', async (t) => {
    const global = globalThis as { location?: unknown };
    t.teardown(() => {
      delete global.location;
    });
    global.location = { href: 'http://deno.test/app/' };
    t.equal(parseWebSocketUrl('socket').href, 'ws://deno.test/app/socket');
    setGlobalOrigin('http://set.test/');
    t.equal(parseWebSocketUrl('socket').href, 'ws://set.test/socket');
    setGlobalOrigin(undefined);
    Object.defineProperty(global, 'location', {
      configurable: true,
      get() {
        throw new ReferenceError('Access to "location", run again with --location <href>.');
      },
    });
    t.equal(apiBaseUrl(), undefined, 'a location that throws (Deno without --location) is none');
    t.throws(() => parseWebSocketUrl('socket'), { name: 'SyntaxError' });
  });
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
