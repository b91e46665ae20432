// scripts/tap.mjs, which `npm test` runs: the coverage floors are enforced
// where every system peer is installed or ISOSOCKET_REQUIRE_PEERS=1, and
// reported, with the packages to install, elsewhere.

import t from 'tap';
import { coverageGate, PEERS } from '../../../scripts/tap.mjs';

const all = (command: string): string => `/usr/bin/${command}`;
const without =
  (...absent: string[]) =>
  (command: string): string | undefined =>
    absent.includes(command) ? undefined : all(command);

t.test('every peer found: the floors are enforced, nothing printed', async (t) => {
  t.same(coverageGate({}, all), { args: [], line: undefined });
});

t.test('a peer missing: the floors are reported, naming the Debian packages', async (t) => {
  t.same(coverageGate({}, without('nginx', 'tinyproxy')), {
    args: ['--allow-incomplete-coverage'],
    line: '# coverage floors not enforced: apt-get install nginx-light tinyproxy to run every suite',
  });
});

t.test('ISOSOCKET_REQUIRE_PEERS=1 (CI) enforces them anyway', async (t) => {
  t.same(coverageGate({ ISOSOCKET_REQUIRE_PEERS: '1' }, without('nginx')), { args: [], line: undefined });
});

t.test('the peers are the seven Debian packages .ci/run installs', async (t) => {
  t.same(
    PEERS.map(([, debianPackage]) => debianPackage),
    ['chromium', 'nginx-light', 'redis-server', 'tinyproxy', 'openssl', 'firefox-esr', 'microsocks'],
  );
});
