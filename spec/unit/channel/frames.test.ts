// The channel's WebSocket encodings, bytes in and bytes out: which route a
// socket's negotiated extensions give, the plain frame, and the shared
// compressed frame (RFC 7692 §7.2.1), decoded back with zlib.

import { constants, inflateRawSync } from 'node:zlib';
import t from 'tap';
import { COMPRESS_AT_LEAST, deflatedFrame, frameRoute, plainFrame } from '../../../src/channel/frames.js';
import { decodeFrames } from '../../helpers/wire.js';

t.test('frameRoute', async (t) => {
  t.equal(frameRoute(''), 'plain', 'no extension: the shared frame');
  t.equal(frameRoute('permessage-deflate; server_no_context_takeover'), 15);
  t.equal(frameRoute('permessage-deflate; server_no_context_takeover; server_max_window_bits=10'), 10);
  t.equal(
    frameRoute('permessage-deflate;server_max_window_bits=8;server_no_context_takeover'),
    9,
    'zlib has no 8-bit window',
  );
  t.equal(frameRoute('permessage-deflate'), 'takeover');
  t.equal(frameRoute('permessage-deflate; client_no_context_takeover'), 'takeover');
  t.equal(frameRoute('permessage-deflate; server_no_context_takeover; server_max_window_bits=16'), 'own');
  t.equal(frameRoute('x-custom'), 'own', 'another extension frames its own');
  t.equal(frameRoute('permessage-deflate; server_no_context_takeover, x-custom'), 'own');
});

t.test('plainFrame', async (t) => {
  t.same(decodeFrames(plainFrame('hé')), [{ fin: true, rsv: 0, opcode: 1, masked: false, payload: Buffer.from('hé') }]);
  const big = Buffer.alloc(70_000, 7);
  const [frame] = decodeFrames(plainFrame(big));
  t.equal(frame?.opcode, 2);
  t.ok(frame?.payload.equals(big), 'a large binary message in one Buffer');
});

t.test('deflatedFrame', async (t) => {
  const plain = Buffer.from('plain');
  t.equal(
    deflatedFrame('small', 15, () => plain),
    plain,
    'below the threshold: the plain frame',
  );
  for (const bits of [9, 12, 15]) {
    const text = 'abcabcabc '.repeat(COMPRESS_AT_LEAST);
    const [frame] = decodeFrames(deflatedFrame(text, bits, () => plain));
    t.equal(frame?.rsv, 0x40, 'RSV1');
    t.equal(frame?.opcode, 1);
    const payload = frame?.payload as Buffer;
    t.notSame(payload.subarray(-4), Buffer.from([0, 0, 0xff, 0xff]), 'the trailing 00 00 ff ff is removed');
    const inflated = inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), {
      windowBits: bits,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    t.equal(inflated.toString(), text, `inflates with a ${bits}-bit window`);
  }
  const [binary] = decodeFrames(deflatedFrame(Buffer.alloc(4096, 1), 15, () => plain));
  t.equal(binary?.opcode, 2);
});
