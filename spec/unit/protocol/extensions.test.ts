// Negotiation through websocket-extensions, and ws's perMessageDeflate
// parameters mapped onto permessage-deflate's from each end.

import zlib from 'node:zlib';
import deflate from 'permessage-deflate';
import t from 'tap';
import {
  acceptExtensions,
  DEFAULT_CONCURRENCY_LIMIT,
  DEFAULT_THRESHOLD,
  isTooLarge,
  Limiter,
  offerExtensions,
  resolveExtensions,
} from '../../../src/protocol/extensions.js';

t.test('perMessageDeflate parameters become the offer a client makes', async (t) => {
  const config = resolveExtensions(
    undefined,
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
    'client',
    1000,
  );
  const offer = offerExtensions(config);
  t.equal(
    offer?.header,
    'permessage-deflate; client_no_context_takeover; client_max_window_bits=11; server_no_context_takeover; server_max_window_bits=10',
  );
});

t.test('the server answers an offer with its own parameters', async (t) => {
  const server = resolveExtensions(undefined, { serverNoContextTakeover: true }, 'server', 1000);
  const agreed = acceptExtensions(server, 'permessage-deflate; client_max_window_bits');
  t.equal(agreed?.header, 'permessage-deflate; server_no_context_takeover');
  t.equal(agreed?.negotiated.rsv, 0x40, 'RSV1 is now allowed');
});

t.test('nothing configured or nothing offered: no negotiation, no Extensions object', async (t) => {
  const none = resolveExtensions(undefined, undefined, 'server', 1000);
  t.equal(acceptExtensions(none, 'permessage-deflate'), undefined);
  t.equal(offerExtensions(none), undefined);
  const some = resolveExtensions(undefined, true, 'server', 1000);
  t.equal(acceptExtensions(some, undefined), undefined);
  t.equal(acceptExtensions(some, 'x-unknown'), undefined);
});

t.test('a malformed offer throws, for the handshake to refuse with 400', async (t) => {
  const some = resolveExtensions(undefined, true, 'server', 1000);
  t.throws(() => acceptExtensions(some, 'permessage-deflate; ;;'), SyntaxError);
});

t.test('the client refuses an answer it did not offer or cannot accept', async (t) => {
  const offer = offerExtensions(resolveExtensions(undefined, true, 'client', 1000));
  t.throws(() => offer?.activate('x-unknown'), /unknown extension/);
  const again = offerExtensions(resolveExtensions(undefined, true, 'client', 1000));
  t.throws(() => again?.activate('permessage-deflate; server_max_window_bits=99'), /unacceptable/);
  const fine = offerExtensions(resolveExtensions(undefined, true, 'client', 1000));
  t.equal(fine?.activate('permessage-deflate')?.rsv, 0x40);
});

t.test("an application's configured permessage-deflate keeps its options and gains the bound", async (t) => {
  let inflaters = 0;
  const custom = {
    ...zlib,
    createInflateRaw: (options?: zlib.ZlibOptions) => {
      inflaters++;
      return zlib.createInflateRaw(options);
    },
  };
  const configured = deflate.configure({ zlib: custom, level: 1 });
  const config = resolveExtensions([configured], undefined, 'server', 100);
  const agreed = acceptExtensions(config, 'permessage-deflate');
  t.ok(agreed);
  const negotiated = agreed?.negotiated;
  const error = await new Promise<Error | null>((resolve) =>
    negotiated?.incoming(
      {
        rsv1: true,
        rsv2: false,
        rsv3: false,
        opcode: 2,
        data: zlib.deflateRawSync(Buffer.alloc(10_000)).subarray(0, -4),
      },
      (e) => resolve(e),
    ),
  );
  t.ok(isTooLarge(error), 'inflation stopped at maxLength (100)');
  t.equal(inflaters, 1, "through the application's zlib");
  t.equal(
    resolveExtensions([configured], undefined, 'server', 100).plugins[0],
    config.plugins[0],
    'one bounded copy per plugin and limit',
  );
});

t.test('option errors are TypeErrors with the exact message', async (t) => {
  const cases: Array<[string, unknown, unknown, string]> = [
    ['a string for extensions', 'deflate', undefined, 'extensions must be an array of websocket-extensions plugins'],
    ['null in extensions', [null], undefined, 'extensions must be an array of websocket-extensions plugins'],
    ['a number in extensions', [1], undefined, 'extensions must be an array of websocket-extensions plugins'],
    ['a plugin without a name', [{}], undefined, 'extensions must be an array of websocket-extensions plugins'],
    [
      'a plugin with a numeric name',
      [{ name: 1 }],
      undefined,
      'extensions must be an array of websocket-extensions plugins',
    ],
    ['both forms', [deflate], true, 'Give permessage-deflate either in extensions or as perMessageDeflate, not both'],
    ['null', undefined, null, 'perMessageDeflate must be true, false or an object of parameters'],
    ['a string', undefined, 'yes', 'perMessageDeflate must be true, false or an object of parameters'],
    [
      'an unknown parameter',
      undefined,
      { nope: 1 },
      'Unrecognized perMessageDeflate parameter: "nope". Valid ones are: serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits, level, memLevel, threshold, concurrencyLimit',
    ],
    [
      'a flag that is a string',
      undefined,
      { clientNoContextTakeover: 'true' },
      'perMessageDeflate.clientNoContextTakeover must be a boolean',
    ],
    [
      'a flag of the server',
      undefined,
      { serverNoContextTakeover: 1 },
      'perMessageDeflate.serverNoContextTakeover must be a boolean',
    ],
    [
      'window bits 8',
      undefined,
      { serverMaxWindowBits: 8 },
      'perMessageDeflate.serverMaxWindowBits must be an integer from 9 to 15',
    ],
    [
      'window bits 16',
      undefined,
      { clientMaxWindowBits: 16 },
      'perMessageDeflate.clientMaxWindowBits must be an integer from 9 to 15',
    ],
    [
      'window bits 9.5',
      undefined,
      { clientMaxWindowBits: 9.5 },
      'perMessageDeflate.clientMaxWindowBits must be an integer from 9 to 15',
    ],
    ['level 10', undefined, { level: 10 }, 'perMessageDeflate.level must be an integer from 0 to 9'],
    ['level -1', undefined, { level: -1 }, 'perMessageDeflate.level must be an integer from 0 to 9'],
    ['memLevel 0', undefined, { memLevel: 0 }, 'perMessageDeflate.memLevel must be an integer from 1 to 9'],
    ['memLevel 10', undefined, { memLevel: 10 }, 'perMessageDeflate.memLevel must be an integer from 1 to 9'],
    ['threshold -1', undefined, { threshold: -1 }, 'perMessageDeflate.threshold must be an integer from 0 up'],
    ['threshold 1.5', undefined, { threshold: 1.5 }, 'perMessageDeflate.threshold must be an integer from 0 up'],
    [
      'concurrencyLimit 0',
      undefined,
      { concurrencyLimit: 0 },
      'perMessageDeflate.concurrencyLimit must be an integer from 1 up',
    ],
  ];
  for (const [name, extensions, perMessageDeflate, message] of cases) {
    for (const role of ['server', 'client'] as const) {
      t.throws(
        () => resolveExtensions(extensions, perMessageDeflate, role, 1),
        new TypeError(message),
        `${name} (${role})`,
      );
    }
  }
});

t.test('plugins other than permessage-deflate are used as they are', async (t) => {
  const plugin = (name: string, configure?: () => never) => ({
    name,
    type: 'permessage',
    rsv1: true,
    rsv2: false,
    rsv3: false,
    ...(configure ? { configure } : {}),
  });
  const fail = (): never => {
    throw new Error('not to be reconfigured');
  };
  for (const custom of [plugin('x-custom', fail), plugin('permessage-deflate'), plugin('x-plain')]) {
    const config = resolveExtensions([custom], undefined, 'server', 1000);
    t.equal(config.plugins[0], custom, `${custom.name}${'configure' in custom ? ' with configure()' : ''}`);
  }
  const bounded = resolveExtensions([deflate], undefined, 'server', 1000).plugins[0];
  t.not(bounded, deflate, 'permessage-deflate itself gets a bounded copy');
  t.equal(resolveExtensions([deflate], undefined, 'client', 1000).plugins[0], bounded, 'one copy per limit');
});

t.test('the edges of each parameter are accepted', async (t) => {
  for (const params of [
    { serverMaxWindowBits: 9, clientMaxWindowBits: 15 },
    { serverMaxWindowBits: 15, clientMaxWindowBits: 9 },
    { level: 0, memLevel: 1 },
    { level: 9, memLevel: 9 },
    { threshold: 0, concurrencyLimit: 1 },
    { serverNoContextTakeover: false, clientNoContextTakeover: false },
  ]) {
    t.doesNotThrow(() => resolveExtensions(undefined, params, 'server', 1), JSON.stringify(params));
  }
  const config = resolveExtensions(undefined, { threshold: 0, concurrencyLimit: 1 }, 'server', 1);
  t.same([config.threshold, config.concurrencyLimit], [0, 1]);
  const defaults = resolveExtensions(undefined, true, 'server', 1);
  t.same([defaults.threshold, defaults.concurrencyLimit], [DEFAULT_THRESHOLD, DEFAULT_CONCURRENCY_LIMIT]);
  t.same([DEFAULT_THRESHOLD, DEFAULT_CONCURRENCY_LIMIT], [1024, 10]);
  const off = resolveExtensions(undefined, false, 'server', 1);
  t.same([off.plugins.length, off.threshold], [0, 0], 'false: nothing configured, every message as it is');
  const plain = resolveExtensions(undefined, undefined, 'client', 1);
  t.same([plain.plugins.length, plain.threshold], [0, 0]);
});

t.test('a server offer names only what was set, from the server end', async (t) => {
  const server = resolveExtensions(
    undefined,
    { serverMaxWindowBits: 9, clientNoContextTakeover: true },
    'server',
    1000,
  );
  t.equal(
    acceptExtensions(server, 'permessage-deflate; server_max_window_bits=12; client_max_window_bits')?.header,
    'permessage-deflate; client_no_context_takeover; server_max_window_bits=9',
    'the smaller window of the two',
  );
  const client = resolveExtensions(undefined, true, 'client', 1000);
  t.equal(offerExtensions(client)?.header, 'permessage-deflate; client_max_window_bits');
});

t.test('level reaches zlib: level 0 stores, the default compresses', async (t) => {
  const text = 'a'.repeat(4000);
  const sizes: number[] = [];
  for (const params of [{ level: 0, threshold: 0 }, { threshold: 0 }]) {
    const config = resolveExtensions(undefined, params, 'client', 100_000);
    const offer = offerExtensions(config);
    const negotiated = offer?.activate('permessage-deflate');
    const out = await new Promise<Buffer>((resolve, reject) =>
      negotiated?.outgoing(
        { rsv1: false, rsv2: false, rsv3: false, opcode: 1, data: Buffer.from(text) },
        (error, message) => (error || !message ? reject(error) : resolve(message.data)),
      ),
    );
    sizes.push(out.length);
  }
  t.ok((sizes[0] as number) > 4000, `level 0: ${sizes[0]} bytes for 4000 (stored)`);
  t.ok((sizes[1] as number) < 100, `default level: ${sizes[1]} bytes for 4000`);
});

t.test('an empty answer activates nothing; an answer to an empty or missing offer is nothing', async (t) => {
  const offer = offerExtensions(resolveExtensions(undefined, true, 'client', 1000));
  t.equal(offer?.activate(''), undefined, "'' is no extension");
  t.equal(offer?.activate(undefined), undefined);
  const server = resolveExtensions(undefined, true, 'server', 1000);
  t.equal(acceptExtensions(server, ''), undefined);
  t.equal(acceptExtensions(resolveExtensions(undefined, undefined, 'server', 1000), 'permessage-deflate'), undefined);
});

t.test('Limiter runs at most `concurrency` jobs at once, in order, without recursing on sync jobs', async (t) => {
  const limiter = new Limiter(2);
  const started: number[] = [];
  const finish: Array<() => void> = [];
  for (let i = 0; i < 5; i++) {
    limiter.run((done) => {
      started.push(i);
      finish.push(done);
    });
  }
  t.same(started, [0, 1], 'two at once');
  finish[0]?.();
  finish[0]?.();
  t.same(started, [0, 1, 2], 'one more per job done, once');
  finish[1]?.();
  finish[2]?.();
  t.same(started, [0, 1, 2, 3, 4], 'in the order given');
  const sync = new Limiter(1);
  let release: () => void = () => {};
  sync.run((done) => {
    release = done;
  });
  let count = 0;
  for (let i = 0; i < 50_000; i++) {
    sync.run((done) => {
      count++;
      done();
    });
  }
  t.equal(count, 0, 'queued behind the first');
  release();
  t.equal(count, 50_000, 'fifty thousand queued jobs that finish at once ran, without a deep stack');
});
