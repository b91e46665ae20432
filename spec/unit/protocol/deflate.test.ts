// The bounded zlib facade permessage-deflate inflates with: output stops at
// maxLength, no error ever reaches an emitter nobody listens to, and an
// application's own zlib keeps the bound.

import zlib from 'node:zlib';
import t from 'tap';
import { boundedZlib, MessageTooLargeError } from '../../../src/protocol/deflate.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

t.test('an inflater fails with MessageTooLargeError past the limit, and stops inflating', async (t) => {
  const inflate = boundedZlib(1000).createInflateRaw();
  let produced = 0;
  inflate.on('data', (chunk: Buffer) => {
    produced += chunk.length;
  });
  const failure = new Promise<Error>((resolve) => inflate.on('error', resolve));
  inflate.write(zlib.deflateRawSync(Buffer.alloc(10 << 20)));
  t.ok((await failure) instanceof MessageTooLargeError);
  t.ok(produced <= 1000, `${produced} bytes passed on, at most the limit`);
});

t.test('an error after the listener went away reaches no one and crashes nothing', async (t) => {
  // permessage-deflate removes its 'error' listener in the flush callback: the
  // shape that crashed the process (issue 10).
  const inflate = boundedZlib(1000).createInflateRaw();
  const onError = () => t.fail('no error after the listener went away');
  inflate.on('error', onError);
  inflate.on('data', () => {});
  inflate.write(zlib.deflateRawSync(Buffer.alloc(10 << 20)));
  inflate.removeListener('error', onError);
  let flushed = false;
  (inflate as unknown as { flush(cb: () => void): void }).flush(() => {
    flushed = true;
  });
  await settle();
  t.equal(flushed, false, 'a failed message is never reported as flushed');
});

t.test('the count starts again after each flush (context takeover: one inflater, many messages)', async (t) => {
  const inflate = boundedZlib(1000).createInflateRaw() as unknown as NodeJS.EventEmitter & {
    write(b: Buffer): void;
    flush(cb: () => void): void;
  };
  const deflate = zlib.createDeflateRaw();
  const compress = (data: Buffer) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const ondata = (c: Buffer) => chunks.push(c);
      deflate.on('data', ondata);
      deflate.write(data);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        deflate.off('data', ondata);
        resolve(Buffer.concat(chunks));
      });
    });
  let total = 0;
  inflate.on('data', (chunk: Buffer) => {
    total += chunk.length;
  });
  inflate.on('error', () => t.fail('600 + 600 bytes in two messages is under the limit each'));
  for (let i = 0; i < 2; i++) {
    inflate.write(await compress(Buffer.alloc(600, i)));
    await new Promise<void>((resolve) => inflate.flush(resolve));
  }
  t.equal(total, 1200);
});

t.test("an application's own zlib keeps the bound", async (t) => {
  let made = 0;
  const custom = {
    ...zlib,
    createInflateRaw: (options?: zlib.ZlibOptions) => {
      made++;
      return zlib.createInflateRaw(options);
    },
  };
  const inflate = boundedZlib(1000, custom).createInflateRaw();
  const failure = new Promise<Error>((resolve) => inflate.on('error', resolve));
  inflate.on('data', () => {});
  inflate.write(zlib.deflateRawSync(Buffer.alloc(1 << 20)));
  t.ok((await failure) instanceof MessageTooLargeError);
  t.equal(made, 1, "the application's inflater does the work");
});

t.test('corrupt data fails the inflater with zlib’s error', async (t) => {
  const inflate = boundedZlib(1000).createInflateRaw();
  const failure = new Promise<Error & { code?: string }>((resolve) => inflate.on('error', resolve));
  inflate.write(Buffer.from([0xff, 0xff, 0xff]));
  t.equal((await failure).code, 'Z_DATA_ERROR');
});

t.test('a deflater error outside a message reaches no one', async (t) => {
  const deflate = boundedZlib(1000).createDeflateRaw();
  // Without a listener, emit('error') throws: here it must not.
  t.doesNotThrow(() => deflate.emit('error', new Error('outside a message')));
});

t.test('a message of exactly the limit passes; one byte more fails, named MessageTooLargeError', async (t) => {
  const inflate = boundedZlib(1000).createInflateRaw() as unknown as NodeJS.EventEmitter & {
    write(b: Buffer): void;
    flush(cb: () => void): void;
  };
  let total = 0;
  inflate.on('data', (chunk: Buffer) => {
    total += chunk.length;
  });
  inflate.on('error', (error) => t.fail(`1000 bytes against a limit of 1000: ${error}`));
  inflate.write(zlib.deflateRawSync(Buffer.alloc(1000), { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
  await new Promise<void>((resolve) => inflate.flush(resolve));
  t.equal(total, 1000);

  const over = boundedZlib(1000).createInflateRaw();
  over.on('data', () => {});
  const failure = new Promise<Error>((resolve) => over.on('error', resolve));
  over.write(zlib.deflateRawSync(Buffer.alloc(1001)));
  const error = await failure;
  t.equal(error.name, 'MessageTooLargeError');
  t.equal(error.message, 'A compressed message inflated past maxLength (1000 bytes)');
});

t.test('close() stops the inflater: nothing written afterwards comes out', async (t) => {
  const inflate = boundedZlib(1000).createInflateRaw() as unknown as NodeJS.EventEmitter & {
    write(b: Buffer): void;
    close(): void;
  };
  let produced = 0;
  inflate.on('data', (chunk: Buffer) => {
    produced += chunk.length;
  });
  inflate.on('error', () => {});
  inflate.close();
  inflate.write(zlib.deflateRawSync(Buffer.from('after close'), { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
  await settle();
  t.equal(produced, 0);
});
