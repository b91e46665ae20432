// The protocol connection, bytes in and bytes out, without sockets: every
// rule from both roles (the server expects masked frames, the client
// unmasked ones), each input also split at every byte boundary.

import { constants } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import t from 'tap';
import {
  Connection,
  defaultMaxFragments,
  FRAGMENT_COST,
  MAX_UNPARSED,
  MIN_MAX_FRAGMENTS,
} from '../../../src/protocol/connection.js';
import { SYNC_LIMIT, SYNC_OUTPUT_LIMIT } from '../../../src/protocol/deflate-codec.js';
import { acceptExtensions, offerExtensions, resolveExtensions } from '../../../src/protocol/extensions.js';
import { decodeFrames, feed, frame, wire } from '../../helpers/wire.js';

const ROLES = [
  { name: 'server', client: false, peerMasks: true },
  { name: 'client', client: true, peerMasks: false },
] as const;

const u16 = (code: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return b;
};

for (const role of ROLES) {
  const peer = (
    opcode: number,
    payload: Buffer | string = Buffer.alloc(0),
    options: { fin?: boolean; rsv?: number } = {},
  ) => frame(opcode, payload, { masked: role.peerMasks, ...options });

  t.test(`Connection (${role.name})`, async (t) => {
    t.test('messages', async (t) => {
      t.test('a text message arrives whole however the bytes are split', async (t) => {
        const bytes = Buffer.concat([peer(1, 'héllo ☃'), peer(1, 'second')]);
        for (const step of [1, 2, 3, 7, bytes.length]) {
          const w = wire({ client: role.client, maxLength: 1000 });
          feed(w.connection, bytes, step);
          t.same(
            w.events,
            [
              ['message', 'héllo ☃'],
              ['message', 'second'],
            ],
            `split every ${step} bytes`,
          );
        }
      });

      t.test('a single-frame binary message is a view of the bytes received, not a copy', async (t) => {
        const input = peer(2, Buffer.from([1, 2, 3, 4, 5]));
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.receive(input);
        const [[kind, data]] = w.events as [['message', Buffer]];
        t.equal(kind, 'message');
        t.same([...data], [1, 2, 3, 4, 5]);
        t.equal(data.buffer, input.buffer, 'the same memory as the input chunk');
        // (Small Buffers share one pool: the offset proves it is the input's own bytes.)
        t.equal(data.byteOffset, input.byteOffset + input.length - 5, 'at the payload in the input');
      });

      t.test('fragments are joined, with control frames between them answered at once', async (t) => {
        const bytes = Buffer.concat([
          peer(2, Buffer.from([1, 2]), { fin: false }),
          peer(9, 'between'),
          peer(0, Buffer.from([3]), { fin: false }),
          peer(0, Buffer.from([4, 5])),
          peer(1, 'ab', { fin: false }),
          peer(0, 'c'),
        ]);
        for (const step of [1, 5, bytes.length]) {
          const w = wire({ client: role.client, maxLength: 1000 });
          feed(w.connection, bytes, step);
          t.equal(w.events.length, 3);
          t.same(w.events[0], ['ping', Buffer.from('between')]);
          t.same(w.events[1], ['message', Buffer.from([1, 2, 3, 4, 5])]);
          t.same(w.events[2], ['message', 'abc']);
          const pong = w.frames()[0];
          t.same([pong?.opcode, String(pong?.payload)], [10, 'between'], 'the pong carries the ping data');
        }
      });

      t.test('empty messages and a 70,000-byte message (64-bit length) arrive', async (t) => {
        const big = Buffer.alloc(70_000, 7);
        const w = wire({ client: role.client, maxLength: 100_000 });
        feed(w.connection, Buffer.concat([peer(1, ''), peer(2, Buffer.alloc(0)), peer(2, big)]), 4096);
        t.same(w.events[0], ['message', '']);
        t.same(w.events[1], ['message', Buffer.alloc(0)]);
        t.same((w.events[2] as ['message', Buffer])[1].equals(big), true);
      });
    });

    t.test('UTF-8', async (t) => {
      t.test('invalid UTF-8 in a text message fails with 1007', async (t) => {
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.receive(peer(1, Buffer.from([0x68, 0xff])));
        t.same(w.events, [['failed', 1007, 'Invalid UTF-8 in a text message']]);
        t.equal(w.closeCode(), 1007);
      });

      t.test(
        'a fragmented text message fails at the first fragment that cannot be UTF-8, not at its end',
        async (t) => {
          const w = wire({ client: role.client, maxLength: 1000 });
          w.connection.receive(peer(1, 'fine so far', { fin: false }));
          t.same(w.events, []);
          // 0xC0 can never start a valid sequence: the message is over here.
          w.connection.receive(peer(0, Buffer.from([0x61, 0xc0]), { fin: false }));
          t.same(w.events, [['failed', 1007, 'Invalid UTF-8 in a text message']]);
          t.equal(w.closeCode(), 1007);
        },
      );

      t.test('a character split across fragments is fine; one left unfinished fails at the end', async (t) => {
        const snowman = Buffer.from('☃');
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.receive(peer(1, snowman.subarray(0, 1), { fin: false }));
        w.connection.receive(peer(0, snowman.subarray(1, 2), { fin: false }));
        w.connection.receive(peer(0, snowman.subarray(2)));
        t.same(w.events, [['message', '☃']]);
        const cut = wire({ client: role.client, maxLength: 1000 });
        cut.connection.receive(peer(1, snowman.subarray(0, 2), { fin: false }));
        t.same(cut.events, [], 'an unfinished sequence may still complete');
        cut.connection.receive(peer(0, ''));
        t.same(cut.events, [['failed', 1007, 'A text message ended inside a UTF-8 sequence']]);
      });

      t.test(
        'invalid UTF-8 in the first piece of a text frame fails with 1007 before the frame is complete',
        async (t) => {
          // Autobahn 6.4.3 and 6.4.4: one frame, in three pieces a second apart; the
          // middle one makes it invalid (a whole 0x110000, or only its first two bytes).
          const first = Buffer.from('κόσμε');
          for (const bad of [Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xf4, 0x90])]) {
            const bytes = peer(1, Buffer.concat([first, bad, Buffer.from('edited')]));
            const headerLength = role.peerMasks ? 6 : 2;
            const w = wire({ client: role.client, maxLength: 1000 });
            w.connection.receive(Buffer.from(bytes.subarray(0, headerLength + first.length)));
            t.same(w.events, [], 'valid so far');
            w.connection.receive(
              Buffer.from(bytes.subarray(headerLength + first.length, headerLength + first.length + bad.length)),
            );
            t.same(w.events, [['failed', 1007, 'Invalid UTF-8 in a text message']], `${bad.toString('hex')}: at once`);
            t.equal(w.closeCode(), 1007);
          }
        },
      );

      t.test(
        'a character split across the pieces of one frame is fine; one left unfinished fails at its end',
        async (t) => {
          const text = Buffer.from('a☃b😀c');
          for (let cut = 1; cut < text.length; cut++) {
            const bytes = peer(1, text);
            const at = (role.peerMasks ? 6 : 2) + cut;
            const w = wire({ client: role.client, maxLength: 1000 });
            w.connection.receive(Buffer.from(bytes.subarray(0, at)));
            t.same(w.events, [], `cut after byte ${cut}: nothing yet`);
            w.connection.receive(Buffer.from(bytes.subarray(at)));
            t.same(w.events, [['message', 'a☃b😀c']], `cut after byte ${cut}`);
          }
          const w = wire({ client: role.client, maxLength: 1000 });
          feed(w.connection, peer(1, Buffer.from([0x61, 0xe2, 0x98])), 3);
          t.same(w.events, [['failed', 1007, 'A text message ended inside a UTF-8 sequence']]);
        },
      );

      t.test('a byte order mark is kept, as data', async (t) => {
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.receive(peer(1, '\ufeffa', { fin: false }));
        w.connection.receive(peer(0, 'b'));
        t.same(w.events, [['message', '\ufeffab']]);
      });
    });

    t.test('protocol errors fail the connection with the RFC 6455 code and say why', async (t) => {
      const wrongMask = role.client
        ? 'Received a masked frame from the server'
        : 'Received an unmasked frame from the client';
      const cases: Array<[string, Buffer[], number, string]> = [
        ['a frame masked the wrong way', [frame(1, 'x', { masked: !role.peerMasks })], 1002, wrongMask],
        [
          'reserved bits without an extension',
          [peer(1, 'x', { rsv: 4 })],
          1002,
          'Reserved bits set that no extension negotiated',
        ],
        [
          'RSV2 without an extension',
          [peer(2, 'x', { rsv: 2 })],
          1002,
          'Reserved bits set that no extension negotiated',
        ],
        ['reserved bits on a control frame', [peer(9, 'x', { rsv: 4 })], 1002, 'Reserved bits set on a control frame'],
        [
          'reserved bits on a continuation',
          [peer(1, 'a', { fin: false }), peer(0, 'b', { rsv: 1 })],
          1002,
          'Reserved bits set on a continuation frame',
        ],
        ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op): [string, Buffer[], number, string] => [
          `opcode ${op}`,
          [peer(op, 'x')],
          1002,
          `Unknown opcode ${op}`,
        ]),
        ['a fragmented control frame', [peer(9, 'x', { fin: false })], 1002, 'A fragmented control frame'],
        ['a control frame over 125 bytes', [peer(10, Buffer.alloc(126))], 1002, 'A control frame over 125 bytes'],
        ['a continuation with no message', [peer(0, 'x')], 1002, 'A continuation frame with no message'],
        [
          'a new message inside a fragmented one',
          [peer(1, 'a', { fin: false }), peer(2, 'b')],
          1002,
          'A new message before the fragmented one ended',
        ],
        ['a close frame with a 1-byte body', [peer(8, Buffer.from([3]))], 1002, 'A close frame with a 1-byte body'],
        ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535].map((code): [string, Buffer[], number, string] => [
          `close code ${code}`,
          [peer(8, u16(code))],
          1002,
          `Invalid close code ${code}`,
        ]),
        [
          'invalid UTF-8 in a close reason',
          [peer(8, Buffer.concat([u16(1000), Buffer.from([0xc3, 0x28])]))],
          1007,
          'Invalid UTF-8 in a close reason',
        ],
      ];
      for (const [name, frames, code, message] of cases) {
        const w = wire({ client: role.client, maxLength: 1000 });
        for (const bytes of frames) w.connection.receive(bytes);
        t.same(w.events, [['failed', code, message]], `${name}: one report, ${code}: ${message}`);
        const close = w.frames().find((f) => f.opcode === 8);
        t.same(
          close && [close.payload.readUInt16BE(0), close.payload.subarray(2).toString()],
          [code, message],
          `${name}: the close frame carries ${code} and the reason`,
        );
        t.equal(w.connection.closed, true);
        // Everything after a failure is ignored.
        w.connection.receive(peer(1, 'after'));
        t.equal(w.events.length, 1, `${name}: nothing after`);
      }
    });

    t.test('a pong is reported and not answered; the connection stays open', async (t) => {
      const w = wire({ client: role.client, maxLength: 1000 });
      w.connection.receive(Buffer.concat([peer(10, 'p'), peer(1, 'after')]));
      t.same(w.events, [
        ['pong', Buffer.from('p')],
        ['message', 'after'],
      ]);
      t.same(w.frames(), [], 'nothing written');
      t.equal(w.connection.closed, false);
    });

    t.test('a control frame of exactly 125 bytes is fine', async (t) => {
      const w = wire({ client: role.client, maxLength: 1000 });
      w.connection.receive(peer(9, Buffer.alloc(125, 1)));
      t.same(w.events, [['ping', Buffer.alloc(125, 1)]]);
      t.same(
        w.frames().map((f) => [f.opcode, f.payload.length]),
        [[10, 125]],
        'answered with a 125-byte pong',
      );
    });

    t.test('64-bit lengths above 2^32 are read whole: over maxLength, 1009 from the header', async (t) => {
      for (const high of [
        [0, 0, 0, 1],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0x7f, 0xff, 0xff, 0xff],
      ]) {
        const header = Buffer.from([
          0x82,
          (role.peerMasks ? 0x80 : 0) | 127,
          ...high,
          0,
          0,
          0,
          5,
          ...(role.peerMasks ? [1, 2, 3, 4] : []),
        ]);
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.receive(Buffer.concat([header, Buffer.alloc(5)]));
        t.same(w.events, [['failed', 1009, 'A message over maxLength (1000 bytes)']], `high word ${high}`);
      }
    });

    t.test('a frame length with its top bit set fails with 1002', async (t) => {
      const header = Buffer.from([
        0x82,
        (role.peerMasks ? 0x80 : 0) | 127,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        ...(role.peerMasks ? [1, 2, 3, 4] : []),
      ]);
      const w = wire({ client: role.client, maxLength: 1000 });
      w.connection.receive(header);
      t.equal(w.closeCode(), 1002);
      t.same(w.events, [['failed', 1002, 'A frame length with its top bit set']]);
    });

    t.test('maxLength', async (t) => {
      t.test('a frame over maxLength fails with 1009 from its header, before its payload arrives', async (t) => {
        const w = wire({ client: role.client, maxLength: 1024 });
        const bytes = peer(2, Buffer.alloc(1025));
        w.connection.receive(bytes.subarray(0, 8));
        t.same(w.events, [['failed', 1009, 'A message over maxLength (1024 bytes)']]);
        t.equal(w.closeCode(), 1009);
      });

      t.test('fragments that add up past maxLength fail at the fragment that crosses it', async (t) => {
        const w = wire({ client: role.client, maxLength: 1024 });
        w.connection.receive(peer(2, Buffer.alloc(600), { fin: false }));
        t.same(w.events, []);
        w.connection.receive(peer(0, Buffer.alloc(600), { fin: false }).subarray(0, 8));
        t.equal(w.closeCode(), 1009);
      });

      t.test('every fragment counts, not only the first two', async (t) => {
        for (const opcode of [1, 2]) {
          const w = wire({ client: role.client, maxLength: 1000 });
          w.connection.receive(peer(opcode, Buffer.alloc(400, 0x61), { fin: false }));
          w.connection.receive(peer(0, Buffer.alloc(400, 0x61), { fin: false }));
          t.same(w.events, [], `opcode ${opcode}: 800 bytes so far`);
          w.connection.receive(peer(0, Buffer.alloc(400, 0x61)));
          t.same(
            w.events,
            [['failed', 1009, 'A message over maxLength (1000 bytes)']],
            `opcode ${opcode}: 1200 > 1000`,
          );
        }
      });

      t.test('a message of exactly maxLength is delivered; control frames do not count', async (t) => {
        const w = wire({ client: role.client, maxLength: 10 });
        w.connection.receive(Buffer.concat([peer(2, Buffer.alloc(5), { fin: false }), peer(9, 'p'.repeat(100))]));
        w.connection.receive(peer(0, Buffer.alloc(5)));
        t.same(
          w.events.map((e) => e[0]),
          ['ping', 'message'],
        );
      });
    });

    t.test('fragments', async (t) => {
      t.test('a message in more frames than maxFragments fails with 1009 at the header of the one over', async (t) => {
        const w = wire({ client: role.client, maxLength: 1000, maxFragments: 4 });
        w.connection.receive(
          Buffer.concat([peer(2, 'a', { fin: false }), peer(0, 'b', { fin: false }), peer(0, 'c', { fin: false })]),
        );
        w.connection.receive(peer(0, 'd'));
        t.same(w.events, [['message', Buffer.from('abcd')]], '4 frames: one message');
        w.connection.receive(peer(1, 'a', { fin: false }));
        for (let i = 0; i < 3; i++) w.connection.receive(peer(0, '', { fin: false }));
        t.equal(w.events.length, 1, '4 frames of a message so far');
        // Only the header of the fifth: it is refused before its payload.
        w.connection.receive(peer(0, 'e').subarray(0, role.peerMasks ? 6 : 2));
        t.same(w.events.slice(1), [['failed', 1009, 'Too many message fragments (over 4)']]);
        const close = w.frames().find((f) => f.opcode === 8);
        t.same(
          close && [close.payload.readUInt16BE(0), close.payload.subarray(2).toString()],
          [1009, 'Too many message fragments (over 4)'],
          'the close frame says why',
        );
      });

      t.test('empty fragments count: the default allows 16,384 frames under a small maxLength', async (t) => {
        t.equal(defaultMaxFragments(1000), MIN_MAX_FRAGMENTS);
        t.equal(MIN_MAX_FRAGMENTS, 16_384, "ws's default");
        for (const opcode of [1, 2]) {
          const w = wire({ client: role.client, maxLength: 1000 });
          const empty = peer(0, '', { fin: false });
          feed(
            w.connection,
            Buffer.concat([peer(opcode, '', { fin: false }), ...Array.from({ length: 16_382 }, () => empty)]),
            65_536,
          );
          w.connection.receive(peer(0, 'z'));
          t.same(w.events, [['message', opcode === 1 ? 'z' : Buffer.from('z')]], `opcode ${opcode}: 16,384 frames`);
          feed(
            w.connection,
            Buffer.concat([peer(opcode, '', { fin: false }), ...Array.from({ length: 16_383 }, () => empty)]),
            65_536,
          );
          t.equal(w.events.length, 1, `opcode ${opcode}: 16,384 empty frames, no message yet`);
          w.connection.receive(peer(0, ''));
          t.same(
            w.events[1],
            ['failed', 1009, 'Too many message fragments (over 16384)'],
            `opcode ${opcode}: the 16,385th fails`,
          );
          t.equal(w.closeCode(), 1009);
        }
      });

      t.test('the default is one fragment per 64 bytes of maxLength', async (t) => {
        t.equal(FRAGMENT_COST, 64);
        t.equal(defaultMaxFragments(2 ** 26 - 1), 1_048_575, 'the default maxLength: 1,048,575 fragments');
        t.equal(defaultMaxFragments(4 << 20), 65_536, 'a 4 MiB maxLength still takes 4 MiB in 64-byte fragments');
      });

      t.test('4 MiB in 65,536 fragments of 64 bytes arrives (Autobahn 9.3.1, 9.4.1)', async (t) => {
        const size = 4 << 20;
        for (const opcode of [1, 2]) {
          const payload = Buffer.alloc(size, opcode === 1 ? '*' : 0xfe);
          const frames: Buffer[] = [];
          for (let at = 0; at < size; at += 64) {
            frames.push(peer(at === 0 ? opcode : 0, payload.subarray(at, at + 64), { fin: at + 64 === size }));
          }
          t.equal(frames.length, 65_536);
          const w = wire({ client: role.client, maxLength: 2 ** 26 - 1 });
          feed(w.connection, Buffer.concat(frames), 65_536);
          t.equal(w.events.length, 1, `opcode ${opcode}: one event`);
          const [kind, data] = w.events[0] as ['message', string | Buffer];
          t.equal(kind, 'message');
          t.ok(
            opcode === 1 ? data === payload.toString() : Buffer.isBuffer(data) && data.equals(payload),
            `opcode ${opcode}: all 4 MiB`,
          );
        }
      });

      t.test('a frame that arrives in pieces is read as they come, into a buffer of its own size', async (t) => {
        const payload = Buffer.alloc(100_000);
        for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
        for (const step of [1000, 4097, 65_536]) {
          const w = wire({ client: role.client, maxLength: 1 << 20 });
          feed(w.connection, peer(2, payload), step);
          const [[, data]] = w.events as [['message', Buffer]];
          t.ok(data.equals(payload), `in pieces of ${step} bytes`);
          t.equal(data.buffer.byteLength, payload.length, 'no buffer twice its size reaches the application');
        }
        const w = wire({ client: role.client, maxLength: 1 << 20 });
        const bytes = Buffer.concat([
          peer(2, payload.subarray(0, 70_000), { fin: false }),
          peer(0, payload.subarray(70_000)),
        ]);
        feed(w.connection, bytes, 3000);
        const [[, data]] = w.events as [['message', Buffer]];
        t.ok(data.equals(payload), 'two frames, in pieces');
        t.ok(data.buffer.byteLength <= payload.length * 1.25, `in a buffer of ${data.buffer.byteLength} bytes`);
      });
    });

    t.test('closing', async (t) => {
      t.test('an empty close frame is reported as 1005 and answered with an empty one', async (t) => {
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.receive(peer(8));
        t.same(w.events, [['closing', 1005, '']]);
        t.equal(w.closeCode(), null, 'the answer has no code either (1005 MUST NOT be sent)');
        t.equal(w.connection.closed, true);
      });

      t.test("the peer's code and reason are reported and echoed", async (t) => {
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.receive(peer(8, Buffer.concat([u16(4000), Buffer.from('bye ☃')])));
        t.same(w.events, [['closing', 4000, 'bye ☃']]);
        const close = w.frames()[0];
        t.equal(close?.payload.readUInt16BE(0), 4000);
        t.equal(close?.payload.subarray(2).toString(), 'bye ☃');
        t.equal(close?.masked, role.client, 'the client masks what it sends');
      });

      t.test(
        'close() sends a close frame once; the answer completes the handshake without a second frame',
        async (t) => {
          const w = wire({ client: role.client, maxLength: 1000 });
          w.connection.close(3000, 'done');
          w.connection.close(3001, 'again');
          t.equal(w.connection.closing, true);
          t.equal(w.connection.closed, false);
          w.connection.text('too late', 8);
          w.connection.receive(peer(1, 'still delivered'));
          w.connection.receive(peer(8, u16(3000)));
          t.same(w.events, [
            ['message', 'still delivered'],
            ['closing', 3000, ''],
          ]);
          t.same(
            w.frames().map((f) => f.opcode),
            [8],
            'one close frame and nothing else',
          );
          t.equal(w.closeCode(), 3000);
        },
      );

      t.test('close() without a code sends an empty close frame', async (t) => {
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.close(undefined, '');
        t.equal(w.closeCode(), null);
      });

      t.test('bytes after the close frame are ignored', async (t) => {
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.receive(Buffer.concat([peer(8, u16(1000)), peer(1, 'ignored'), peer(0, 'x')]));
        t.same(w.events, [['closing', 1000, '']]);
      });

      t.test('fail() sends its code once, with a reason cut to 123 bytes, and then nothing', async (t) => {
        const w = wire({ client: role.client, maxLength: 1000 });
        t.equal(w.connection.fail(1001, '☃'.repeat(100)), true);
        t.equal(w.connection.fail(1002, 'again'), false);
        w.connection.ping(Buffer.from('x'));
        w.connection.receive(peer(1, 'ignored'));
        const [close] = w.frames();
        t.equal(close?.payload.readUInt16BE(0), 1001);
        t.ok((close?.payload.length ?? 0) <= 125);
        t.equal(close?.payload.subarray(2).toString(), '☃'.repeat(41));
        t.equal(w.frames().length, 1);
        t.same(w.events, [], 'fail() reports nothing: its caller knows');
      });

      t.test('a protocol error after our close frame went out fails without a second close frame', async (t) => {
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.close(4000, 'bye');
        w.connection.receive(peer(3, 'x'));
        t.same(w.events, [['failed', 1002, 'Unknown opcode 3']]);
        t.same(
          w.frames().map((f) => [f.opcode, f.payload.readUInt16BE(0)]),
          [[8, 4000]],
          'one close frame: ours (RFC 6455 §5.5.1)',
        );
      });

      t.test('abort() sends nothing', async (t) => {
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.abort();
        w.connection.close(1000, '');
        t.equal(w.writes.length, 0);
        t.equal(w.connection.closed, true);
      });
    });

    t.test('sending', async (t) => {
      t.test(
        `messages go out as single frames, ${role.client ? 'masked' : 'unmasked'}, the last write carrying the size`,
        async (t) => {
          const w = wire({ client: role.client, maxLength: 1000 });
          w.connection.text('hé', 3);
          w.connection.binary(Buffer.alloc(20_000, 1));
          w.connection.ping(Buffer.from('p'));
          const frames = w.frames();
          t.same(
            frames.map((f) => [f.opcode, f.fin, f.masked, f.payload.length]),
            [
              [1, true, role.client, 3],
              [2, true, role.client, 20_000],
              [9, true, role.client, 1],
            ],
          );
          t.equal(frames[0]?.payload.toString(), 'hé');
          t.ok(frames[1]?.payload.equals(Buffer.alloc(20_000, 1)));
          t.same(
            w.writes.filter((write) => write.completes > 0).map((write) => write.completes),
            [3, 20_000],
          );
        },
      );

      t.test('pongs answer pings until our close frame is out', async (t) => {
        const w = wire({ client: role.client, maxLength: 1000 });
        w.connection.receive(peer(9, 'one'));
        w.connection.close(1000, '');
        w.connection.receive(peer(9, 'two'));
        t.same(
          w.frames().map((f) => [f.opcode, String(f.payload.subarray(f.opcode === 8 ? 2 : 0))]),
          [
            [10, 'one'],
            [8, ''],
          ],
        );
        t.same(
          w.events.map((e) => e[0]),
          ['ping', 'ping'],
        );
      });
    });
  });
}

t.test('Connection with permessage-deflate', async (t) => {
  /** A server and a client connection wired to each other, deflate negotiated. */
  function pair(params: object = {}, maxLength = 1 << 20) {
    const serverConfig = resolveExtensions(undefined, { threshold: 0, ...params }, 'server', maxLength);
    const clientConfig = resolveExtensions(undefined, { threshold: 0, ...params }, 'client', maxLength);
    const offer = offerExtensions(clientConfig);
    const accepted = acceptExtensions(serverConfig, offer?.header ?? undefined);
    const clientNegotiated = offer?.activate(accepted?.header);
    const server = wire({ client: false, maxLength, extensions: accepted?.negotiated });
    const client = wire({ client: true, maxLength, extensions: clientNegotiated });
    return { server, client, header: accepted?.header };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  async function until(predicate: () => boolean): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('condition not met in 5 s');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  t.test('messages are compressed (RSV1) and inflated in order, with a close frame behind them', async (t) => {
    const { server, client, header } = pair();
    t.match(header, /^permessage-deflate/);
    client.connection.text('a'.repeat(1000), 1000);
    client.connection.binary(Buffer.alloc(5000, 9));
    client.connection.close(1000, 'bye');
    await until(() => client.frames().length === 3);
    const frames = client.frames();
    t.same(
      frames.map((f) => [f.opcode, f.rsv]),
      [
        [1, 0x40],
        [2, 0x40],
        [8, 0],
      ],
      'data frames compressed, the close frame after them',
    );
    t.ok((frames[0]?.payload.length ?? 1000) < 100, 'compressed');
    server.connection.receive(Buffer.concat(client.writes.map((w) => w.data)));
    await until(() => server.events.length === 3);
    t.same(server.events[0], ['message', 'a'.repeat(1000)]);
    t.ok((server.events[1] as ['message', Buffer])[1].equals(Buffer.alloc(5000, 9)));
    t.same(server.events[2], ['closing', 1000, 'bye'], 'the close frame waited for the messages before it');
  });

  t.test('below the threshold a message goes uncompressed, still in order', async (t) => {
    const { client } = pair({ threshold: 100 });
    client.connection.text('x'.repeat(500), 500);
    client.connection.text('small', 5);
    client.connection.text('y'.repeat(100), 100);
    client.connection.text('z'.repeat(99), 99);
    client.connection.binary(Buffer.alloc(100, 1));
    await until(() => client.frames().length === 5);
    t.same(
      client.frames().map((f) => [f.rsv, f.payload.length < 500]),
      [
        [0x40, true],
        [0, true],
        [0x40, true],
        [0, true],
        [0x40, true],
      ],
      'compressed from exactly the threshold up, text and binary',
    );
    t.equal(client.frames()[1]?.payload.toString(), 'small');
    t.equal(client.frames()[3]?.payload.toString(), 'z'.repeat(99));
  });

  t.test('a compressed message inflating past maxLength fails with 1009, with memory near the limit', async (t) => {
    const maxLength = 1 << 20;
    const { server } = pair({}, maxLength);
    // 64 MiB of zeros: about 64 KB on the wire, under maxLength there.
    const bomb = zlib.deflateRawSync(Buffer.alloc(64 << 20), { level: 9 });
    const wireBytes = bomb.subarray(0, bomb.length - 4);
    t.ok(wireBytes.length < maxLength, `the bomb is ${wireBytes.length} bytes on the wire, under maxLength`);
    const before = process.memoryUsage().arrayBuffers;
    server.connection.receive(frame(2, wireBytes, { rsv: 4 }));
    await until(() => server.events.length > 0);
    t.same(server.events, [
      ['failed', 1009, 'permessage-deflate: A compressed message inflated past maxLength (1048576 bytes)'],
    ]);
    t.equal(server.closeCode(), 1009);
    const grown = process.memoryUsage().arrayBuffers - before;
    t.ok(grown < 16 << 20, `external memory grew ${grown} bytes, not 64 MiB`);
    await settle();
    t.equal(server.events.length, 1, 'one report, and no late zlib error');
  });

  t.test('corrupt compressed data fails with 1007', async (t) => {
    const { server } = pair();
    server.connection.receive(frame(1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), { rsv: 4 }));
    await until(() => server.events.length > 0);
    t.equal(server.events[0]?.[0], 'failed');
    t.equal(server.events[0]?.[1], 1007);
    t.match(server.events[0]?.[2], /^Could not decode a message: \w/, "names zlib's complaint");
    t.equal(server.closeCode(), 1007);
  });

  t.test('RSV1 on a continuation frame is a protocol error (RFC 7692 §6.1)', async (t) => {
    const { server } = pair();
    server.connection.receive(frame(1, 'a', { fin: false, rsv: 4 }));
    server.connection.receive(frame(0, 'b', { rsv: 4 }));
    t.equal(server.closeCode(), 1002);
  });

  t.test('a message that arrives while one inflates waits for it, and so does a close frame', async (t) => {
    const { server } = pair();
    const compressed = zlib.deflateRawSync(Buffer.from('first'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    server.connection.receive(
      Buffer.concat([
        frame(1, compressed.subarray(0, compressed.length - 4), { rsv: 4 }),
        frame(1, 'second'),
        frame(8, Buffer.from([0x03, 0xe8])),
      ]),
    );
    await until(() => server.events.length === 3);
    t.same(server.events, [
      ['message', 'first'],
      ['message', 'second'],
      ['closing', 1000, ''],
    ]);
  });

  t.test(
    'frames behind a message in the extensions wait as bytes, unparsed: a ping there is answered after it',
    async (t) => {
      // Inflated past SYNC_OUTPUT_LIMIT, so it goes on in the thread pool (deflate-codec.ts).
      const first = 'first'.repeat(SYNC_OUTPUT_LIMIT / 4);
      const { server } = pair({}, 8 << 20);
      const compressed = zlib.deflateRawSync(Buffer.from(first), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      const tiny = frame(2, Buffer.from([1]));
      server.connection.receive(
        Buffer.concat([
          frame(1, compressed.subarray(0, compressed.length - 4), { rsv: 4 }),
          frame(9, 'behind'),
          ...Array.from({ length: 10_000 }, () => tiny),
          frame(1, 'last'),
        ]),
      );
      t.same(server.events, [], 'nothing parsed past the message being inflated');
      t.same(server.frames(), [], 'no pong yet');
      await until(() => server.events.length === 10_003);
      t.ok(server.events[0]?.[0] === 'message' && server.events[0]?.[1] === first, 'the message first');
      t.same(server.events[1], ['ping', Buffer.from('behind')]);
      t.same(server.events.at(-1), ['message', 'last']);
      t.same(
        server.frames().map((f) => f.opcode),
        [10],
        'the pong, once the ping is read',
      );
    },
  );

  t.test(
    `receive() returns false once over MAX_UNPARSED (${MAX_UNPARSED} bytes) wait behind a message being inflated, and resume() follows once they are parsed`,
    async (t) => {
      const maxLength = 1 << 20;
      const serverConfig = resolveExtensions(undefined, { threshold: 0 }, 'server', maxLength);
      const offer = offerExtensions(resolveExtensions(undefined, { threshold: 0 }, 'client', maxLength));
      const accepted = acceptExtensions(serverConfig, offer?.header ?? undefined);
      const events: string[] = [];
      let tinyBeforeResume = -1;
      const noop = () => {};
      const connection = new Connection<object>(
        {},
        {
          write: noop,
          message: (_o, data) => events.push(typeof data === 'string' ? data : `<${data.length}>`),
          ping: noop,
          pong: noop,
          closing: noop,
          failed: (_o, code, reason) => events.push(`failed:${code}:${reason}`),
          resume: () => {
            events.push('resume');
            tinyBeforeResume = events.length - 2;
          },
        },
        { client: false, maxLength, extensions: accepted?.negotiated },
      );
      // Over SYNC_LIMIT compressed (random bytes do not compress): inflated in the thread pool, not at once.
      const compressed = zlib.deflateRawSync(randomBytes(2 * SYNC_LIMIT), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      t.equal(
        connection.receive(frame(2, compressed.subarray(0, compressed.length - 4), { rsv: 4 })),
        true,
        'a message going into the extensions, nothing behind it',
      );
      const tiny = frame(2, Buffer.from([1, 2]));
      const count = MAX_UNPARSED / tiny.length;
      t.ok(Number.isInteger(count), 'the 8-byte frames fill the bound exactly');
      t.equal(
        connection.receive(Buffer.concat(Array.from({ length: count }, () => tiny))),
        true,
        'exactly MAX_UNPARSED bytes waiting: go on reading',
      );
      t.equal(connection.receive(Buffer.from(tiny)), false, 'one frame more: stop reading');
      t.equal(connection.receive(Buffer.from(tiny)), false, 'still over the bound');
      t.same(events, [], 'nothing parsed yet, and no resume');
      const deadline = Date.now() + 5000;
      while (events.length < count + 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      t.equal(events[0], `<${2 * SYNC_LIMIT}>`);
      t.equal(events.filter((e) => e === 'resume').length, 1, 'resume() once');
      t.same(
        events.filter((e) => e !== 'resume'),
        [`<${2 * SYNC_LIMIT}>`, ...Array.from({ length: count + 2 }, () => '<2>')],
        'every message, in order',
      );
      // Left at resume(): the frames not delivered yet, but one that may be in the extensions.
      const left = Math.max(0, count + 1 - tinyBeforeResume) * tiny.length;
      t.ok(left <= MAX_UNPARSED, `resume() came with ${left} bytes unparsed, at most MAX_UNPARSED`);
    },
  );

  t.test('without extensions receive() never asks to stop: nothing waits unparsed', async (t) => {
    const w = wire({ client: false, maxLength: 1 << 20 });
    const tiny = frame(2, Buffer.from([1]));
    t.equal(w.connection.receive(Buffer.concat(Array.from({ length: 10_000 }, () => tiny))), true);
    t.equal(w.connection.receive(frame(2, Buffer.alloc(100_000), { fin: false })), true, 'a large fragment');
    t.equal(w.events.length, 10_000);
  });

  t.test('fail() while a message inflates drops it', async (t) => {
    // Past SYNC_OUTPUT_LIMIT inflated: in the thread pool when fail() comes.
    const { server } = pair({}, 8 << 20);
    const compressed = zlib.deflateRawSync(Buffer.alloc(4 * SYNC_OUTPUT_LIMIT, 1), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    server.connection.receive(frame(2, compressed.subarray(0, compressed.length - 4), { rsv: 4 }));
    server.connection.fail(1001, 'going');
    await settle();
    t.same(server.events, []);
    t.equal(server.closeCode(), 1001);
  });
});

t.test('a text message longer than the longest JavaScript string fails with 1009, not an exception', async (t) => {
  // Only a maxLength above 512 MiB allows this; the connection must say 1009 rather than throw
  // out of receive() (which, from a socket listener, would end the process).
  const length = constants.MAX_STRING_LENGTH + 1;
  const header = Buffer.from([0x81, 127, 0, 0, 0, 0, 0, 0, 0, 0]);
  header.writeUInt32BE(length, 6);
  const payload = Buffer.alloc(length, 0x61);
  const w = wire({ client: true, maxLength: length });
  t.doesNotThrow(() => {
    w.connection.receive(header);
    w.connection.receive(payload);
  });
  t.same(w.events, [['failed', 1009, 'A text message too long for a JavaScript string']]);
  t.equal(w.closeCode(), 1009);
});

t.test('Connection owner and handler', async (t) => {
  t.test('the handler is called with the owner, so no closure is made per connection', async (t) => {
    const owner = {};
    const seen: unknown[] = [];
    const noop = () => {};
    const connection = new Connection(
      owner,
      {
        write: noop,
        message: (o) => seen.push(o),
        ping: noop,
        pong: noop,
        closing: noop,
        failed: noop,
      },
      { client: false, maxLength: 100 },
    );
    connection.receive(frame(1, 'x'));
    t.equal(seen[0], owner);
  });

  t.test('the server writes a large binary message as a header and the caller buffer itself, uncopied', async (t) => {
    const writes: Buffer[] = [];
    const noop = () => {};
    const connection = new Connection(
      {},
      {
        write: (_o, data) => writes.push(data),
        message: noop,
        ping: noop,
        pong: noop,
        closing: noop,
        failed: noop,
      },
      { client: false, maxLength: 100 },
    );
    const payload = Buffer.alloc(1 << 20, 1);
    connection.binary(payload);
    t.equal(writes.length, 2);
    t.equal(writes[1], payload, 'no copy of 1 MiB on the way out');
  });

  t.test('decodeFrames reads what the connection writes', async (t) => {
    t.same(
      decodeFrames(frame(2, Buffer.from([1]), { masked: true })).map((f) => [f.opcode, [...f.payload]]),
      [[2, [1]]],
    );
  });
});
