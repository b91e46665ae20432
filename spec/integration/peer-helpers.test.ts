// No spec can forget to skip a suite whose system peer is missing: only the
// helpers in PEER_HELPERS start a peer (checked here on the sources), and
// each of them skips the suite by itself, or fails it under
// ISOSOCKET_REQUIRE_PEERS=1 (checked by running spec/fixtures/peer-helpers.ts
// with only node on PATH). bare-machine.test.ts runs the suites that once
// forgot.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { REQUIRE_PEERS } from '../helpers/require-peer.js';
import { ROOT, runWithoutPeers } from '../helpers/spawn.js';

// Each case runs a spec file in a child under tap's TypeScript loader: more
// than .taprc's 90 s for the file on a busy 2-core machine.
t.setTimeout(300_000);

/** The helpers that start a peer, by fixture suite, and the line each skips with. */
const HELPER_SKIPS = [
  ['openPage', 'chromium', 'chromium'],
  ['openFirefoxPage', 'firefox-esr', 'firefox-esr'],
  ['startNginx', 'nginx', 'nginx-light'],
  ['startRedis', 'redis-server', 'redis-server'],
  ['restartableRedis', 'redis-server', 'redis-server'],
  ['startRedisCluster', 'redis-server', 'redis-server'],
  ['startTinyproxy', 'tinyproxy', 'tinyproxy'],
  ['startMicrosocks', 'microsocks', 'microsocks'],
  ['certificates', 'openssl', 'openssl'],
  // Not Debian packages: devDependencies (spec/helpers/runtimes.ts).
  ['startBun', 'bun', '', 'npm ci installs it (the bun devDependency)'],
  ['startDeno', 'deno', '', 'npm ci installs it (the deno devDependency)'],
].map(
  ([helper, command, debianPackage, install = `apt-get install ${debianPackage}`], index) =>
    `ok ${index + 1} - ${helper} # SKIP needs ${command}, not found on PATH: ${install}`,
);

t.test('every helper that starts a peer skips the suite by itself', async (t) => {
  t.test('without the peer, each suite is skipped with one line naming its package', async (t) => {
    const { code, output, skips } = await runWithoutPeers(t, 'spec/fixtures/peer-helpers.ts');
    t.equal(code, 0, 'the fixture passes', { output });
    t.same(skips, HELPER_SKIPS);
  });

  t.test(`with ${REQUIRE_PEERS}=1, each is a failure`, async (t) => {
    const { code, output } = await runWithoutPeers(t, 'spec/fixtures/peer-helpers.ts', { [REQUIRE_PEERS]: '1' });
    t.equal(code, 1, 'the fixture fails', { output });
    const failures = output.split('\n').filter((line) => /^ {4}not ok 1 - needs /.test(line));
    t.equal(failures.length, HELPER_SKIPS.length, 'one failure per helper', { output });
  });
});

/** The helpers allowed to start a peer: each calls requirePeer first. */
const PEER_HELPERS = [
  'spec/helpers/browser.ts',
  'spec/helpers/proxies.ts',
  'spec/helpers/redis-cluster.ts',
  'spec/helpers/services.ts',
  'spec/helpers/tls.ts',
  'spec/helpers/runtimes.ts',
  // The WPT servers' certificates: reached only through spec/integration/wpt.test.ts, after its requirePeer.
  'spec/wpt/server/servers.mjs',
];
/** Known offenders waiting for their owner (a file and the helper in it no spec may import): none now. */
const PENDING: Record<string, string> = {};
const PEER_COMMANDS = 'redis-server|nginx|tinyproxy|microsocks|openssl|chromium|firefox(?:-esr)?|bun|deno';
/** A peer spawned by name, or a browser launched (playwright's chromium.launch, puppeteer.launch). */
const STARTS_A_PEER = new RegExp(
  `\\b(?:spawn|spawnSync|exec|execSync|execFile|execFileSync)\\(\\s*['"\`](?:${PEER_COMMANDS})['"\`]|\\.launch(?:Persistent\\w*)?\\(`,
  'g',
);

/** Every .ts, .mts and .mjs file under spec/, relative to the repository. */
function specSources(dir = join(ROOT, 'spec')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return specSources(path);
    return /\.(?:[cm]?ts|mjs)$/.test(entry.name) ? [relative(ROOT, path)] : [];
  });
}

t.test('no spec starts a peer by itself: only the helpers that skip do', async (t) => {
  t.test('the check finds a spawned peer and a launched browser', async (t) => {
    const offending = [
      "spawn('redis-server', ['--port', '0'])",
      'execFileSync("openssl", args)',
      'await chromium.launch({ executablePath })',
      'puppeteer.launch({ browser: "firefox" })',
    ];
    t.same(
      offending.filter((line) => !line.match(STARTS_A_PEER)),
      [],
    );
    t.notMatch("spawn(process.execPath, ['examples/demo/server.mjs'])", STARTS_A_PEER);
  });

  const offenders = specSources()
    .filter((file) => !PEER_HELPERS.includes(file) && file !== 'spec/integration/peer-helpers.test.ts')
    .flatMap((file) =>
      [...readFileSync(join(ROOT, file), 'utf8').matchAll(STARTS_A_PEER)].map((match) => `${file}: ${match[0]}`),
    );
  t.same(
    offenders.filter((line) => !Object.keys(PENDING).some((file) => line.startsWith(`${file}:`))),
    [],
    `start peers with ${PEER_HELPERS.join(', ')} (each skips when its peer is missing)`,
  );
  for (const [file, name] of Object.entries(PENDING)) {
    const importers = specSources().filter((spec) =>
      new RegExp(`\\b${name}\\b[^;]*from '[./]*helpers/${file.replace(/^spec\/helpers\/|\.ts$/g, '')}\\.js'`).test(
        readFileSync(join(ROOT, spec), 'utf8'),
      ),
    );
    t.same(importers, [], `${file}'s ${name} is used by no spec`);
  }
});
