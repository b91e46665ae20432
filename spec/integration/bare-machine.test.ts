// The suites a fresh machine with only Node once failed, for want of a skip
// (`spawn redis-server ENOENT`, "Failed to launch chromium"), run to the end
// with only node on PATH: what needs the peer is skipped, naming it, and the
// rest runs. They now get their skip from the helpers that start the peers
// (peer-helpers.test.ts).

import t from 'tap';
import { runWithoutPeers } from '../helpers/spawn.js';

// Each case runs a spec file in a child under tap's TypeScript loader: more
// than .taprc's 90 s for the file on a busy 2-core machine.
t.setTimeout(300_000);

t.test('event-source-redis without redis-server: the Redis suites skip, the rest runs', async (t) => {
  const redis = await runWithoutPeers(t, 'spec/integration/event-source-redis.test.ts');
  t.equal(redis.code, 0, 'event-source-redis passes', { output: redis.output });
  t.ok(redis.skips.length >= 5, `${redis.skips.length} suites skipped`);
  t.ok(
    redis.skips.every((line) => line.endsWith('needs redis-server, not found on PATH: apt-get install redis-server')),
    'every skip names redis-server',
    { skips: redis.skips },
  );
  t.match(redis.output, /\n {4}ok 1 - connect\(\) checks its options # time=/, 'what needs no server still ran');
});

t.test('the Chromium channel spec without Chromium: skipped with one line', async (t) => {
  const browser = await runWithoutPeers(t, 'spec/browser/sse-channel.test.ts');
  t.equal(browser.code, 0, 'sse-channel passes', { output: browser.output });
  t.same(browser.skips, [
    "ok 1 - Chromium's EventSource resumes on a channel after drops: every id once, in order # SKIP needs chromium, not found on PATH: apt-get install chromium",
  ]);
});
