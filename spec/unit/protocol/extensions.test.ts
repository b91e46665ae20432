// Negotiation through websocket-extensions, and ws's perMessageDeflate
// parameters mapped onto permessage-deflate's from each end.

import zlib from 'node:zlib';
import deflate from 'permessage-deflate';
import t from 'tap';
import {
  acceptExtensions,
  DEFAULT_CONCURRENCY_LIMIT,
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

t.test('option errors are TypeErrors naming the parameter', async (t) => {
  t.throws(() => resolveExtensions('deflate', undefined, 'server', 1), /extensions must be an array/);
  t.throws(() => resolveExtensions([deflate], true, 'server', 1), /not both/);
  t.throws(() => resolveExtensions(undefined, { nope: 1 }, 'server', 1), /nope/);
  t.throws(() => resolveExtensions(undefined, { serverMaxWindowBits: 16 }, 'server', 1), /serverMaxWindowBits/);
  t.throws(() => resolveExtensions(undefined, { threshold: 1.5 }, 'server', 1), /threshold/);
  t.equal(resolveExtensions(undefined, true, 'server', 1).concurrencyLimit, DEFAULT_CONCURRENCY_LIMIT);
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
