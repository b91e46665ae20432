// Hostile frames, shared by the hostile-input specs over HTTP/1.1 and over
// HTTP/2 (where the same frames ride an extended CONNECT stream): what a
// peer sends, and the close code RFC 6455 asks the receiver to answer with.

import { frame } from './wire.js';

/** A close frame payload's status code. */
export const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

/** The maxLength the server runs with for these cases. */
export const SERVER_MAX_LENGTH = 1024;

/** Frames a client sends the server socket (with maxLength 1024), and the code it must close with. */
export function serverFrameCases(): Array<[string, Buffer[], number]> {
  return [
    ['reserved bits set without an extension', [frame(1, 'x', { rsv: 4 })], 1002],
    ['an unknown opcode', [frame(3, 'x')], 1002],
    // RFC 6455 §5.1: the server MAY send 1002 (protocol error), as ws does.
    ['an unmasked client frame', [frame(1, 'x', { masked: false })], 1002],
    ['a fragmented control frame', [frame(9, 'x', { fin: false })], 1002],
    ['a control frame over 125 bytes', [frame(9, Buffer.alloc(126))], 1002],
    ['a continuation without a start', [frame(0, 'x')], 1002],
    ['a new data frame inside a fragmented message', [frame(1, 'a', { fin: false }), frame(1, 'b')], 1002],
    ['invalid UTF-8 in a text message', [frame(1, Buffer.from([0xff, 0xfe]))], 1007],
    [
      'invalid UTF-8 split across fragments',
      [frame(1, Buffer.from([0xe2, 0x82]), { fin: false }), frame(0, Buffer.from([0x28]))],
      1007,
    ],
    // RFC 6455 §8.1 fails the connection; 1007 says why, as ws does.
    ['invalid UTF-8 in a close reason', [frame(8, Buffer.concat([u16(1000), Buffer.from([0xc3, 0x28])]))], 1007],
    ['a close frame with a 1-byte payload', [frame(8, Buffer.from([3]))], 1002],
    ...[0, 999, 1004, 1005, 1006, 1015, 5000].map((code): [string, Buffer[], number] => [
      `close code ${code}`,
      [frame(8, u16(code))],
      1002,
    ]),
    ['a message over maxLength', [frame(2, Buffer.alloc(2048))], 1009],
    [
      'fragments adding up past maxLength',
      [frame(2, Buffer.alloc(600), { fin: false }), frame(0, Buffer.alloc(600))],
      1009,
    ],
  ];
}

/** The maxLength the client runs with for these cases. */
export const CLIENT_MAX_LENGTH = 100;

/** Frames a server sends the client (with maxLength 100), and the code the client must close with. */
export function clientFrameCases(): Array<[string, Buffer, number]> {
  return [
    ['invalid UTF-8 from the server', frame(1, Buffer.from([0xff]), { masked: false }), 1007],
    ['an unknown opcode from the server', frame(4, 'x', { masked: false }), 1002],
    ['reserved bits from the server', frame(1, 'x', { masked: false, rsv: 2 }), 1002],
    ['a message over maxLength from the server', frame(2, Buffer.alloc(200), { masked: false }), 1009],
    ['a masked frame from the server', frame(1, 'masked', { masked: true }), 1002],
  ];
}
