// On a machine without the system peers, `npm test` runs everything that does
// not need them and skips each suite that does, with one line naming the
// Debian package; under ISOSOCKET_REQUIRE_PEERS=1 (CI) a skip is a failure.
// Proved by running real peer-dependent spec files in a child process whose
// PATH holds nothing but `node`. That no spec can forget is
// peer-helpers.test.ts; .ci/run also runs the whole `npm test` with the
// peers hidden (scripts/without-peers.mjs).

import t from 'tap';
import { REQUIRE_PEERS } from '../helpers/require-peer.js';
import { runWithoutPeers } from '../helpers/spawn.js';

// Each case runs a spec file in a child under tap's TypeScript loader: more
// than .taprc's 90 s for the file on a busy 2-core machine.
t.setTimeout(300_000);

t.test('without the system peers on PATH', async (t) => {
  t.test('a suite that needs nginx is skipped with one line naming nginx-light', async (t) => {
    const { code, output, skips } = await runWithoutPeers(t, 'spec/integration/nginx.test.ts');
    t.equal(code, 0, 'the spec passes', { output });
    t.same(skips, ['ok 1 - behind nginx # SKIP needs nginx, not found on PATH: apt-get install nginx-light']);
  });

  t.test(`with ${REQUIRE_PEERS}=1 the same missing peer is a failure, naming the package`, async (t) => {
    const { code, output } = await runWithoutPeers(t, 'spec/integration/nginx.test.ts', { [REQUIRE_PEERS]: '1' });
    t.equal(code, 1, 'the spec fails', { output });
    t.match(
      output,
      `not ok 1 - needs nginx, not found on PATH: apt-get install nginx-light (${REQUIRE_PEERS}=1 makes this a failure)`,
    );
  });

  t.test('the suites that need openssl and tinyproxy are skipped, and the rest of the file still runs', async (t) => {
    const { code, output, skips } = await runWithoutPeers(t, 'spec/integration/client-transport.test.ts');
    t.equal(code, 0, 'the spec passes', { output });
    t.same(
      skips.map((line) => line.trim()),
      [
        'ok 1 - TLS # SKIP needs openssl, not found on PATH: apt-get install openssl',
        'ok 2 - through tinyproxy # SKIP needs tinyproxy, not found on PATH: apt-get install tinyproxy',
        'ok 4 - an https: proxy origin means TLS to the proxy, verified with proxy.tls # SKIP needs openssl, not found on PATH: apt-get install openssl',
        "ok 2 - faye-websocket's client usage: { proxy: { origin, tls }, tls } with origin undefined or set # SKIP needs openssl, not found on PATH: apt-get install openssl",
        'ok 3 - net applies to every transport # SKIP needs openssl, not found on PATH: apt-get install openssl',
      ],
    );
    t.match(output, /\n {4}ok 3 - through a CONNECT proxy with authentication # time=/, 'the CONNECT proxy suite ran');
    t.match(
      output,
      /\n {4}ok 8 - proxy: 'env' reads both cases of the variables; lower case wins; NO_PROXY; opt-in # time=/,
    );
  });

  t.test('a browser suite is skipped naming chromium', async (t) => {
    const { code, output, skips } = await runWithoutPeers(t, 'spec/browser/parity.test.ts');
    t.equal(code, 0, 'the spec passes', { output });
    t.same(skips, [
      'ok 1 - the same scenarios in Chromium, Firefox and Node give identical event traces # SKIP needs chromium, not found on PATH: apt-get install chromium',
    ]);
  });
});
