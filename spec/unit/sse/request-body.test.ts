import t from 'tap';
import {
  chunkBytes,
  ONE_SHOT_BODY,
  openBody,
  REQUEST_BODY_HEADERS,
  redirectDropsBody,
  replayable,
  resolveBody,
  resolveMethod,
} from '../../../src/sse/request-body.js';

t.test('resolveMethod', async (t) => {
  t.test("normalizes fetch's six methods and keeps others as given", async (t) => {
    t.equal(resolveMethod(undefined), 'GET');
    for (const [given, sent] of [
      ['post', 'POST'],
      ['Put', 'PUT'],
      ['delete', 'DELETE'],
      ['options', 'OPTIONS'],
      ['get', 'GET'],
      ['patch', 'patch'],
      ['QUERY', 'QUERY'],
    ] as const) {
      t.equal(resolveMethod(given), sent, given);
    }
  });

  t.test('refuses forbidden methods, HEAD, and what is not a token', async (t) => {
    for (const method of [
      'CONNECT',
      'connect',
      'TRACE',
      'track',
      'HEAD',
      'head',
      '',
      'G T',
      'GET\n',
      'GET\r\nX: 1',
      'Ĝ',
      42,
      null,
    ]) {
      t.throws(() => resolveMethod(method), TypeError, JSON.stringify(method));
    }
  });
});

t.test('resolveBody', async (t) => {
  t.test('none for undefined and null; a TypeError with GET or for what is no body', async (t) => {
    t.equal(resolveBody(undefined, 'GET'), undefined);
    t.equal(resolveBody(null, 'POST'), undefined);
    t.throws(() => resolveBody('x', 'GET'), { name: 'TypeError', message: /GET request cannot have a body/ });
    for (const value of [42, true, {}, [1, 2], Symbol('x')]) {
      t.throws(() => resolveBody(value, 'POST'), TypeError, String(typeof value));
    }
  });

  t.test('an iterable is replayable until a request reads it; values and functions always', async (t) => {
    const iterable = resolveBody((async function* () {})(), 'POST');
    t.equal(iterable?.kind, 'iterable');
    t.ok(replayable(iterable));
    if (iterable?.kind === 'iterable') iterable.used = true;
    t.notOk(replayable(iterable));
    await t.rejects(openBody(iterable as never), { message: ONE_SHOT_BODY });
    t.ok(replayable(resolveBody('x', 'POST')));
    t.ok(replayable(resolveBody(() => 'x', 'POST')));
    t.ok(replayable(undefined));
  });
});

t.test('openBody: bytes and Content-Type as Fetch extracts them', async (t) => {
  const open = (value: unknown) => openBody(resolveBody(value, 'POST') as never);
  t.same(await open('é'), { bytes: Buffer.from('é'), contentType: 'text/plain;charset=UTF-8' });
  t.same(await open(new URLSearchParams('a=b c')), {
    bytes: Buffer.from('a=b+c'),
    contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
  });
  t.same(await open(new Blob(['x'])), { bytes: Buffer.from('x'), contentType: undefined });
  t.same(await open(new Blob(['x'], { type: 'text/csv' })), { bytes: Buffer.from('x'), contentType: 'text/csv' });
  const source = new Uint8Array([1, 2, 3, 4]);
  const copied = await open(source.subarray(1, 3));
  t.same(copied, { bytes: Buffer.from([2, 3]), contentType: undefined });
  source[1] = 9;
  t.same((copied as { bytes: Buffer }).bytes, Buffer.from([2, 3]), 'a copy: later changes do not leak in');
  t.same(await open(new Uint16Array([0x0201]).buffer), { bytes: Buffer.from([1, 2]), contentType: undefined });
  t.same(await open(async () => 'later'), { bytes: Buffer.from('later'), contentType: 'text/plain;charset=UTF-8' });
  await t.rejects(
    open(() => ({})),
    { name: 'TypeError', message: /returned an object/ },
  );
  await t.rejects(
    open(() => {
      throw new Error('no token');
    }),
    { message: 'no token' },
  );
});

t.test('redirectDropsBody: Fetch, HTTP-redirect fetch, step 12', async (t) => {
  t.same(
    [301, 302, 303, 307, 308].map((status) => redirectDropsBody(status, 'POST')),
    [true, true, true, false, false],
  );
  t.same(
    [301, 302, 303, 307, 308].map((status) => redirectDropsBody(status, 'PUT')),
    [false, false, true, false, false],
  );
  t.same([...REQUEST_BODY_HEADERS].sort(), [
    'content-encoding',
    'content-language',
    'content-location',
    'content-type',
  ]);
});

t.test('chunkBytes: strings as UTF-8, views without a copy, nothing else', async (t) => {
  t.same(chunkBytes('é'), Buffer.from('é'));
  t.same(chunkBytes(new Uint8Array([1, 2, 3]).subarray(1)), Buffer.from([2, 3]));
  for (const chunk of [1, null, {}, new ArrayBuffer(2)]) t.throws(() => chunkBytes(chunk), TypeError);
});
