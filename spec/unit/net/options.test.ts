// resolveTransport (src/net/options.ts): the transport options of both clients, checked once.
import http2 from 'node:http2';
import t from 'tap';
import {
  CONNECT_OPTION_KEYS,
  DEFAULT_HANDSHAKE_TIMEOUT,
  MAX_TIMER_DELAY,
  resolveTransport,
  TRANSPORT_OPTION_KEYS,
} from '../../../src/net/options.js';
import { MAX_PROXY_RESPONSE_HEAD } from '../../../src/net/transport.js';
import { CLIENT_OPTION_KEYS } from '../../../src/options.js';

t.test('resolveTransport', async (t) => {
  t.test('fills in the defaults: direct, 30 s handshake, no signal, no origin', async (t) => {
    t.same(resolveTransport(undefined), {
      tls: {},
      net: {},
      proxy: undefined,
      handshakeTimeout: 30_000,
      signal: undefined,
      origin: undefined,
      http2: undefined,
    });
    t.equal(DEFAULT_HANDSHAKE_TIMEOUT, 30_000);
    t.equal(MAX_PROXY_RESPONSE_HEAD, 16 * 1024);
    t.equal(MAX_TIMER_DELAY, 2 ** 31 - 1);
  });

  t.test('every proxy shape faye treats as none is a direct connection, whatever else it holds', async (t) => {
    const shapes: unknown[] = [
      undefined,
      null,
      false,
      '',
      {},
      { origin: undefined },
      { origin: null },
      { origin: '' },
      { origin: undefined, tls: { ca: 'a CA' } },
      { origin: undefined, headers: { 'not a token': 'ignored, as faye ignores it' } },
    ];
    for (const proxy of shapes) {
      t.equal(resolveTransport({ proxy: proxy as never }).proxy, undefined, JSON.stringify(proxy) ?? 'undefined');
    }
  });

  t.test('an explicit proxy is parsed once: origin URL, header pairs, tls', async (t) => {
    const ca = 'proxy CA';
    const resolved = resolveTransport({
      proxy: { origin: 'http://user:p%40ss@proxy.test:3128', headers: { 'X-A': 1 }, tls: { ca } },
    }).proxy;
    t.not(resolved, 'env');
    if (resolved === undefined || resolved === 'env') return;
    t.equal(resolved.origin.href, 'http://user:p%40ss@proxy.test:3128/');
    t.same(resolved.headers, [['X-A', '1']]);
    t.same(resolved.tls, { ca });
    t.equal(
      (resolveTransport({ proxy: { origin: new URL('https://proxy.test') } }).proxy as { origin: URL }).origin.protocol,
      'https:',
    );
    t.equal(resolveTransport({ proxy: 'env' }).proxy, 'env');
  });

  t.test('a proxy URL on its own is { origin: url }, for every scheme; a URL object too', async (t) => {
    const origin = (proxy: unknown): string | undefined => {
      const resolved = resolveTransport({ proxy: proxy as never }).proxy;
      return resolved === undefined || resolved === 'env' ? undefined : resolved.origin.href;
    };
    t.equal(origin('socks5://user:p%40ss@proxy.test:1080'), 'socks5://user:p%40ss@proxy.test:1080');
    t.equal(origin('socks5h://proxy.test'), 'socks5h://proxy.test');
    t.equal(origin('http://proxy.test:3128'), 'http://proxy.test:3128/');
    t.equal(origin(new URL('socks5h://[::1]:9')), 'socks5h://[::1]:9', "a URL's own origin ('null') is not read");
    t.equal(origin({ origin: 'socks5h://proxy.test:1080' }), 'socks5h://proxy.test:1080');
    t.equal(origin({ origin: new URL('socks5://proxy.test') }), 'socks5://proxy.test');
    const resolved = resolveTransport({ proxy: 'socks5://proxy.test' }).proxy as { headers: unknown; tls: unknown };
    t.same([resolved.headers, resolved.tls], [[], {}]);
    t.equal(origin({ origin: 'socks5://proxy.test', headers: {} }), 'socks5://proxy.test', 'no headers is fine');
    t.equal(
      origin({ origin: 'socks5://proxy.test', tls: { ca: 'x' } }),
      'socks5://proxy.test',
      'tls is ignored, as for http:',
    );
  });

  t.test('a bad proxy URL never puts its credentials in the message', async (t) => {
    for (const proxy of [
      'socks5://user:hunter2@[bad',
      'http://user:hunter2@exa mple',
      { origin: 'socks5h://u:hunter2@[x' },
    ]) {
      let message = '';
      try {
        resolveTransport({ proxy: proxy as never });
      } catch (error) {
        message = (error as Error).message;
      }
      t.match(message, /is not a valid URL: [a-z0-9]+:\/\/\*\*\*@/, JSON.stringify(proxy));
      t.notMatch(message, /hunter2/, JSON.stringify(proxy));
    }
  });

  t.test('tls.ca wins over the ca shorthand; net is copied', async (t) => {
    const net = { localAddress: '127.0.0.2' };
    t.same(resolveTransport({ ca: 'short', tls: { ca: 'long' } }).tls, { ca: 'long' });
    t.same(resolveTransport({ ca: 'short' }).tls, { ca: 'short' });
    const resolved = resolveTransport({ net });
    t.same(resolved.net, net);
    t.not(resolved.net, net, 'a copy: later changes to the option do not leak in');
  });

  t.test('handshakeTimeout: milliseconds up to 2^31 - 1; 0 and Infinity mean no limit', async (t) => {
    t.equal(resolveTransport({ handshakeTimeout: 250 }).handshakeTimeout, 250);
    t.equal(resolveTransport({ handshakeTimeout: 0 }).handshakeTimeout, 0);
    t.equal(resolveTransport({ handshakeTimeout: Number.POSITIVE_INFINITY }).handshakeTimeout, 0);
    t.equal(resolveTransport({ handshakeTimeout: MAX_TIMER_DELAY }).handshakeTimeout, MAX_TIMER_DELAY);
  });

  t.test('signal and origin pass through once checked', async (t) => {
    const { signal } = new AbortController();
    t.equal(resolveTransport({ signal }).signal, signal);
    t.equal(resolveTransport({ origin: 'https://app.example:8443' }).origin, 'https://app.example:8443');
  });

  t.test('a bad option is a TypeError naming it', async (t) => {
    const bad: Array<[unknown, RegExp]> = [
      [{ tls: null }, /^tls must be an object/],
      [{ tls: 'x' }, /^tls must be an object/],
      [{ net: 1 }, /^net must be an object/],
      [{ proxy: 'proxy.test:3128' }, /^proxy must be an http:, https:, socks5: or socks5h: URL, not proxy\.test:/],
      [{ proxy: 'not a url' }, /^proxy is not a valid URL: not a url/],
      [
        { proxy: true },
        /^proxy must be a proxy URL string \(http:\/\/, https:\/\/, socks5:\/\/, socks5h:\/\/\), \{ origin, headers\?, tls\? \} or 'env'/,
      ],
      [{ proxy: 3128 }, /^proxy must be/],
      [{ proxy: { origin: 42 } }, /^proxy\.origin must be a URL string/],
      [{ proxy: { origin: 'not a url' } }, /^proxy\.origin is not a valid URL: not a url/],
      [
        { proxy: { origin: 'ftp://proxy.test:1080' } },
        /^proxy\.origin must be an http:, https:, socks5: or socks5h: URL, not ftp:$/,
      ],
      [{ proxy: 'socks4://proxy.test:1080' }, /not socks4: \(SOCKS4 is not supported: use socks5: or socks5h:\)$/],
      [{ proxy: { origin: 'socks://proxy.test' } }, /not socks: \(SOCKS4 is not supported/],
      [{ proxy: 'socks5:proxy.test' }, /^proxy names no host: socks5:proxy\.test$/],
      [{ proxy: 'socks5h:///path' }, /^proxy names no host/],
      [{ proxy: 'socks5://a%zz@proxy.test' }, /^proxy has credentials that are not valid percent-encoding$/],
      [
        { proxy: `socks5://${'u'.repeat(256)}:p@proxy.test` },
        /^proxy has a user or password over 255 bytes, more than SOCKS5 can send \(RFC 1929\)$/,
      ],
      [{ proxy: `socks5h://u:${'%C3%A9'.repeat(128)}@proxy.test` }, /over 255 bytes/],
      [
        { proxy: { origin: 'socks5://proxy.test', headers: { 'X-A': '1' } } },
        /^proxy\.headers go with an HTTP CONNECT; a socks5: proxy has no request to carry them$/,
      ],
      [{ proxy: { origin: 'http://a%zz@proxy.test' } }, /^proxy\.origin has credentials that are not valid/],
      [{ proxy: { origin: 'http://proxy.test', headers: { 'x y': 1 } } }, /^proxy\.headers: "x y" is not a valid/],
      [{ proxy: { origin: 'http://proxy.test', headers: { a: 'b\r\nc: d' } } }, /^proxy\.headers: .*CR, LF or NUL/],
      [{ proxy: { origin: 'http://proxy.test', tls: 'x' } }, /^proxy\.tls must be an object/],
      [{ handshakeTimeout: -1 }, /^handshakeTimeout must be a number of milliseconds from 0 to 2147483647/],
      [{ handshakeTimeout: Number.NaN }, /^handshakeTimeout/],
      [{ handshakeTimeout: '1000' }, /^handshakeTimeout/],
      [{ handshakeTimeout: 2 ** 31 }, /^handshakeTimeout/],
      [{ signal: {} }, /^signal must be an AbortSignal/],
      [{ signal: { aborted: false, addEventListener() {} } }, /^signal must be an AbortSignal/],
      [{ signal: null }, /^signal must be an AbortSignal/],
      [{ origin: 'https://app.example/' }, /^origin must be a serialized origin/],
      [{ origin: 'app.example' }, /^origin must be a serialized origin/],
      [{ origin: '' }, /^origin must be a serialized origin/],
      [{ origin: 'https://bücher.example' }, /^origin must be a serialized origin/],
      [{ origin: 'https://a\r\nX: y' }, /^origin must be a serialized origin/],
      [{ origin: 5 }, /^origin must be a serialized origin/],
    ];
    for (const [options, message] of bad) {
      t.throws(() => resolveTransport(options as never), { name: 'TypeError', message }, JSON.stringify(options));
    }
  });
});

t.test('resolveTransport: http2', async (t) => {
  const session = http2.connect('https://localhost:1');
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  t.equal(resolveTransport({ http2: false }).http2, undefined, 'false is HTTP/1.1');
  t.equal(resolveTransport({ http2: true, ca: 'a CA' }).http2, true, 'a session of its own takes the TLS options');
  t.equal(resolveTransport({ http2: session }).http2, session);
  t.equal(resolveTransport({ http2: session, proxy: { origin: '' } }).http2, session, "faye's empty proxy is none");
  for (const value of ['h2', 1, null, {}, { request() {} }]) {
    t.throws(
      () => resolveTransport({ http2: value as never }),
      { name: 'TypeError', message: /^http2 must be/ },
      String(value),
    );
  }
  t.throws(() => resolveTransport({ http2: session, tls: {}, net: {} }), {
    name: 'TypeError',
    message: /^tls, net shape a new connection/,
  });
  t.throws(() => resolveTransport({ http2: session, proxy: 'env' }), { message: /^proxy shape/ });
});

t.test("both clients' keys hold every transport and connect option, once", async (t) => {
  for (const key of [...TRANSPORT_OPTION_KEYS, ...CONNECT_OPTION_KEYS]) {
    t.equal(CLIENT_OPTION_KEYS.filter((name) => name === key).length, 1, key);
  }
});
