// Realistic JSON for the compressed rows: an API response of user records
// (ids, names, e-mail addresses, ISO timestamps, tags, nested objects),
// deterministic, exactly `size` bytes (the last record's note is padded).
//
//   import { json } from './json.mjs';  json(1024) -> string of 1,024 bytes
const NAMES = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Guido', 'Radia'];
const TAGS = ['admin', 'beta', 'billing', 'eu', 'us', 'mobile', 'desktop', 'trial', 'pro', 'support'];

export function json(size) {
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const records = [];
  const encode = () => JSON.stringify({ page: 1, total: records.length, items: records });
  for (let id = 1; ; id++) {
    const name = NAMES[next() % NAMES.length];
    records.push({
      id,
      name: `${name} ${String.fromCharCode(65 + (next() % 26))}.`,
      email: `${name.toLowerCase()}.${id}@example.com`,
      createdAt: new Date(1.7e12 + (next() % 1e8) * 1000).toISOString(),
      active: next() % 3 !== 0,
      score: (next() % 10000) / 100,
      tags: [TAGS[next() % TAGS.length], TAGS[next() % TAGS.length]],
      address: { city: ['Paris', 'Berlin', 'Austin', 'Osaka'][next() % 4], zip: String(10000 + (next() % 89999)) },
      note: '',
    });
    const length = Buffer.byteLength(encode());
    if (length >= size) {
      records.pop();
      break;
    }
  }
  const last = records[records.length - 1];
  last.note = 'x'.repeat(size - Buffer.byteLength(encode()));
  const out = encode();
  if (Buffer.byteLength(out) !== size) throw new Error(`json(${size}) made ${Buffer.byteLength(out)} bytes`);
  return out;
}
