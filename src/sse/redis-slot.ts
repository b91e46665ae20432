// Redis Cluster key slots: which of the 16,384 slots (and so which shard) a
// key or a sharded pub/sub channel belongs to. A pure module; the stores use
// it to know which shard's outage a channel shares.
//
// References:
// - Redis cluster specification, "Key distribution model" and "Hash tags":
//   https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#key-distribution-model
// - CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection;
//   the check value of "123456789" is 0x31C3.

/** Slots in a Redis Cluster. */
export const SLOTS = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
})();

/** CRC16-CCITT (XMODEM) of `bytes`, as Redis Cluster computes it. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number)) & 0xffff;
  return crc;
}

/**
 * The slot of a key: CRC16 of its UTF-8 bytes mod 16,384, or of its hash tag
 * only. Cluster spec: "if the key contains a { character, and there is a }
 * character to its right, and there are one or more characters between the
 * first occurrence of { and the first occurrence of } after it, then only the
 * characters between them are hashed" (so `{user1000}.following` and
 * `user1000` share a slot, while `foo{}{bar}` hashes whole).
 *
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b); // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % SLOTS;
  }
  return crc16(bytes) % SLOTS;
}
