// permessage-deflate "zip bombs", made by hand instead of by zlib: a raw
// DEFLATE stream of `size` zero bytes at the format's best ratio (1032:1),
// built in a few milliseconds for any size, so that a 1 GiB bomb costs the
// suite nothing (zlib takes seconds to compress 1 GiB of zeros and lands a
// few KiB larger). A 1 GiB bomb is 1,040,448 bytes: under a 1 MiB maxLength
// on the wire, so only the inflate bound can stop it.
//
// The stream is one dynamic-Huffman block with three literal/length symbols
// (the literal 0, the length 258, end of block) and one distance (1): a zero,
// then the same 258 zeros copied over and over, two bits a copy. It ends as
// a permessage-deflate message does (RFC 7692 §7.2.1): a sync flush (an empty
// stored block) whose final 00 00 ff ff the sender removes.
//
// References:
// - RFC 1951 §3.1.1 (bit order), §3.2.5 (length 258 is code 285, distance 1
//   is code 0), §3.2.7 (dynamic block header): https://www.rfc-editor.org/rfc/rfc1951
// - RFC 7692 §7.2.1 (compressing a message): https://www.rfc-editor.org/rfc/rfc7692#section-7.2.1

/** DEFLATE packs header fields from the least significant bit up. */
class BitWriter {
  readonly #bytes: Buffer;
  #bit = 0;

  constructor(capacity: number) {
    this.#bytes = Buffer.alloc(capacity);
  }

  /** A number of `count` bits, least significant bit first (header fields, extra bits). */
  bits(value: number, count: number): void {
    for (let i = 0; i < count; i++) this.#put((value >> i) & 1);
  }

  /** A Huffman code of `length` bits, most significant bit first (RFC 1951 §3.1.1). */
  code(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) this.#put((value >> i) & 1);
  }

  /** `count` zero bits, skipped: the buffer is zero-filled. */
  zeros(count: number): void {
    this.#bit += count;
  }

  /** Pads to a byte boundary; returns the bytes written. */
  end(): Buffer {
    return this.#bytes.subarray(0, Math.ceil(this.#bit / 8));
  }

  #put(bit: number): void {
    if (bit) this.#bytes[this.#bit >> 3] = (this.#bytes[this.#bit >> 3] as number) | (1 << (this.#bit & 7));
    this.#bit++;
  }
}

// Code-length code (RFC 1951 §3.2.7): symbol 18 (a run of 11-138 zeros) is
// `0`, symbol 1 is `10`, symbol 2 is `11`; HCLEN lists 18 lengths in this order.
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
const CL_LENGTHS: Record<number, number> = { 18: 1, 1: 2, 2: 2 };
const CL18 = [0, 1] as const;
const CL1 = [0b10, 2] as const;
const CL2 = [0b11, 2] as const;

/**
 * The permessage-deflate payload of a message of `size` zero bytes (the
 * trailing 00 00 ff ff already removed), at 1032:1.
 */
export function deflateBomb(size: number): Buffer {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`a bomb of ${size} bytes`);
  const copies = Math.floor((size - 1) / 258);
  const literals = size - 1 - copies * 258;
  const out = new BitWriter(64 + Math.ceil((2 * (copies + literals + 2)) / 8));
  out.bits(0, 1); // BFINAL: more blocks follow (the sync flush)
  out.bits(2, 2); // BTYPE 10: dynamic Huffman codes
  out.bits(286 - 257, 5); // HLIT: literal/length codes 0-285
  out.bits(1 - 1, 5); // HDIST: one distance code
  out.bits(CL_ORDER.length - 4, 4); // HCLEN
  for (const symbol of CL_ORDER) out.bits(CL_LENGTHS[symbol] ?? 0, 3);
  // Literal/length code lengths: 0 -> 2, 1-255 -> 0, 256 -> 2, 257-284 -> 0, 285 -> 1.
  out.code(...CL2);
  out.code(...CL18);
  out.bits(138 - 11, 7);
  out.code(...CL18);
  out.bits(117 - 11, 7);
  out.code(...CL2);
  out.code(...CL18);
  out.bits(28 - 11, 7);
  out.code(...CL1);
  // Distance code lengths: 0 -> 1 (RFC 1951 §3.2.7: one distance code of one bit).
  out.code(...CL1);
  // Canonical codes: 285 is `0`, the literal 0 is `10`, end of block is `11`; distance 0 is `0`.
  out.code(0b10, 2); // the literal 0
  out.zeros(2 * copies); // <length 258, distance 1>, `0` `0`, copies times
  for (let i = 0; i < literals; i++) out.code(0b10, 2);
  out.code(0b11, 2); // end of block
  out.bits(0, 3); // the sync flush: an empty stored block (BFINAL 0, BTYPE 00) ...
  return out.end(); // ... padded to a byte; its 00 00 ff ff is left out
}

/** Cuts a payload into `count` pieces of near-equal size (for fragmented messages). */
export function pieces(payload: Buffer, count: number): Buffer[] {
  const size = Math.ceil(payload.length / count);
  const out: Buffer[] = [];
  for (let start = 0; start < payload.length; start += size) out.push(payload.subarray(start, start + size));
  return out;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** The sizes issue 10 asks every bomb spec to try. */
export const BOMB_SIZES: ReadonlyArray<readonly [string, number]> = [
  ['2 MiB', 2 * MiB],
  ['16 MiB', 16 * MiB],
  ['256 MiB', 256 * MiB],
  ['1 GiB', GiB],
];
