// The opening handshake as functions of headers: the server's checks and
// negotiation, the 101 websocket-driver writes, the client's request and
// its checks on the answer.

import type { IncomingMessage } from 'node:http';
import t from 'tap';
import { resolveExtensions } from '../../../src/protocol/extensions.js';
import {
  acceptFor,
  checkAnswer,
  checkExtendedConnect,
  checkRequest,
  clientHandshake,
  isExtendedConnect,
  isRefusal,
  negotiate,
  refusalResponse,
  switchingProtocols,
} from '../../../src/protocol/handshake.js';
import { MAX_EXTENSION_OFFERS, MAX_SUBPROTOCOLS } from '../../../src/protocol/offers.js';

const good = {
  host: 'example.com',
  upgrade: 'websocket',
  connection: 'keep-alive, Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};
const request = (headers: Record<string, string | undefined>): IncomingMessage =>
  ({ method: 'GET', url: '/chat', headers: { ...good, ...headers } }) as unknown as IncomingMessage;
const none = resolveExtensions(undefined, undefined, 'server', 1000);

t.test('checkRequest (RFC 6455 §4.2.1)', async (t) => {
  t.equal(checkRequest('GET', good), undefined, 'the RFC 6455 §1.3 sample request passes');
  t.match(checkRequest('POST', good), {
    status: 400,
    message: 'A WebSocket handshake must be a GET request, not POST',
  });
  t.match(checkRequest(undefined, good), { message: 'A WebSocket handshake must be a GET request, not none' });
  t.match(checkRequest('GET', { ...good, 'sec-websocket-key': 'x' }), {
    status: 400,
    reason: 'Bad Request',
    message: 'Missing or malformed Sec-WebSocket-Key (16 bytes, base64)',
  });
  t.match(checkRequest('GET', { ...good, 'sec-websocket-version': '8' }), {
    message: 'Unsupported Sec-WebSocket-Version: 8 (13 is supported)',
  });
  t.match(checkRequest('GET', { ...good, 'sec-websocket-version': undefined }), {
    message: 'Unsupported Sec-WebSocket-Version: none (13 is supported)',
  });
  t.match(checkRequest('GET', { ...good, upgrade: 'h2c' }), { status: 400, message: /Upgrade/ });
  t.match(checkRequest('GET', { ...good, connection: 'close' }), { status: 400, message: /Connection/ });
  for (const key of [
    undefined,
    '',
    'short',
    'dGhlIHNhbXBsZSBub25jZQ',
    'dGhlIHNhbXBsZSBub25jZSE=',
    'xdGhlIHNhbXBsZSBub25jZQ==',
    'dGhlIHNhbXBsZSBub25jZQ==x',
  ]) {
    t.match(checkRequest('GET', { ...good, 'sec-websocket-key': key }), { status: 400 }, String(key));
  }
  t.match(checkRequest('GET', { ...good, 'sec-websocket-version': '8' }), {
    status: 426,
    headers: { 'Sec-WebSocket-Version': '13' },
  });
  const response = refusalResponse(checkRequest('GET', { ...good, 'sec-websocket-version': undefined }) as never);
  t.match(response, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  t.match(response, /\r\nContent-Length: \d+\r\n/);
  t.match(response, /\r\nConnection: close\r\n/);
  t.match(response, /\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
  t.match(response, /\r\nSec-WebSocket-Version: 13\r\n/);
  t.match(response, /\r\n\r\nUnsupported Sec-WebSocket-Version: none \(13 is supported\)\n$/);
});

t.test('checkExtendedConnect and isExtendedConnect (RFC 8441 §4-5)', async (t) => {
  const connect = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'https',
    ':path': '/chat',
    ':authority': 'example.com',
    'sec-websocket-version': '13',
  };
  t.equal(checkExtendedConnect(connect), undefined, "Chromium's request passes: no key to check");
  t.ok(isExtendedConnect(connect));
  t.ok(isExtendedConnect({ ...connect, ':protocol': 'WebSocket' }), 'the protocol token in any case');
  t.notOk(isExtendedConnect({ ...connect, ':method': 'GET' }));
  t.notOk(isExtendedConnect({ ...connect, ':protocol': undefined }));
  t.notOk(isExtendedConnect({ ...connect, ':protocol': 'webtransport' }));
  t.match(checkExtendedConnect({ ...connect, ':method': 'GET' }), {
    status: 400,
    message: /extended CONNECT, not GET/,
  });
  for (const protocol of [undefined, '']) {
    t.same(
      checkExtendedConnect({ ...connect, ':protocol': protocol }),
      {
        status: 400,
        reason: 'Bad Request',
        message: 'A CONNECT without :protocol asks for a tunnel, not a WebSocket (RFC 8441 §4)',
        headers: {},
      },
      `:protocol ${JSON.stringify(protocol)}`,
    );
  }
  t.match(checkExtendedConnect({ ...connect, ':method': undefined }), {
    message: 'A WebSocket over HTTP/2 is opened with an extended CONNECT, not no method',
  });
  t.match(checkExtendedConnect({ ...connect, ':protocol': 'x'.repeat(500) }), {
    status: 501,
    reason: 'Not Implemented',
    message: /^Unsupported :protocol "x{100}"; /,
  });
  for (const name of [':scheme', ':path', ':authority']) {
    t.match(checkExtendedConnect({ ...connect, [name]: undefined }), { status: 400, message: `no ${name}` }, name);
    t.match(checkExtendedConnect({ ...connect, [name]: '' }), { status: 400 }, `empty ${name}`);
  }
  t.match(checkExtendedConnect({ ...connect, 'sec-websocket-version': '8' }), {
    status: 426,
    headers: { 'Sec-WebSocket-Version': '13' },
  });
  t.match(checkExtendedConnect({ ...connect, 'sec-websocket-version': undefined }), { status: 426 });
});

t.test('negotiate', async (t) => {
  t.test("chooses the first protocol in the client's order that the server supports (§4.2.2)", async (t) => {
    const agreed = negotiate(request({ 'sec-websocket-protocol': 'b, a' }), ['a', 'b'], none);
    t.match(agreed, { protocol: 'b', extensions: '' });
    t.match(negotiate(request({ 'sec-websocket-protocol': 'x' }), ['a'], none), { protocol: '' });
  });

  t.test('a chooser picks from what was offered, or none', async (t) => {
    const offered: string[][] = [];
    const agreed = negotiate(
      request({ 'sec-websocket-protocol': 'v1, v2' }),
      (list) => {
        offered.push(list);
        return 'v2';
      },
      none,
    );
    t.same(offered, [['v1', 'v2']]);
    t.match(agreed, { protocol: 'v2' });
    t.match(
      negotiate(request({ 'sec-websocket-protocol': 'v1' }), () => false, none),
      { protocol: '' },
    );
    t.match(
      negotiate(request({}), () => t.fail('not asked without an offer') as never, none),
      { protocol: '' },
    );
    t.match(
      negotiate(request({ 'sec-websocket-protocol': 'v1' }), () => 'v9', none),
      { status: 500, message: /v9/ },
    );
  });

  t.test('spaces and empty entries in the offer are not protocols', async (t) => {
    t.match(negotiate(request({ 'sec-websocket-protocol': ' , b ,, a ,' }), ['a'], none), { protocol: 'a' });
    const offered: string[][] = [];
    negotiate(
      request({ 'sec-websocket-protocol': 'v1, ,v2 ' }),
      (list) => {
        offered.push(list);
        return '';
      },
      none,
    );
    t.same(offered, [['v1', 'v2']]);
    t.match(
      negotiate(request({ 'sec-websocket-protocol': 'v1' }), () => '', none),
      { protocol: '' },
      "'' is none",
    );
    t.match(
      negotiate(request({ 'sec-websocket-protocol': ' , ' }), () => t.fail('nothing offered') as never, none),
      {
        protocol: '',
      },
    );
  });

  t.test("a chooser that picks what was not offered is the server's fault: 500", async (t) => {
    t.same(
      negotiate(request({ 'sec-websocket-protocol': 'v1' }), () => 'v9', none),
      {
        status: 500,
        reason: 'Internal Server Error',
        message: "The server chose the subprotocol 'v9', which the client did not offer",
        headers: {},
      },
    );
  });

  t.test('malformed headers are refused with 400', async (t) => {
    t.same(negotiate(request({ 'sec-websocket-protocol': 'a b' }), ['a'], none), {
      status: 400,
      reason: 'Bad Request',
      message: 'Malformed Sec-WebSocket-Protocol header: Unexpected "b" at index 2, expected \',\' or the end',
      headers: {},
    });
    const deflate = resolveExtensions(undefined, true, 'server', 1000);
    const refused = negotiate(request({ 'sec-websocket-extensions': 'permessage-deflate; ;' }), [], deflate);
    t.ok(isRefusal(refused));
    t.match(refused, { status: 400, message: /Sec-WebSocket-Extensions/ });
  });

  t.test(
    `reads at most ${MAX_SUBPROTOCOLS} subprotocols; the rest are as protocols the server does not support`,
    async (t) => {
      t.equal(MAX_SUBPROTOCOLS, 64);
      const first = Array.from({ length: MAX_SUBPROTOCOLS }, (_, i) => `p${i}`);
      // Protocol 65 is one the server supports, and is not read; nor is the malformed text after it.
      const header = `${first.join(', ')}, chat, not a token`;
      t.same(negotiate(request({ 'sec-websocket-protocol': header }), ['chat'], none), {
        protocol: '',
        extensions: '',
        negotiated: undefined,
      });
      t.match(
        negotiate(request({ 'sec-websocket-protocol': `${first.slice(1).join(',')},chat` }), ['chat'], none),
        {
          protocol: 'chat',
        },
        'protocol 64 is read',
      );
      const offered: string[][] = [];
      negotiate(
        request({ 'sec-websocket-protocol': `${first.join(', ')}, ${'x, '.repeat(10_000)}x` }),
        (list) => {
          offered.push(list);
          return 'p63';
        },
        none,
      );
      t.same(offered, [first], 'a chooser is given the first 64, in order');
      // Empty elements count: 10,000 commas are not 10,000 elements read.
      t.match(negotiate(request({ 'sec-websocket-protocol': `${','.repeat(10_000)}chat` }), ['chat'], none), {
        protocol: '',
      });
    },
  );

  t.test(`reads at most ${MAX_EXTENSION_OFFERS} extension offers; the rest are declined unread`, async (t) => {
    const deflate = resolveExtensions(undefined, true, 'server', 1000);
    const unknown = Array.from({ length: MAX_EXTENSION_OFFERS }, (_, i) => `x-${i}`);
    t.match(
      negotiate(
        request({ 'sec-websocket-extensions': `${unknown.slice(1).join(', ')}, permessage-deflate` }),
        [],
        deflate,
      ),
      { extensions: 'permessage-deflate' },
      'offer 16 is read',
    );
    t.same(
      negotiate(request({ 'sec-websocket-extensions': `${unknown.join(', ')}, permessage-deflate, ;;` }), [], deflate),
      { protocol: '', extensions: '', negotiated: undefined },
      'offer 17 is not, nor the malformed text after it: a 101 without extensions',
    );
  });

  t.test('a refusal quotes a short excerpt of what the client sent, never the whole header', async (t) => {
    const deflate = resolveExtensions(undefined, true, 'server', 1000);
    const refused = negotiate(
      request({ 'sec-websocket-extensions': `permessage-deflate; ${'x'.repeat(100_000)}="${'y'.repeat(100_000)}` }),
      [],
      deflate,
    );
    t.same(refused, {
      status: 400,
      reason: 'Bad Request',
      message:
        'Malformed Sec-WebSocket-Extensions header: Unexpected end of the header, expected a token in the quoted string',
      headers: {},
    });
    const long = negotiate(request({ 'sec-websocket-protocol': `chat, ${'\u00e9'.repeat(100_000)}` }), ['chat'], none);
    t.same(long, {
      status: 400,
      reason: 'Bad Request',
      message: 'Malformed Sec-WebSocket-Protocol header: Unexpected "\u00e9" at index 6, expected a token',
      headers: {},
    });
  });
});

t.test('switchingProtocols: websocket-driver writes the 101 with what was agreed', async (t) => {
  const head = switchingProtocols(
    request({ 'sec-websocket-protocol': 'chat' }),
    { protocol: 'chat', extensions: 'permessage-deflate', negotiated: undefined },
    [['X-Served-By', 'isosocket']],
  ).toString();
  t.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  // RFC 6455 §1.3: the accept value for the sample key.
  t.match(head, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
  t.match(head, /\r\nSec-WebSocket-Protocol: chat\r\n/);
  t.match(head, /\r\nSec-WebSocket-Extensions: permessage-deflate\r\n/);
  t.match(head, /\r\nX-Served-By: isosocket\r\n/);
  t.ok(head.endsWith('\r\n\r\n'));
  t.equal(acceptFor('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

t.test('switchingProtocols: the driver sees only what its 101 needs, and parses neither list again', async (t) => {
  // A server without extensions does not read the offer (nor does ws without
  // perMessageDeflate): a malformed one is not its concern. websocket-driver,
  // shown the whole request, answered it with a 400 while the server socket
  // opened.
  const head = switchingProtocols(
    request({ 'sec-websocket-extensions': ';;', 'sec-websocket-protocol': 'a, chat, b' }),
    { protocol: 'chat', extensions: '', negotiated: undefined },
    [],
  ).toString();
  t.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  t.match(head, /\r\nSec-WebSocket-Protocol: chat\r\n/);
  t.notMatch(head, /Sec-WebSocket-Extensions/i);
  t.same(
    negotiate(request({ 'sec-websocket-extensions': ';;' }), [], none),
    { protocol: '', extensions: '', negotiated: undefined },
    'negotiate, for the same server, agrees to nothing and refuses nothing',
  );
});

t.test('switchingProtocols: nothing agreed, no Sec-WebSocket-Protocol or -Extensions header at all', async (t) => {
  const head = switchingProtocols(request({}), { protocol: '', extensions: '', negotiated: undefined }, []).toString();
  t.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  t.notMatch(head, /Sec-WebSocket-Protocol/i);
  t.notMatch(head, /Sec-WebSocket-Extensions/i);
});

t.test('the client', async (t) => {
  const deflate = resolveExtensions(undefined, true, 'client', 1000);
  const handshake = clientHandshake(['chat', 'v2'], deflate, [['Origin', 'https://example.com']]);
  const answer = {
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-accept': acceptFor(handshake.key),
  };

  t.test('sends a fresh 16-byte key, the version, the protocols, the offer and its own headers (§4.1)', async (t) => {
    t.equal(Buffer.from(handshake.key, 'base64').length, 16);
    t.equal(handshake.headers['Sec-WebSocket-Key'], handshake.key);
    const bare = clientHandshake([], none, []);
    t.same(
      Object.keys(bare.headers).sort(),
      ['Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Upgrade'],
      'no protocols and no offer: no Sec-WebSocket-Protocol or -Extensions header, not even empty',
    );
    t.not(clientHandshake([], none, []).key, handshake.key);
    t.match(handshake.headers, {
      Origin: 'https://example.com',
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Protocol': 'chat, v2',
      'Sec-WebSocket-Extensions': /^permessage-deflate/,
    });
  });

  t.test('accepts a right answer, with protocol and extensions', async (t) => {
    const agreed = checkAnswer(
      handshake,
      { ...answer, 'sec-websocket-protocol': 'v2', 'sec-websocket-extensions': 'permessage-deflate' },
      true,
    );
    t.equal(agreed.protocol, 'v2');
    t.equal(agreed.extensions, 'permessage-deflate');
    t.equal(agreed.negotiated?.rsv, 0x40);
  });

  t.test('no subprotocol chosen is fine; a Connection list and padding are read as tokens', async (t) => {
    t.equal(checkAnswer(handshake, answer, true).protocol, '', 'the server may choose none (§4.1 step 6)');
    t.equal(checkAnswer(handshake, { ...answer, connection: 'keep-alive, Upgrade' }, true).protocol, '');
    t.equal(checkAnswer(handshake, { ...answer, connection: 'keep-alive ,  upgrade ' }, true).protocol, '');
    t.equal(checkAnswer(handshake, { ...answer, 'sec-websocket-protocol': ' v2 ' }, true).protocol, 'v2');
  });

  t.test('refuses a wrong answer, saying what is wrong', async (t) => {
    t.throws(() => checkAnswer(handshake, { ...answer, upgrade: 'h2c' }, true), /Upgrade/);
    t.throws(() => checkAnswer(handshake, { ...answer, connection: 'close' }, true), /Connection/);
    t.throws(() => checkAnswer(handshake, { ...answer, 'sec-websocket-accept': 'x' }, true), /Sec-WebSocket-Accept/);
    t.throws(() => checkAnswer(handshake, { ...answer, 'sec-websocket-protocol': 'other' }, true), /other/);
    const plain = clientHandshake([], none, []);
    t.throws(
      () =>
        checkAnswer(
          plain,
          { ...answer, 'sec-websocket-accept': acceptFor(plain.key), 'sec-websocket-extensions': 'permessage-deflate' },
          true,
        ),
      /not offered/,
    );
  });

  t.test("a hostile server's huge answer fails the client with a short message", async (t) => {
    const huge = 'x'.repeat(60_000);
    const fails = (headers: Record<string, string>, message: string, what: string): void => {
      // A fresh offer each time: an offer is activated once.
      const fresh = clientHandshake(['chat', 'v2'], deflate, []);
      try {
        checkAnswer(fresh, { ...answer, 'sec-websocket-accept': acceptFor(fresh.key), ...headers }, true);
        t.fail(`${what}: accepted`);
      } catch (error) {
        t.equal((error as Error).message, message, what);
      }
    };
    fails(
      { 'sec-websocket-protocol': huge },
      `The server chose the subprotocol '${'x'.repeat(64)}…', which was not offered`,
      'a subprotocol not offered',
    );
    fails(
      { 'sec-websocket-extensions': huge },
      `Server sent an extension response for unknown extension "${'x'.repeat(64)}…"`,
      'an extension not offered',
    );
    fails(
      { 'sec-websocket-extensions': Array.from({ length: 3000 }, () => 'permessage-deflate').join(', ') },
      'The server answered with more extensions than were offered (1), or one with over 16 parameters',
      '3,000 permessage-deflate answers, where one was offered',
    );
    fails(
      { 'sec-websocket-extensions': `permessage-deflate; x=${huge}` },
      `${`Server sent unacceptable extension parameters: permessage-deflate; x=${huge}`.slice(0, 200)}…`,
      'a parameter not defined, quoted in 200 characters',
    );
    const plain = clientHandshake([], none, []);
    t.throws(
      () =>
        checkAnswer(
          plain,
          { ...answer, 'sec-websocket-accept': acceptFor(plain.key), 'sec-websocket-extensions': huge },
          true,
        ),
      { message: `The server answered with extensions that were not offered: "${'x'.repeat(64)}…"` },
    );
  });

  t.test('over HTTP/2 there is no Upgrade, Connection or accept to check (RFC 8441 §5)', async (t) => {
    const fresh = clientHandshake(['chat'], none, []);
    t.equal(checkAnswer(fresh, { 'sec-websocket-protocol': 'chat' }, false).protocol, 'chat');
  });
});
