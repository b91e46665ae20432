import t from 'tap';
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
