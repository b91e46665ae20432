// Frame encoding against websocket-driver's own frames: the same bytes for
// every length class, masked frames decoding to the payload.

import { createRequire } from 'node:module';
import t from 'tap';
import { encodeClose, encodeControl, encodeMessage, MERGE_BELOW, RSV1 } from '../../../src/protocol/frame.js';
import { decodeFrames } from '../../helpers/wire.js';

const require = createRequire(import.meta.url);
const websocketDriver = require('websocket-driver') as {
  http(request: object): {
    io: { on(event: 'data', listener: (chunk: Buffer) => void): void };
    start(): void;
    text(data: string): void;
    binary(data: Buffer): void;
  };
};

/** What websocket-driver 0.8 writes for a message, as a server. */
function driverFrame(data: string | Buffer): Buffer {
  const driver = websocketDriver.http({
    method: 'GET',
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      host: 'x',
    },
  });
  const out: Buffer[] = [];
  driver.io.on('data', (chunk) => out.push(Buffer.from(chunk)));
  driver.start();
  out.length = 0;
  if (typeof data === 'string') driver.text(data);
  else driver.binary(data);
  return Buffer.concat(out);
}

t.test('encodeMessage writes the same bytes as websocket-driver, unmasked', async (t) => {
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
    const ours = Buffer.concat(encodeMessage(data, false));
    t.ok(ours.equals(driverFrame(data)), `${typeof data} of ${data.length}`);
  }
});

t.test('large unmasked binary payloads are written after their header, uncopied', async (t) => {
  const payload = Buffer.alloc(MERGE_BELOW, 1);
  const [header, body] = encodeMessage(payload, false);
  t.equal(body, payload, 'the caller buffer itself');
  t.equal(header?.length, 4);
  t.equal(encodeMessage(Buffer.alloc(MERGE_BELOW - 1), false).length, 1, 'smaller ones are merged');
});

t.test('masked frames carry a fresh key and decode to the payload', async (t) => {
  const a = encodeMessage('masked text', true);
  const b = encodeMessage('masked text', true);
  t.equal(a.length, 1);
  const [frame] = decodeFrames(a[0] as Buffer);
  t.same([frame?.masked, frame?.payload.toString()], [true, 'masked text']);
  t.not(
    (a[0] as Buffer).subarray(2, 6).toString('hex'),
    (b[0] as Buffer).subarray(2, 6).toString('hex'),
    'keys differ',
  );
});

t.test(
  'large masked frames (the SIMD masking path) decode to the payload; the caller buffer is untouched',
  async (t) => {
    for (const length of [MERGE_BELOW, 64 * 1024 + 5, 1024 * 1024 + 3]) {
      const payload = Buffer.alloc(length);
      for (let i = 0; i < length; i++) payload[i] = (i * 31) & 0xff;
      const copy = Buffer.from(payload);
      const frames = encodeMessage(payload, true);
      t.equal(frames.length, 1, `${length} bytes: header and masked payload in one buffer (masking copies anyway)`);
      const [frame] = decodeFrames(frames[0] as Buffer);
      t.ok(frame?.masked && frame.payload.equals(copy), `${length} bytes decode to the payload`);
      t.ok(payload.equals(copy), `${length} bytes: the caller buffer is not masked in place`);
    }
    const text = 'é'.repeat(40_000);
    const [frame] = decodeFrames(encodeMessage(text, true)[0] as Buffer);
    t.equal(frame?.payload.toString('utf8'), text, 'a large masked text message');
  },
);

t.test('RSV bits and opcodes are set as asked', async (t) => {
  const [frame] = decodeFrames(Buffer.concat(encodeMessage(Buffer.from('z'), false, 1, 2, RSV1)));
  t.same([frame?.rsv, frame?.opcode, frame?.fin], [RSV1, 2, true]);
});

t.test('control frames', async (t) => {
  const [ping] = decodeFrames(encodeControl(9, Buffer.from('p'), true));
  t.same([ping?.opcode, ping?.payload.toString(), ping?.masked], [9, 'p', true]);
  const [empty] = decodeFrames(encodeClose(undefined, '', false));
  t.same([empty?.opcode, empty?.payload.length], [8, 0], 'no code: an empty body');
  const [coded] = decodeFrames(encodeClose(4001, 'bye', false));
  t.same([coded?.payload.readUInt16BE(0), coded?.payload.subarray(2).toString()], [4001, 'bye']);
});

t.test('a payload of exactly 65536 bytes takes the 64-bit length (RFC 6455 §5.2), 65535 the 16-bit one', async (t) => {
  for (const [size, header] of [
    [65535, 4],
    [65536, 10],
  ] as const) {
    const bytes = Buffer.concat(encodeMessage(Buffer.alloc(size, 7), false));
    t.equal(bytes.length, size + header, `${size} bytes: a ${header}-byte header`);
    const [decoded] = decodeFrames(bytes);
    t.equal(decoded?.payload.length, size);
    t.ok(bytes.equals(driverFrame(Buffer.alloc(size, 7))), 'the bytes websocket-driver writes');
  }
});
