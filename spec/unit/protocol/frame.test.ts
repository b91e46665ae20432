import t from 'tap';
import { MaskedFrameDetector } from '../../../src/protocol/frame.js';
import { frame } from '../../helpers/peers.js';

t.test('MaskedFrameDetector', async (t) => {
  t.test('lets unmasked frames through, split anywhere', async (t) => {
    const stream = Buffer.concat([
      frame(1, 'a', { masked: false }),
      frame(2, Buffer.alloc(300), { masked: false }),
      frame(2, Buffer.alloc(70_000), { masked: false }),
      frame(9, '', { masked: false }),
    ]);
    for (const step of [1, 2, 3, 7, 1000, stream.length]) {
      const detector = new MaskedFrameDetector();
      let found = false;
      for (let i = 0; i < stream.length; i += step) found ||= detector.scan(stream.subarray(i, i + step));
      t.equal(found, false, `chunks of ${step}`);
    }
  });

  t.test('finds a masked frame after others, split anywhere', async (t) => {
    const stream = Buffer.concat([
      frame(1, 'x'.repeat(200), { masked: false }),
      frame(2, Buffer.alloc(70_000), { masked: false }),
      frame(1, 'masked', { masked: true }),
    ]);
    for (const step of [1, 5, 4096, stream.length]) {
      const detector = new MaskedFrameDetector();
      let found = false;
      for (let i = 0; i < stream.length; i += step) found ||= detector.scan(stream.subarray(i, i + step));
      t.equal(found, true, `chunks of ${step}`);
    }
  });
});
