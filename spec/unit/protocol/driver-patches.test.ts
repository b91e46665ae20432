import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import t from 'tap';
import { installDriverPatches, releaseHandshakeRequest } from '../../../src/protocol/driver-patches.js';
import { encodeMessage } from '../../../src/protocol/frame.js';
import { mask } from '../../../src/protocol/mask.js';
import { DRIVER_PATCHED } from '../../../src/websocket/base.js';

const require = createRequire(import.meta.url);
const Hybi = require('websocket-driver/lib/websocket/driver/hybi') as { mask: typeof mask };
const Message = require('websocket-driver/lib/websocket/driver/hybi/message') as {
  new (): { pushFrame(frame: object): void; read(): Buffer };
};
const websocketDriver = require('websocket-driver') as typeof import('websocket-driver').default;

/** websocket-driver 0.8.0's Hybi.mask, verbatim, as the reference. */
function reference(payload: Buffer, key: Buffer, offset = 0): Buffer {
  for (let i = 0, n = payload.length - offset; i < n; i++) {
    payload[offset + i] = (payload[offset + i] as number) ^ (key[i % 4] as number);
  }
  return payload;
}

t.test('our replacements are the ones websocket-driver runs', async (t) => {
  t.equal(DRIVER_PATCHED, true, 'installed for websocket-driver 0.8.x');
  t.equal(Hybi.mask, mask, "Hybi.mask is isosocket's function");
  t.equal(installDriverPatches(), true, 'installing twice is harmless');
});

t.test('Message#read returns a single frame as it is, and joins several', async (t) => {
  const one = new Message();
  const payload = Buffer.from('solo');
  one.pushFrame({ rsv1: false, rsv2: false, rsv3: false, opcode: 1, payload, length: 4 });
  t.equal(one.read(), payload, 'no copy');
  const two = new Message();
  two.pushFrame({ rsv1: false, rsv2: false, rsv3: false, opcode: 1, payload: Buffer.from('ab'), length: 2 });
  two.pushFrame({ rsv1: false, rsv2: false, rsv3: false, opcode: 0, payload: Buffer.from('cd'), length: 2 });
  t.equal(two.read().toString(), 'abcd');
  t.equal(two.read(), two.read(), 'joined once');
});

t.test('encodeMessage writes the same bytes as the driver', async (t) => {
  for (const data of [
    '',
    'hé',
    'x'.repeat(125),
    'y'.repeat(126),
    'z'.repeat(70_000),
    Buffer.alloc(5, 1),
    Buffer.alloc(20_000, 2),
    Buffer.alloc(70_000, 3),
  ]) {
    const driver = websocketDriver.http({
      method: 'GET',
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13',
        host: 'x',
      },
      url: '/',
    } as never);
    const written: Buffer[] = [];
    driver.io.on('data', (chunk: Buffer) => written.push(chunk));
    driver.start();
    written.length = 0;
    if (typeof data === 'string') driver.text(data);
    else driver.binary(data);
    const theirs = Buffer.concat(written);
    const ours = Buffer.concat(encodeMessage(data, false));
    t.ok(ours.equals(theirs), `unmasked ${typeof data} of ${data.length}`);
    const masked = Buffer.concat(encodeMessage(data, true));
    t.equal(masked[1]! & 0x80, 0x80, 'mask bit set');
    const headerLength = theirs.length - (typeof data === 'string' ? Buffer.byteLength(data) : data.length) + 4;
    const key = masked.subarray(headerLength - 4, headerLength);
    const unmasked = mask(Buffer.from(masked.subarray(headerLength)), key);
    t.ok(
      unmasked.equals(theirs.subarray(headerLength - 4)),
      `masked ${typeof data} of ${data.length} unmasks to the payload`,
    );
  }
});

t.test('mask produces the same bytes as the driver, at every length, offset and alignment', async (t) => {
  let checked = 0;
  for (const length of [0, 1, 3, 4, 5, 31, 32, 33, 64, 127, 1000, 65_537]) {
    for (const offset of [0, 1, 2, 3, 6, 10, 14]) {
      for (const shift of [0, 1, 2, 3]) {
        if (offset > length) continue;
        const key = randomBytes(4);
        const backing = randomBytes(length + shift);
        const ours = Buffer.from(backing).subarray(shift);
        const theirs = Buffer.from(backing).subarray(shift);
        mask(ours, key, offset);
        reference(theirs, key, offset);
        if (!ours.equals(theirs)) t.fail(`length ${length}, offset ${offset}, shift ${shift}`);
        checked++;
      }
    }
  }
  t.ok(checked > 200, `${checked} combinations identical`);
  const payload = Buffer.from('unchanged');
  t.equal(mask(payload, Buffer.alloc(0)), payload);
  t.equal(mask(payload, undefined).toString(), 'unchanged');
  const twice = randomBytes(100);
  const key = randomBytes(4);
  t.same(mask(mask(Buffer.from(twice), key), key), twice, 'masking twice restores the payload');
});

t.test('releaseHandshakeRequest lets a started server driver drop the request', async (t) => {
  const request = {
    method: 'GET',
    url: '/',
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      host: 'x',
    },
  };
  const driver = websocketDriver.http(request as never) as unknown as { _request: unknown; start(): boolean };
  t.equal(driver._request, request, 'the driver holds the request until released');
  t.ok(driver.start());
  releaseHandshakeRequest(driver);
  t.equal(driver._request, null);
});

t.test('StreamReader#read returns what 0.8.0 returned, for any chunking', async (t) => {
  const StreamReader = require('websocket-driver/lib/websocket/driver/stream_reader') as {
    new (): { put(buffer: Buffer): void; read(length: number): Buffer | null };
  };
  /** websocket-driver 0.8.0's read, verbatim but for style, as the reference. */
  function original(this: { _queue: Buffer[]; _queueSize: number }, length: number): Buffer | null {
    if (length > this._queueSize) return null;
    if (length === 0) return Buffer.alloc(0);
    this._queueSize -= length;
    const queue = this._queue;
    let remain = length;
    const first = queue[0] as Buffer;
    if (first.length >= length) {
      if (first.length === length) return queue.shift() as Buffer;
      const buffer = first.subarray(0, length);
      queue[0] = first.subarray(length);
      return buffer;
    }
    let i = 0;
    for (const n = queue.length; i < n; i++) {
      if (remain < (queue[i] as Buffer).length) break;
      remain -= (queue[i] as Buffer).length;
    }
    const buffers = queue.splice(0, i);
    if (remain > 0 && queue.length > 0) {
      buffers.push((queue[0] as Buffer).subarray(0, remain));
      queue[0] = (queue[0] as Buffer).subarray(remain);
    }
    return Buffer.concat(buffers, length);
  }
  let compared = 0;
  for (let trial = 0; trial < 300; trial++) {
    const ours = new StreamReader();
    const theirs = new StreamReader();
    (theirs as unknown as { read: typeof original }).read = original;
    for (let step = 0; step < 30; step++) {
      if (Math.random() < 0.4) {
        const chunk = randomBytes(Math.floor(Math.random() * 20));
        ours.put(chunk);
        theirs.put(Buffer.from(chunk));
      } else {
        const length = Math.floor(Math.random() * 12);
        const a = ours.read(length);
        const b = theirs.read(length);
        if ((a === null) !== (b === null) || (a && b && !a.equals(b))) {
          t.fail(`trial ${trial} step ${step}: read(${length}) differs`);
          return;
        }
        compared++;
      }
    }
  }
  t.ok(compared > 3000, `${compared} reads identical`);
});
