import deflate from 'permessage-deflate';
import t from 'tap';
import { toArrayBuffer, toMessageData, toPayload } from '../../src/dom/data.js';
import { validateHeaders } from '../../src/net/headers.js';
import {
  CLIENT_OPTION_KEYS,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_LENGTH,
  readBrowserOptions,
  resolveClientOptions,
  resolveOptions,
  SERVER_OPTION_KEYS,
} from '../../src/options.js';

t.test('resolveOptions', async (t) => {
  t.test('fills in the defaults: no extension on the server, permessage-deflate offered by the client', async (t) => {
    const server = resolveOptions(undefined, SERVER_OPTION_KEYS, 'server');
    t.same(server, {
      extensions: { plugins: [], maxLength: DEFAULT_MAX_LENGTH, threshold: 0, concurrencyLimit: 10 },
      headers: [],
      maxLength: DEFAULT_MAX_LENGTH,
      maxFragments: 1_048_575,
      ping: 0,
      closeTimeout: DEFAULT_CLOSE_TIMEOUT,
      binaryType: 'nodebuffer',
    });
    t.equal(DEFAULT_MAX_LENGTH, 2 ** 26 - 1);
    const client = resolveOptions(undefined, CLIENT_OPTION_KEYS, 'client');
    t.equal(client.binaryType, 'blob');
    t.same(
      client.extensions.plugins.map((plugin) => plugin.name),
      ['permessage-deflate'],
    );
    t.equal(client.extensions.threshold, 1024, "ws's default threshold");
    const off = resolveOptions({ perMessageDeflate: false }, CLIENT_OPTION_KEYS, 'client');
    t.same(off.extensions.plugins, []);
  });

  t.test('an application that gives permessage-deflate in extensions is not offered it twice', async (t) => {
    const given = resolveOptions({ extensions: [deflate] }, CLIENT_OPTION_KEYS, 'client');
    t.same(
      given.extensions.plugins.map((plugin) => plugin.name),
      ['permessage-deflate'],
    );
    t.equal(given.extensions.threshold, 0, 'faye-style extensions see every message');
    t.throws(
      () => resolveOptions({ extensions: [deflate], perMessageDeflate: true }, SERVER_OPTION_KEYS, 'server'),
      /either in extensions or as perMessageDeflate/,
    );
  });

  t.test('refuses unknown keys and bad values with a TypeError', async (t) => {
    const bad: unknown[] = [
      { nope: 1 },
      { maxLength: -1 },
      { maxLength: 1.5 },
      { maxFragments: 0 },
      { maxFragments: 2.5 },
      { maxFragments: '16' },
      { ping: 'often' },
      { closeTimeout: Number.NaN },
      { binaryType: 'text' },
      { extensions: 'deflate' },
      { headers: 'x' },
      { headers: { 'bad name': 'v' } },
      { headers: { ok: 'v\r\nx: y' } },
      { maxLength: 2 ** 53 },
      { perMessageDeflate: 'yes' },
      { perMessageDeflate: { windowBits: 10 } },
      { perMessageDeflate: { serverMaxWindowBits: 8 } },
      { perMessageDeflate: { clientNoContextTakeover: 'true' } },
      { perMessageDeflate: { threshold: -1 } },
      { perMessageDeflate: { concurrencyLimit: 0 } },
      { perMessageDeflate: { level: 10 } },
    ];
    for (const options of bad) {
      t.throws(
        () => resolveOptions(options as never, SERVER_OPTION_KEYS, 'server'),
        TypeError,
        JSON.stringify(options),
      );
    }
  });
});

t.test('headers', async (t) => {
  t.same(validateHeaders({ A: 1, B: 'two', C: undefined }, 'h'), [
    ['A', '1'],
    ['B', 'two'],
  ]);
  t.throws(() => validateHeaders({ A: 'x\0' }, 'h'), /CR, LF or NUL/);
});

t.test('data conversions', async (t) => {
  t.same(toPayload('☃'), { kind: 'text', data: '☃', size: 3 });
  t.same(toPayload(7), { kind: 'text', data: '7', size: 1 });
  const view = new Uint16Array([1, 2, 3]).subarray(1);
  const payload = toPayload(view);
  t.equal(payload.kind, 'binary');
  t.equal(payload.size, 4);
  t.equal(toPayload(new Blob(['abc'])).size, 3);
  const buffer = Buffer.from([1, 2, 3, 4]).subarray(1, 3);
  t.same([...new Uint8Array(toArrayBuffer(buffer))], [2, 3]);
  t.ok(toMessageData(buffer, 'blob') instanceof Blob);
  t.equal(toMessageData(buffer, 'nodebuffer'), buffer);
});

t.test('readBrowserOptions', async (t) => {
  t.test('an extra argument that is not an object is ignored; for a dictionary it is a TypeError', async (t) => {
    for (const value of ['Stray argument', 42, true, Symbol('x'), () => {}]) {
      t.equal(readBrowserOptions(value, CLIENT_OPTION_KEYS, 'ignore'), undefined, String(value));
    }
    t.equal(readBrowserOptions(undefined, CLIENT_OPTION_KEYS, 'throw'), undefined);
    t.equal(readBrowserOptions(null, CLIENT_OPTION_KEYS, 'throw'), undefined);
    t.throws(() => readBrowserOptions(42, CLIENT_OPTION_KEYS, 'throw'), TypeError);
  });

  t.test('keeps the option keys and drops keys that are nothing like one', async (t) => {
    const headers = { A: 'b' };
    t.same(readBrowserOptions({ headers, foo: 1, data: [1], id: 'x' }, CLIENT_OPTION_KEYS, 'ignore'), { headers });
    t.same(readBrowserOptions([1, 2], CLIENT_OPTION_KEYS, 'ignore'), {});
    t.same(readBrowserOptions({ a: 1, type: 'x', name: 'n' }, CLIENT_OPTION_KEYS, 'ignore'), {});
  });

  t.test('a key that looks like an option name and is not one is a TypeError saying what to write', async (t) => {
    const cases: Array<[string, RegExp]> = [
      ['heders', /did you mean headers\?/],
      ['Headers', /did you mean headers\?/],
      ['tsl', /did you mean tls\?/],
      ['CA', /did you mean ca\?/],
      ['handshakeTimout', /did you mean handshakeTimeout\?/],
      ['maxLenght', /did you mean maxLength\?/],
      ['rejectUnauthorized', /tls: \{ rejectUnauthorized \}/],
      ['maxPayload', /maxLength/],
      ['localAddress', /net: \{ localAddress \}/],
      ['followRedirects', /not redirected/],
      ['pingInterval', /options that mention ping/],
      ['extraHeaders', /options that mention headers/],
      ['proxyUrl', /options that mention proxy/],
    ];
    for (const [key, message] of cases) {
      t.throws(
        () => readBrowserOptions({ [key]: 1 }, CLIENT_OPTION_KEYS, 'ignore'),
        { name: 'TypeError', message },
        key,
      );
    }
  });
});

t.test("resolveClientOptions: WebSocket.Client's third argument in one pass", async (t) => {
  t.test("the socket's options with the client's defaults, and the transport's", async (t) => {
    const { socket, transport } = resolveClientOptions({ maxLength: 10, handshakeTimeout: 5, ca: 'a CA' });
    t.equal(socket.maxLength, 10);
    t.equal(socket.binaryType, 'blob', "the browser's default");
    t.ok(socket.extensions.plugins.length > 0, 'permessage-deflate offered, as browsers do');
    t.equal(transport.handshakeTimeout, 5);
    t.same(transport.tls, { ca: 'a CA' });
  });
  t.test('what a browser ignores is ignored: a non-object, keys that are not options', async (t) => {
    for (const value of [undefined, null, 42, 'x', { mode: 'cors' }]) {
      const { socket, transport } = resolveClientOptions(value);
      t.equal(socket.maxLength, DEFAULT_MAX_LENGTH, String(value));
      t.equal(transport.proxy, undefined, String(value));
    }
  });
  t.test('a bad value or a near-miss key is a TypeError, from either half', async (t) => {
    t.throws(() => resolveClientOptions({ maxLength: -1 }), { name: 'TypeError', message: /^maxLength/ });
    t.throws(() => resolveClientOptions({ handshakeTimeout: -1 }), { name: 'TypeError', message: /^handshakeTimeout/ });
    t.throws(() => resolveClientOptions({ proxi: 'http://p:1' }), {
      name: 'TypeError',
      message: /did you mean proxy\?/,
    });
  });
});
