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
import { MAX_EXTENSION_OFFERS, MAX_EXTENSION_PARAMS } from '../../../src/protocol/offers.js';

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

/**
 * A websocket-extensions plugin that records the offers and answers it is
 * given, and accepts or declines as told (RSV3 only, so that it can sit beside
 * permessage-deflate).
 */
function recorder(name: string, accept = false) {
  const seen = { offers: [] as Array<Array<Record<string, unknown>>>, answers: [] as Array<Record<string, unknown>> };
  const session = {
    generateOffer: () => ({}),
    generateResponse: () => ({}),
    activate: (params: Record<string, unknown>) => {
      seen.answers.push(params);
      return true;
    },
    processIncomingMessage: (message: unknown, callback: (e: null, m: unknown) => void) => callback(null, message),
    processOutgoingMessage: (message: unknown, callback: (e: null, m: unknown) => void) => callback(null, message),
    close: () => {},
  };
  const plugin = {
    name,
    type: 'permessage',
    rsv1: false,
    rsv2: false,
    rsv3: true,
    createClientSession: () => session,
    createServerSession: (offers: Array<Record<string, unknown>>) => {
      seen.offers.push(offers);
      return accept ? session : null;
    },
  };
  return { plugin, seen };
}

t.test(`the server reads at most ${MAX_EXTENSION_OFFERS} offers, and declines the rest unread`, async (t) => {
  t.equal(MAX_EXTENSION_OFFERS, 16);
  const server = resolveExtensions(undefined, true, 'server', 1000);
  const unknown = (n: number) => Array.from({ length: n }, (_, i) => `x-${i}`);
  t.equal(
    acceptExtensions(server, [...unknown(15), 'permessage-deflate'].join(', '))?.header,
    'permessage-deflate',
    'the 16th offer is read',
  );
  t.equal(
    acceptExtensions(server, [...unknown(16), 'permessage-deflate'].join(', ')),
    undefined,
    'the 17th is not: no extension',
  );
  t.equal(
    acceptExtensions(server, [...unknown(16), 'permessage-deflate; ;;', '"'].join(', ')),
    undefined,
    'nor is malformed text after it (no SyntaxError, no 400)',
  );
  t.throws(() => acceptExtensions(server, [...unknown(15), ';;'].join(', ')), SyntaxError, 'within the bound it is');
});

t.test('a plugin is given its own offers, at most 16, in order: 3,000 offered', async (t) => {
  const { plugin, seen } = recorder('x-count');
  const config = resolveExtensions([plugin], undefined, 'server', 1000);
  const offers = Array.from({ length: 3000 }, (_, i) => `x-count; n=${i}`);
  t.equal(acceptExtensions(config, offers.join(', ')), undefined);
  t.same(
    seen.offers,
    [Array.from({ length: 16 }, (_, n) => ({ n }))],
    'one call, with offers 0 to 15 and their parameters',
  );
  // permessage-deflate takes the first it can accept (RFC 7692 §5).
  const deflated = resolveExtensions(undefined, true, 'server', 1000);
  const many = Array.from({ length: 3000 }, () => 'permessage-deflate; client_max_window_bits').join(', ');
  t.equal(
    acceptExtensions(deflated, `permessage-deflate; client_max_window_bits=99, ${many}`)?.header,
    'permessage-deflate',
    'the first offer is unacceptable, the second is taken',
  );
});

t.test(`an offer with more than ${MAX_EXTENSION_PARAMS} parameters is declined, and so is the rest`, async (t) => {
  t.equal(MAX_EXTENSION_PARAMS, 16);
  const { plugin, seen } = recorder('x-count', true);
  const config = resolveExtensions([plugin], undefined, 'server', 1000);
  const params = (n: number) => Array.from({ length: n }, (_, i) => `; p${i}`).join('');
  t.match(acceptExtensions(config, `x-count${params(16)}`), { header: 'x-count' }, '16 parameters are read');
  t.equal(seen.offers.length, 1);
  t.equal(Object.keys(seen.offers[0]?.[0] ?? {}).length, 16);
  t.equal(acceptExtensions(config, `x-count${params(17)}, x-count`), undefined, '17 are not, nor what follows');
  t.equal(seen.offers.length, 1, 'the plugin was not asked');
  // 10,000 parameters on an unknown offer before the one the server takes.
  const deflated = resolveExtensions(undefined, true, 'server', 1000);
  t.equal(acceptExtensions(deflated, `x-unknown${params(10_000)}, permessage-deflate`), undefined);
});

t.test('the client reads no more answers than it made offers', async (t) => {
  const fresh = () => offerExtensions(resolveExtensions(undefined, true, 'client', 1000));
  t.throws(() => fresh()?.activate(Array.from({ length: 3000 }, () => 'permessage-deflate').join(', ')), {
    message: 'The server answered with more extensions than were offered (1), or one with over 16 parameters',
  });
  t.throws(
    () => fresh()?.activate(`permessage-deflate${'; server_no_context_takeover'.repeat(17)}`),
    { message: 'The server answered with more extensions than were offered (1), or one with over 16 parameters' },
    'an answer with 17 parameters',
  );
  t.throws(() => fresh()?.activate(`permessage-deflate; ${'x'.repeat(60_000)}`), {
    message: `${`Server sent unacceptable extension parameters: permessage-deflate; ${'x'.repeat(60_000)}`.slice(0, 200)}…`,
  });
  t.throws(() => fresh()?.activate('permessage-deflate;;'), SyntaxError, 'a malformed answer');
});

t.test('the client fails an answer that names one of its extensions twice', async (t) => {
  // websocket-extensions refuses a second answer only for an extension that
  // uses the same RSV bit; one that uses none would run every message twice.
  const { plugin, seen } = recorder('x-count');
  const bare = { ...plugin, rsv3: false };
  const config = resolveExtensions([bare], true, 'client', 1000);
  const offer = offerExtensions(config);
  t.equal(offer?.header, 'x-count, permessage-deflate; client_max_window_bits');
  t.throws(() => offer?.activate('x-count, x-count'), { message: 'Server sent two extension responses for "x-count"' });
  t.same(seen.answers, [], 'nothing was activated');
  const again = offerExtensions(config);
  t.equal(again?.activate('x-count; a=1, permessage-deflate')?.rsv, 0x40);
  t.same(seen.answers, [{ a: 1 }]);
});
