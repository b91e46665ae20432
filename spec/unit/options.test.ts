import t from 'tap';
import { toArrayBuffer, toMessageData, toPayload } from '../../src/dom/data.js';
import { readHeader, validateHeaders } from '../../src/net/headers.js';
import { DEFAULT_CLOSE_TIMEOUT, DEFAULT_MAX_LENGTH, resolveOptions, SERVER_OPTION_KEYS } from '../../src/options.js';

t.test('resolveOptions', async (t) => {
  t.test('fills in the defaults', async (t) => {
    t.same(resolveOptions(undefined, SERVER_OPTION_KEYS, 'nodebuffer'), {
      extensions: [],
      headers: [],
      maxLength: DEFAULT_MAX_LENGTH,
      ping: 0,
      closeTimeout: DEFAULT_CLOSE_TIMEOUT,
      binaryType: 'nodebuffer',
    });
    t.equal(DEFAULT_MAX_LENGTH, 2 ** 26 - 1);
  });

  t.test('refuses unknown keys and bad values with a TypeError', async (t) => {
    const bad: unknown[] = [
      { nope: 1 },
      { maxLength: -1 },
      { maxLength: 1.5 },
      { ping: 'often' },
      { closeTimeout: Number.NaN },
      { binaryType: 'text' },
      { extensions: 'deflate' },
      { headers: 'x' },
      { headers: { 'bad name': 'v' } },
      { headers: { ok: 'v\r\nx: y' } },
    ];
    for (const options of bad) {
      t.throws(() => resolveOptions(options as never, SERVER_OPTION_KEYS, 'blob'), TypeError, JSON.stringify(options));
    }
  });
});

t.test('headers', async (t) => {
  t.same(validateHeaders({ A: 1, B: 'two', C: undefined }, 'h'), [
    ['A', '1'],
    ['B', 'two'],
  ]);
  t.throws(() => validateHeaders({ A: 'x\0' }, 'h'), /CR, LF or NUL/);
  t.equal(
    readHeader('HTTP/1.1 101 OK\r\nsec-websocket-extensions:  permessage-deflate \r\n', 'Sec-WebSocket-Extensions'),
    'permessage-deflate',
  );
  t.equal(readHeader('HTTP/1.1 101 OK\r\nA: b\r\n', 'C'), undefined);
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
