import t from 'tap';
import {
  AddressType,
  describeReply,
  encodeAuthRequest,
  encodeConnectRequest,
  encodeGreeting,
  MAX_CONNECT_REPLY,
  Method,
  SocksError,
  SocksHandshake,
  type SocksHandshakeOptions,
} from '../../../src/net/socks.js';

const bytes = (...values: number[]): Buffer => Buffer.from(values);
const PROXY = '127.0.0.1:1080';
/** A successful CONNECT reply bound to 10.0.0.1:8080 (RFC 1928 §6, ATYP IPv4). */
const GRANTED = bytes(5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90);

function handshake(options: Partial<SocksHandshakeOptions> = {}): SocksHandshake {
  return new SocksHandshake({ proxy: PROXY, host: 'example.com', port: 443, ...options });
}

/** Feeds the replies one chunk at a time; returns what the client sent after each. */
function run(h: SocksHandshake, chunks: Buffer[]): Array<ReturnType<SocksHandshake['receive']>> {
  return chunks.map((chunk) => h.receive(chunk));
}

t.test('encodeGreeting (RFC 1928 §3)', async (t) => {
  t.same(encodeGreeting(false), bytes(5, 1, 0), 'no credentials: NO AUTHENTICATION REQUIRED only');
  t.same(encodeGreeting(true), bytes(5, 2, 2, 0), 'credentials: USERNAME/PASSWORD first, then none');
});

t.test('encodeAuthRequest (RFC 1929 §2): VER ULEN UNAME PLEN PASSWD, UTF-8', async (t) => {
  t.same(encodeAuthRequest('user', 'p@ss'), Buffer.from('\x01\x04user\x04p@ss', 'latin1'));
  t.same(encodeAuthRequest('é', ''), bytes(1, 2, 0xc3, 0xa9, 0));
  t.same(encodeAuthRequest('u'.repeat(255), 'p'.repeat(255)).length, 3 + 255 + 255, '255 bytes each fit');
  t.throws(() => encodeAuthRequest('u'.repeat(256), 'p'), RangeError);
  t.throws(() => encodeAuthRequest('u', 'é'.repeat(128)), { name: 'RangeError', message: /255 bytes each/ });
});

t.test('encodeConnectRequest (RFC 1928 §4-5): an address for a literal, a name otherwise', async (t) => {
  t.same(encodeConnectRequest('127.0.0.1', 8080), bytes(5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90));
  t.same(
    encodeConnectRequest('example.com', 443),
    Buffer.concat([bytes(5, 1, 0, 3, 11), Buffer.from('example.com'), bytes(1, 0xbb)]),
  );
  const v6 = (host: string): string => encodeConnectRequest(host, 1).subarray(4, 20).toString('hex');
  t.equal(encodeConnectRequest('::1', 1)[3], AddressType.IPV6);
  t.equal(v6('::1'), `${'0'.repeat(30)}01`);
  t.equal(v6('::'), '0'.repeat(32));
  t.equal(v6('2001:db8::8:800:200c:417a'), '20010db80000000000080800200c417a');
  t.equal(v6('fe80:0:0:0:0:0:0:1'), `fe80${'0'.repeat(26)}01`);
  t.equal(v6('1::'), `0001${'0'.repeat(28)}`);
  t.equal(v6('::ffff:192.0.2.1'), `${'0'.repeat(20)}ffffc0000201`);
  t.equal(encodeConnectRequest('a'.repeat(255), 1).length, 4 + 1 + 255 + 2, 'a 255-byte name fits');
  t.throws(() => encodeConnectRequest('a'.repeat(256), 1), { name: 'RangeError', message: /1 to 255 bytes/ });
  t.throws(() => encodeConnectRequest('', 1), RangeError);
  for (const port of [0, 65536, 1.5, Number.NaN]) t.throws(() => encodeConnectRequest('a', port), RangeError);
});

t.test('describeReply names every REP value of RFC 1928 §6', async (t) => {
  t.equal(describeReply(0), 'succeeded');
  t.equal(describeReply(5), 'connection refused');
  t.equal(describeReply(8), 'address type not supported');
  t.equal(describeReply(9), 'unassigned reply code');
  t.equal(describeReply(0xff), 'unassigned reply code');
});

t.test('SocksHandshake', async (t) => {
  t.test('without credentials: greeting, NO AUTHENTICATION, CONNECT, granted', async (t) => {
    const h = handshake();
    t.same(h.greeting(), bytes(5, 1, 0));
    t.equal(h.waitingFor, 'its method selection');
    const [afterMethod, afterConnect] = run(h, [bytes(5, 0), GRANTED]);
    t.same(afterMethod, { send: encodeConnectRequest('example.com', 443) });
    t.equal(h.waitingFor, 'its reply to CONNECT example.com:443');
    t.same(afterConnect, { established: true, rest: Buffer.alloc(0) });
    t.equal(h.established, true);
    t.same(h.receive(bytes(1, 2)), { established: true, rest: bytes(1, 2) }, 'afterwards, bytes are the tunnel’s');
  });

  t.test('with credentials: the proxy that asks gets RFC 1929, the one that does not never sees them', async (t) => {
    const asking = handshake({ username: 'user', password: 'p@ss' });
    t.same(asking.greeting(), bytes(5, 2, 2, 0));
    const [auth, connect, done] = run(asking, [bytes(5, 2), bytes(1, 0), GRANTED]);
    t.same(auth, { send: encodeAuthRequest('user', 'p@ss') });
    t.same(connect, { send: encodeConnectRequest('example.com', 443) });
    t.match(done, { established: true });

    const open = handshake({ username: 'user', password: 'p@ss' });
    const [straight] = run(open, [bytes(5, 0)]);
    t.same(
      straight,
      { send: encodeConnectRequest('example.com', 443) },
      'no authentication chosen: no credentials sent',
    );
  });

  t.test('a password alone is credentials (an empty user name)', async (t) => {
    const h = handshake({ username: '', password: 'secret' });
    t.same(h.greeting(), bytes(5, 2, 2, 0));
    t.same(h.receive(bytes(5, 2)), { send: bytes(1, 0, 6, ...Buffer.from('secret')) });
  });

  t.test('replies split at every byte still make the same exchange', async (t) => {
    const reply = Buffer.concat([bytes(5, 2), bytes(1, 0), bytes(5, 0, 0, 3, 4), Buffer.from('host'), bytes(0, 80)]);
    const boundaries = [2, 4];
    for (let cut = 1; cut < reply.length; cut++) {
      const h = handshake({ username: 'u', password: 'p' });
      const sent: Buffer[] = [];
      // Feed in pieces that never cross a request boundary: a proxy answers only when asked.
      let start = 0;
      for (const end of [...new Set([...boundaries, cut, reply.length])].sort((a, b) => a - b)) {
        if (end <= start) continue;
        const step = h.receive(reply.subarray(start, end));
        if (step && 'send' in step) sent.push(step.send);
        start = end;
      }
      t.equal(h.established, true, `cut at ${cut}`);
      t.equal(sent.length, 2, `auth and CONNECT sent, cut at ${cut}`);
    }
  });

  t.test('every CONNECT reply shape is read to its exact length, and the rest is the target’s', async (t) => {
    const replies: Array<[string, Buffer]> = [
      ['IPv4', GRANTED],
      ['IPv6', Buffer.concat([bytes(5, 0, 0, 4), Buffer.alloc(16, 0xab), bytes(0, 1)])],
      ['a name', Buffer.concat([bytes(5, 0, 0, 3, 3), Buffer.from('abc'), bytes(0, 1)])],
      ['an empty name', bytes(5, 0, 0, 3, 0, 0, 1)],
      ['the longest', Buffer.concat([bytes(5, 0, 0, 3, 255), Buffer.alloc(255, 0x61), bytes(0, 1)])],
      ['a reserved byte that is not 0 (unchecked, as curl)', bytes(5, 0, 7, 1, 1, 2, 3, 4, 0, 1)],
    ];
    for (const [name, reply] of replies) {
      const h = handshake();
      h.receive(bytes(5, 0));
      const target = Buffer.from('HTTP/1.1 101 Switching Protocols\r\n');
      t.same(h.receive(Buffer.concat([reply, target])), { established: true, rest: target }, name);
    }
    t.equal(MAX_CONNECT_REPLY, 262);
  });

  t.test('the CONNECT reply byte by byte', async (t) => {
    const h = handshake();
    h.receive(bytes(5, 0));
    const reply = Buffer.concat([bytes(5, 0, 0, 3, 3), Buffer.from('abc'), bytes(0, 1)]);
    for (let i = 0; i < reply.length - 1; i++) t.equal(h.receive(reply.subarray(i, i + 1)), undefined, `byte ${i}`);
    t.same(h.receive(reply.subarray(-1)), { established: true, rest: Buffer.alloc(0) });
  });

  t.test('refusals and replies outside RFC 1928/1929 throw a SocksError naming the proxy', async (t) => {
    const credentials = { username: 'user', password: 'hunter2' };
    const cases: Array<[string, Partial<SocksHandshakeOptions>, Buffer[], RegExp]> = [
      [
        'an HTTP server where a SOCKS5 proxy should be',
        {},
        [Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')],
        /^SOCKS5 proxy 127\.0\.0\.1:1080 answered the greeting with version 72, not 5: is it a SOCKS5 proxy\? \(it answered as an HTTP server: use an http:\/\/ proxy URL\)$/,
      ],
      ['a SOCKS4 answer', {}, [bytes(0, 90)], /answered the greeting with version 0, not 5: is it a SOCKS5 proxy\?$/],
      [
        'no acceptable method, without credentials',
        {},
        [bytes(5, 0xff)],
        /^SOCKS5 proxy 127\.0\.0\.1:1080 accepts none of the authentication methods offered \(none\): it may need a user:password in the proxy URL$/,
      ],
      [
        'no acceptable method, with credentials',
        credentials,
        [bytes(5, 0xff)],
        /accepts none of the authentication methods offered \(username\/password, none\)$/,
      ],
      ['a method not offered (GSSAPI)', {}, [bytes(5, 1)], /chose authentication method 1, which was not offered$/],
      ['USERNAME/PASSWORD when no credentials were offered', {}, [bytes(5, 2)], /chose authentication method 2/],
      [
        'a method selection that runs on',
        {},
        [bytes(5, 0, 5, 0)],
        /sent more than the 2-byte method selection before it was asked for more$/,
      ],
      [
        'a wrong password',
        credentials,
        [bytes(5, 2), bytes(1, 1)],
        /^SOCKS5 proxy 127\.0\.0\.1:1080 refused the username and password \(status 1\): check the user:password of the proxy URL$/,
      ],
      [
        'an authentication answer of the wrong version',
        credentials,
        [bytes(5, 2), bytes(5, 0)],
        /answered the username and password with version 5, not 1 \(RFC 1929\)$/,
      ],
      [
        'an authentication answer that runs on',
        credentials,
        [bytes(5, 2), bytes(1, 0, 5)],
        /sent more than the 2-byte username\/password status/,
      ],
      [
        'CONNECT refused',
        {},
        [bytes(5, 0), bytes(5, 5, 0, 1, 0, 0, 0, 0, 0, 0)],
        /^SOCKS5 proxy 127\.0\.0\.1:1080 refused CONNECT to example\.com:443: connection refused \(reply 5\)$/,
      ],
      [
        'CONNECT refused, in two bytes then nothing',
        {},
        [bytes(5, 0), bytes(5, 2)],
        /refused CONNECT to example\.com:443: connection not allowed by ruleset \(reply 2\)$/,
      ],
      ['an unassigned reply', {}, [bytes(5, 0), bytes(5, 0x42)], /unassigned reply code \(reply 66\)$/],
      [
        'a CONNECT reply of the wrong version',
        {},
        [bytes(5, 0), bytes(4, 0, 0, 1)],
        /answered CONNECT example\.com:443 with version 4, not 5/,
      ],
      [
        'an address type RFC 1928 does not define',
        {},
        [bytes(5, 0), bytes(5, 0, 0, 2, 0, 0)],
        /answered CONNECT example\.com:443 with address type 2, which RFC 1928 does not define$/,
      ],
    ];
    for (const [name, options, replies, message] of cases) {
      const h = handshake(options);
      let thrown: unknown;
      try {
        run(h, replies);
      } catch (error) {
        thrown = error;
      }
      t.type(thrown, SocksError, name);
      t.match((thrown as Error).message, message, name);
      t.notMatch((thrown as Error).message, /hunter2|user:hunter2/, `${name}: no credentials in the message`);
    }
    const refused = handshake();
    refused.receive(bytes(5, 0));
    t.throws(() => refused.receive(bytes(5, 4)), { name: 'SocksError', reply: 4 }, 'the REP value is kept');
  });

  t.test('a never-ending reply is refused at the first byte too many: nothing is held past a reply', async (t) => {
    const h = handshake();
    t.throws(() => h.receive(Buffer.alloc(1 << 20, 5)), { message: /more than the 2-byte method selection/ });
  });

  t.test('waitingFor names the reply still to come, with the target as the application named it', async (t) => {
    const h = handshake({ host: '93.184.215.14', target: 'example.com:443', username: 'u', password: 'p' });
    t.equal(h.waitingFor, 'its method selection');
    h.receive(bytes(5, 2));
    t.equal(h.waitingFor, 'its answer to the username and password');
    h.receive(bytes(1, 0));
    t.equal(h.waitingFor, 'its reply to CONNECT example.com:443');
    t.equal(handshake({ host: '::1', port: 80 }).waitingFor, 'its method selection');
    const v6 = handshake({ host: '::1', port: 80 });
    v6.receive(bytes(5, 0));
    t.equal(v6.waitingFor, 'its reply to CONNECT [::1]:80');
  });

  t.test('credentials over 255 bytes or a name over 255 bytes are a RangeError at construction', async (t) => {
    t.throws(() => handshake({ username: 'u'.repeat(256), password: 'p' }), RangeError);
    t.throws(() => handshake({ host: `${'a'.repeat(250)}.example` }), RangeError);
  });

  t.equal(Method.NO_ACCEPTABLE_METHODS, 0xff);
});
