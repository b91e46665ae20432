// The permessage-deflate codec (src/protocol/deflate-codec.ts): small
// messages worked synchronously on a kept or lent zlib context, large ones in
// the thread pool, inflation bounded by maxLength on both paths, an inflation
// that grows past SYNC_OUTPUT_LIMIT finished in the thread pool, order kept,
// zlib's errors reported; and which negotiations get it. node:zlib's one-shot
// functions are the reference peer.

import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import t from 'tap';
import {
  Codec,
  type CodecMessage,
  type CodecParameters,
  codecFor,
  SYNC_LIMIT,
  SYNC_OUTPUT_LIMIT,
} from '../../../src/protocol/deflate-codec.js';
import { acceptExtensions, offerExtensions, resolveExtensions } from '../../../src/protocol/extensions.js';

const { Z_SYNC_FLUSH } = zlib.constants;

function params(overrides: Partial<CodecParameters> = {}): CodecParameters {
  return {
    ownContextTakeover: true,
    peerContextTakeover: true,
    ownWindowBits: 15,
    peerWindowBits: 15,
    level: zlib.constants.Z_DEFAULT_COMPRESSION,
    memLevel: 8,
    strategy: zlib.constants.Z_DEFAULT_STRATEGY,
    maxLength: 64 << 20,
    ...overrides,
  };
}

const message = (data: Buffer, rsv1 = false): CodecMessage => ({ rsv1, rsv2: false, rsv3: false, opcode: 2, data });

/** What a peer reads: `data` with the tail appended, inflated (RFC 7692 §7.2.2). */
function inflated(data: Buffer | undefined): Buffer {
  return zlib.inflateRawSync(Buffer.concat([data ?? Buffer.alloc(0), Buffer.from([0, 0, 0xff, 0xff])]), {
    finishFlush: Z_SYNC_FLUSH,
  });
}

/** What a peer sends: `data` compressed with a sync flush, its tail removed (RFC 7692 §7.2.1). */
function compressed(data: Buffer): Buffer {
  const out = zlib.deflateRawSync(data, { finishFlush: Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** Runs one message through a direction; says whether it called back before returning. */
function run(codec: Codec, direction: 'in' | 'out', input: CodecMessage) {
  let sync = true;
  const result = new Promise<{ error: Error | null; message: CodecMessage | null; sync: boolean }>((resolve) => {
    const callback = (error: Error | null, result: CodecMessage | null) => resolve({ error, message: result, sync });
    if (direction === 'in') codec.processIncomingMessage(input, callback);
    else codec.processOutgoingMessage(input, callback);
  });
  sync = false;
  return result;
}

/** A JSON-like text of about `size` bytes that compresses as real documents do. */
function document(size: number, seed = 1): Buffer {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const part = JSON.stringify({ id: i * seed, name: `user ${(i * 7919 * seed) % 10007}`, at: 1700000000 + i * 37 });
    parts.push(part);
    length += part.length + 1;
  }
  return Buffer.from(parts.join(',').slice(0, size));
}

t.test('a small message is compressed synchronously; a peer inflates it to the same bytes', async (t) => {
  const codec = new Codec(params());
  const data = document(1000);
  const { error, message: out, sync } = await run(codec, 'out', message(Buffer.from(data)));
  t.equal(error, null);
  t.ok(sync, 'called back before processOutgoingMessage returned');
  t.equal(out?.rsv1, true, 'RSV1 set');
  t.same(inflated(out?.data), data);
  t.ok((out?.data.length ?? 0) < data.length / 2, 'and it is smaller');
  codec.close();
});

t.test('a small compressed message is inflated synchronously; an uncompressed one passes as it is', async (t) => {
  const codec = new Codec(params());
  const data = document(3000);
  const inflated = await run(codec, 'in', message(compressed(data), true));
  t.ok(inflated.sync);
  t.same(inflated.message?.data, data);
  const plain = Buffer.from('not compressed');
  const passed = await run(codec, 'in', message(plain, false));
  t.ok(passed.sync);
  t.equal(passed.message?.data, plain, 'the same buffer');
  codec.close();
});

t.test(`a message over SYNC_LIMIT (${SYNC_LIMIT} bytes) goes to the thread pool, both ways`, async (t) => {
  const codec = new Codec(params());
  const data = Buffer.from(document(SYNC_LIMIT * 4));
  const out = await run(codec, 'out', message(Buffer.from(data)));
  t.notOk(out.sync, 'compressed asynchronously');
  t.same(inflated(out.message?.data), data);
  // Random bytes do not compress: over SYNC_LIMIT on the wire too.
  const noise = randomBytes(SYNC_LIMIT * 2);
  const back = await run(codec, 'in', message(compressed(noise), true));
  t.notOk(back.sync, 'inflated asynchronously');
  t.same(back.message?.data, noise);
  codec.close();
});

t.test(
  `an inflation past SYNC_OUTPUT_LIMIT (${SYNC_OUTPUT_LIMIT} bytes) goes on in the thread pool, whole`,
  async (t) => {
    const codec = new Codec(params());
    const data = Buffer.alloc(3 * SYNC_OUTPUT_LIMIT + 12345, 'abc');
    const wire = compressed(data);
    t.ok(wire.length <= SYNC_LIMIT, `${wire.length} bytes on the wire: started synchronously`);
    const back = await run(codec, 'in', message(wire, true));
    t.notOk(back.sync, 'finished later');
    t.equal(back.message?.data.length, data.length);
    t.ok(back.message?.data.equals(data), 'the same bytes');
    codec.close();
  },
);

t.test('inflation stops at maxLength with MessageTooLargeError, on either path', async (t) => {
  for (const [label, size, maxLength] of [
    ['synchronously', 512 * 1024, 100_000],
    ['past SYNC_OUTPUT_LIMIT, in the thread pool', 64 << 20, 4 * SYNC_OUTPUT_LIMIT],
  ] as const) {
    const codec = new Codec(params({ maxLength }));
    const bomb = compressed(Buffer.alloc(size));
    const before = process.memoryUsage().arrayBuffers;
    const { error, message: result } = await run(codec, 'in', message(bomb, true));
    t.equal(error?.name, 'MessageTooLargeError', label);
    t.equal(error?.message, `permessage-deflate: A compressed message inflated past maxLength (${maxLength} bytes)`);
    t.equal(result, null);
    const grown = process.memoryUsage().arrayBuffers - before;
    t.ok(grown < maxLength + (16 << 20), `${label}: external memory grew ${grown} bytes, not ${size}`);
    codec.close();
  }
});

t.test("zlib's complaint about corrupt data is the error, synchronously or not", async (t) => {
  const codec = new Codec(params());
  const { error, sync } = await run(codec, 'in', message(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), true));
  t.ok(sync);
  t.match(error?.message, /^permessage-deflate: \w/);
  codec.close();
});

t.test('with context takeover, messages refer to earlier ones and come back in order', async (t) => {
  // One peer deflater kept across messages, as a browser's.
  const peer = zlib.createDeflateRaw();
  const peerSend = (data: Buffer) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const onData = (chunk: Buffer) => chunks.push(chunk);
      peer.on('data', onData);
      peer.write(data);
      peer.flush(Z_SYNC_FLUSH, () => {
        peer.off('data', onData);
        const out = Buffer.concat(chunks);
        resolve(out.subarray(0, out.length - 4));
      });
    });
  const codec = new Codec(params());
  // Small, large (thread pool) and small again, queued at once: the order holds.
  const sizes = [500, 2000, SYNC_LIMIT * 3, 700, SYNC_OUTPUT_LIMIT * 2, 100];
  const documents = sizes.map((size, i) => document(size, i + 1));
  const wire: Buffer[] = [];
  for (const data of documents) wire.push(await peerSend(data));
  t.ok((wire[3]?.length ?? 0) < documents[3]!.length / 3, 'a repeat compresses against the context');
  const order: number[] = [];
  const all = wire.map(
    (data, i) =>
      new Promise<Buffer | undefined>((resolve) =>
        codec.processIncomingMessage(message(data, true), (error, result) => {
          order.push(i);
          resolve(error ? undefined : result?.data);
        }),
      ),
  );
  const results = await Promise.all(all);
  t.same(order, [0, 1, 2, 3, 4, 5]);
  t.same(
    results.map((data, i) => data?.equals(documents[i] as Buffer)),
    sizes.map(() => true),
  );
  // And outgoing: one inflater on the peer's side reads them all in order.
  const inflater = zlib.createInflateRaw();
  const outs = await Promise.all(documents.map((data) => run(codec, 'out', message(Buffer.from(data)))));
  for (const [i, out] of outs.entries()) {
    const back = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const onData = (chunk: Buffer) => chunks.push(chunk);
      inflater.on('data', onData);
      inflater.write(Buffer.concat([out.message?.data ?? Buffer.alloc(0), Buffer.from([0, 0, 0xff, 0xff])]));
      inflater.flush(() => {
        inflater.off('data', onData);
        resolve(Buffer.concat(chunks));
      });
    });
    t.ok(back.equals(documents[i] as Buffer), `message ${i} (${sizes[i]} bytes) inflates on the peer`);
  }
  codec.close();
  peer.close();
  inflater.close();
});

t.test('without context takeover, each message stands alone, and connections share no state', async (t) => {
  const one = new Codec(params({ ownContextTakeover: false, peerContextTakeover: false }));
  const two = new Codec(params({ ownContextTakeover: false, peerContextTakeover: false }));
  const data = document(4000);
  for (const codec of [one, two, one, two]) {
    const out = await run(codec, 'out', message(Buffer.from(data)));
    // A one-shot inflater reads it: no earlier message is referred to.
    t.same(inflated(out.message?.data), data);
    const back = await run(codec, 'in', message(compressed(data), true));
    t.same(back.message?.data, data);
  }
  // A corrupt message on one connection leaves the other's next message whole.
  const bad = await run(one, 'in', message(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), true));
  t.ok(bad.error);
  t.same((await run(two, 'in', message(compressed(data), true))).message?.data, data);
  one.close();
  two.close();
});

t.test('close() lets the messages already given call back, then refuses more', async (t) => {
  // Each callback frees a slot of the per-process job limit (extensions.ts): none may be lost.
  const codec = new Codec(params());
  const data = document(SYNC_LIMIT * 4);
  const results: Array<string> = [];
  const done = new Promise<void>((resolve) => {
    codec.processOutgoingMessage(message(Buffer.from(data)), (error, result) => {
      results.push(error ? `error ${error.message}` : `message ${result?.rsv1}`);
    });
    codec.processOutgoingMessage(message(Buffer.from(data)), (error, result) => {
      results.push(error ? `error ${error.message}` : `message ${result?.rsv1}`);
      resolve();
    });
  });
  codec.close();
  codec.processIncomingMessage(message(compressed(document(100)), true), (error) =>
    results.push(`after close: ${error?.message}`),
  );
  await done;
  t.same(results, ['after close: permessage-deflate: the connection is closed', 'message true', 'message true']);
});

t.test('which negotiations get the codec: permessage-deflate alone, on Node zlib', async (t) => {
  const { default: deflate } = await import('permessage-deflate');
  const negotiate = (extensions: unknown[] | undefined, perMessageDeflate: unknown) => {
    const server = resolveExtensions(extensions, perMessageDeflate, 'server', 1 << 20);
    const client = resolveExtensions(extensions, perMessageDeflate, 'client', 1 << 20);
    const offer = offerExtensions(client);
    const accepted = acceptExtensions(server, offer?.header ?? undefined);
    return { server: accepted?.negotiated, client: offer?.activate(accepted?.header) };
  };
  /** Sends one small message from client to server; whether each end called back at once (only the codec does). */
  const roundTrip = async (ends: ReturnType<typeof negotiate>) => {
    const data = document(2000);
    let calling = true;
    let clientSync: boolean | undefined;
    const sent = new Promise<CodecMessage | null>((resolve) =>
      ends.client?.outgoing(message(Buffer.from(data)), (_error, result) => {
        clientSync = calling;
        resolve({ ...(result as CodecMessage) });
      }),
    );
    calling = false;
    const wire = await sent;
    let serverSync = true;
    let seenSync: boolean | undefined;
    const received = new Promise<CodecMessage | null>((resolve) =>
      ends.server?.incoming(wire as CodecMessage, (_error, result) => {
        seenSync = serverSync;
        resolve(result);
      }),
    );
    serverSync = false;
    const got = await received;
    t.same(got?.data, data, 'the message arrives whole');
    return { clientSync, serverSync: seenSync };
  };
  for (const [label, extensions, option] of [
    ['perMessageDeflate: true', undefined, true],
    [
      'perMessageDeflate without context takeover',
      undefined,
      { serverNoContextTakeover: true, clientNoContextTakeover: true },
    ],
    ["faye's extensions: [deflate]", [deflate], undefined],
  ] as const) {
    const ends = negotiate(extensions as unknown[] | undefined, option);
    t.same(await roundTrip(ends), { clientSync: true, serverSync: true }, `${label}: the codec, synchronously`);
  }
  const custom = negotiate([deflate.configure({ zlib: { ...zlib } })], undefined);
  t.same(
    await roundTrip(custom),
    { clientSync: false, serverSync: false },
    "an application's own zlib: permessage-deflate's sessions, as before",
  );

  t.equal(codecFor({ _sessions: [] }, 1000), undefined, 'no session');
  t.equal(codecFor({ _sessions: [[{ name: 'x-other' }, {}]] }, 1000), undefined, 'another extension');
  t.equal(
    codecFor({ _sessions: [[{ name: 'permessage-deflate' }, { _zlib: zlib, _ownContextTakeover: true }]] }, 1000),
    undefined,
    'a session on a zlib that is not the bounded Node zlib',
  );
});
