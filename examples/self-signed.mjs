// A self-signed certificate made in pure Node (no openssl), for examples that
// need HTTPS on a developer's machine: an ECDSA P-256 key and an X.509 v3
// certificate for the given names, valid for 30 days, written in DER by hand
// and signed with node:crypto. Browsers will warn about it (nobody vouches
// for it); that is what a self-signed certificate is for.
//
// References:
// - RFC 5280, X.509 certificates: https://www.rfc-editor.org/rfc/rfc5280 (§4.1 the
//   structure, §4.2.1.6 subjectAltName, §4.2.1.9 basicConstraints)
// - ITU-T X.690, DER encoding; RFC 5758 §3.2, ecdsa-with-SHA256
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

/** DER: a tag, its length, its content. */
function der(tag, ...parts) {
  const content = Buffer.concat(parts);
  const n = content.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : Buffer.concat([Buffer.from([0x80 | Math.ceil(n.toString(16).length / 2)]), hex(n)]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
const hex = (n) => Buffer.from(n.toString(16).padStart(Math.ceil(n.toString(16).length / 2) * 2, '0'), 'hex');
const sequence = (...parts) => der(0x30, ...parts);
const oid = (text) => {
  const [a, b, ...rest] = text.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const value of rest) {
    const chunk = [value & 0x7f];
    for (let v = value >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
};
const utcTime = (date) => der(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`));
const name = (commonName) => sequence(der(0x31, sequence(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName)))));

function ipBytes(address) {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  // IPv6: expand '::' and write eight 16-bit groups.
  const [head, tail = ''] = address.split('::');
  const groups = head ? head.split(':') : [];
  const rest = tail ? tail.split(':') : [];
  const all = [...groups, ...Array(8 - groups.length - rest.length).fill('0'), ...rest];
  return Buffer.concat(all.map((group) => Buffer.from(group.padStart(4, '0'), 'hex')));
}

/**
 * A key and a self-signed certificate (both PEM) for `names`: host names
 * and IP addresses, the first one also the common name.
 *
 * @example
 * const { key, cert } = selfSigned(['localhost', '127.0.0.1', '::1']);
 * http2.createSecureServer({ key, cert, allowHTTP1: true });
 */
export function selfSigned(names = ['localhost', '127.0.0.1', '::1']) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40; // a positive INTEGER, its first byte never 0 (DER: no leading zero byte, else "illegal padding")
  const now = Date.now();
  // subjectAltName: dNSName [2] for names, iPAddress [7] for addresses.
  const altNames = sequence(...names.map((n) => (isIP(n) ? der(0x87, ipBytes(n)) : der(0x82, Buffer.from(n)))));
  const extensions = der(
    0xa3,
    sequence(
      sequence(oid('2.5.29.17'), der(0x04, altNames)),
      // basicConstraints, critical, cA TRUE: what `openssl req -x509` writes.
      sequence(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, sequence(der(0x01, Buffer.from([0xff]))))),
    ),
  );
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    der(0x02, serial),
    ecdsaWithSha256,
    name(names[0]),
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 30 * 86_400_000))),
    name(names[0]),
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));
  const pem = (label, body) =>
    `-----BEGIN ${label}-----\n${body.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    cert: pem('CERTIFICATE', certificate),
  };
}
