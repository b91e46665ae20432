import zlib from 'node:zlib';
import t from 'tap';
import { limitExtension, limitedZlib, MessageTooLargeError } from '../../../src/protocol/deflate-limit.js';
import { checkHandshake, refusalResponse } from '../../../src/protocol/handshake.js';

const good = {
  upgrade: 'websocket',
  connection: 'keep-alive, Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

t.test('checkHandshake', async (t) => {
  t.equal(checkHandshake('GET', good), undefined, 'RFC 6455 §1.3 sample request passes');
  t.match(checkHandshake('POST', good), { status: 400, message: /GET/ });
  t.match(checkHandshake('GET', { ...good, upgrade: 'h2c' }), { status: 400, message: /Upgrade/ });
  t.match(checkHandshake('GET', { ...good, connection: 'close' }), { status: 400, message: /Connection/ });
  for (const key of [undefined, '', 'short', 'dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25jZSE=']) {
    t.match(checkHandshake('GET', { ...good, 'sec-websocket-key': key }), { status: 400 }, String(key));
  }
  t.match(checkHandshake('GET', { ...good, 'sec-websocket-version': '8' }), {
    status: 426,
    headers: { 'Sec-WebSocket-Version': '13' },
  });
  const response = refusalResponse(checkHandshake('GET', { ...good, 'sec-websocket-version': undefined }) as never);
  t.match(response, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  t.match(response, /\r\nContent-Length: \d+\r\n/);
});

t.test('limitedZlib', async (t) => {
  t.test('fails a raw inflate that passes the limit, with type too_large', async (t) => {
    const inflate = limitedZlib(1000).createInflateRaw();
    const error = new Promise<Error>((resolve) => inflate.on('error', resolve));
    inflate.on('data', () => {});
    inflate.write(zlib.deflateRawSync(Buffer.alloc(100_000)));
    const failure = await error;
    t.ok(failure instanceof MessageTooLargeError);
    t.equal((failure as MessageTooLargeError).type, 'too_large');
  });

  t.test('counts each message on its own: the count restarts after a flush', async (t) => {
    const inflate = limitedZlib(1000).createInflateRaw();
    let total = 0;
    inflate.on('data', (chunk: Buffer) => (total += chunk.length));
    const deflate = zlib.createDeflateRaw();
    const compressed: Buffer[] = [];
    deflate.on('data', (chunk: Buffer) => compressed.push(chunk));
    for (let i = 0; i < 3; i++) {
      deflate.write(Buffer.alloc(800, i));
      await new Promise<void>((resolve) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
      inflate.write(Buffer.concat(compressed.splice(0)));
      await new Promise<void>((resolve) => inflate.flush(() => resolve()));
    }
    t.equal(total, 2400, 'three 800-byte messages pass a 1000-byte limit');
    t.equal(inflate.destroyed, false);
  });

  t.test('limitExtension configures permessage-deflate and leaves others alone', async (t) => {
    const other = { name: 'x-other', type: 'permessage' };
    t.equal(limitExtension(other, 10), other);
    let given: unknown;
    const fake = {
      name: 'permessage-deflate',
      configure: (options: unknown) => {
        given = options;
        return 'configured';
      },
    };
    t.equal(limitExtension(fake, 10), 'configured');
    t.type((given as { zlib: { createInflateRaw: unknown } }).zlib.createInflateRaw, 'function');
  });
});
