import t from 'tap';
import { MAX_TIMER_DELAY } from '../../../src/net/options.js';
import {
  DEFAULT_BACKOFF_LIMIT,
  DEFAULT_RETRY_LIMIT,
  parseRetryAfter,
  type RetryPolicy,
  resolveRetryPolicy,
  retryDecision,
} from '../../../src/sse/retry-policy.js';

const NOW = Date.parse('2026-12-04T01:00:00Z');
function policy(options: object = {}): RetryPolicy {
  const resolved = resolveRetryPolicy(options);
  if (resolved === undefined) throw new Error('a policy');
  return resolved;
}

t.test('resolveRetryPolicy', async (t) => {
  t.test('off unless asked: undefined and false are the standard', async (t) => {
    t.equal(resolveRetryPolicy(undefined), undefined);
    t.equal(resolveRetryPolicy(false), undefined);
  });

  t.test('true is the defaults: 429, 502, 503, 504, ten in a row, 30 s cap, honour any Retry-After', async (t) => {
    const resolved = resolveRetryPolicy(true);
    t.same([...(resolved?.statusCodes ?? [])], [429, 502, 503, 504]);
    t.equal(resolved?.limit, DEFAULT_RETRY_LIMIT);
    t.equal(resolved?.backoffLimit, DEFAULT_BACKOFF_LIMIT);
    t.equal(resolved?.delay, undefined, 'the reconnection time');
    t.equal(resolved?.maxRetryAfter, Number.POSITIVE_INFINITY);
  });

  t.test('takes Infinity for limit and maxRetryAfter, and 0 everywhere', async (t) => {
    const resolved = resolveRetryPolicy({
      limit: Number.POSITIVE_INFINITY,
      maxRetryAfter: 0,
      delay: 0,
      backoffLimit: 0,
    });
    t.equal(resolved?.limit, Number.POSITIVE_INFINITY);
    t.equal(resolved?.maxRetryAfter, 0);
    t.equal(resolved?.delay, 0);
  });
});

t.test('parseRetryAfter', async (t) => {
  t.test('delay-seconds', async (t) => {
    t.equal(parseRetryAfter('120', NOW), 120_000);
    t.equal(parseRetryAfter('0', NOW), 0);
    t.equal(parseRetryAfter(' 3 ', NOW), 3000, 'optional whitespace around the field value');
    t.equal(parseRetryAfter(['7', '9'], NOW), 7000, 'the first of several');
  });

  t.test('HTTP-date in its three forms; a date past is 0', async (t) => {
    t.equal(parseRetryAfter('Fri, 04 Dec 2026 01:00:05 GMT', NOW), 5000, 'IMF-fixdate');
    t.equal(parseRetryAfter('Friday, 04-Dec-26 01:00:05 GMT', NOW), 5000, 'RFC 850');
    t.equal(parseRetryAfter('Fri Dec  4 01:00:05 2026', NOW), 5000, 'asctime, in GMT whatever the local zone');
    t.equal(parseRetryAfter('Thu, 03 Dec 2026 01:00:00 GMT', NOW), 0);
  });

  t.test('neither form: undefined (the backoff applies)', async (t) => {
    for (const value of [undefined, '', '-1', '1.5', '5s', '0x10', 'soon', '12 34', 'Foo, 99 Bar 2026']) {
      t.equal(parseRetryAfter(value, NOW), undefined, JSON.stringify(value));
    }
  });
});

t.test('retryDecision', async (t) => {
  t.test('a status not listed is not retried, with no reason to add', async (t) => {
    t.same(retryDecision(policy(), 500, undefined, 1, 3000, NOW), { retry: false, reason: '' });
  });

  t.test('past the limit: not retried, and says so', async (t) => {
    const decision = retryDecision(policy({ limit: 2 }), 503, undefined, 3, 3000, NOW);
    t.same(decision, { retry: false, reason: 'gave up after 2 retries (retry.limit)' });
    t.equal(retryDecision(policy({ limit: 2 }), 503, undefined, 2, 3000, NOW).retry, true);
    t.equal(retryDecision(policy({ limit: 0 }), 503, undefined, 1, 3000, NOW).retry, false);
  });

  t.test('backoff doubles from delay, or from the reconnection time, with equal jitter', async (t) => {
    const low = () => 0;
    const high = () => 0.999999;
    const waits = [1, 2, 3, 4].map((n) => retryDecision(policy({ delay: 100 }), 503, undefined, n, 3000, NOW, high));
    t.same(
      waits.map((d) => (d.retry ? d.wait : -1)),
      [99, 199, 399, 799],
    );
    const floor = retryDecision(policy({ delay: 100 }), 503, undefined, 4, 3000, NOW, low);
    t.equal(floor.retry && floor.wait, 400, 'never under half');
    const fromReconnection = retryDecision(policy(), 503, undefined, 1, 3000, NOW, low);
    t.equal(fromReconnection.retry && fromReconnection.wait, 1500);
  });

  t.test('backoffLimit caps it, at any attempt, without overflow', async (t) => {
    for (const attempt of [6, 60, 5000]) {
      const decision = retryDecision(
        policy({ limit: Number.POSITIVE_INFINITY }),
        503,
        undefined,
        attempt,
        3000,
        NOW,
        () => 0.999999,
      );
      t.ok(
        decision.retry && decision.wait <= DEFAULT_BACKOFF_LIMIT && decision.wait >= DEFAULT_BACKOFF_LIMIT / 2,
        `${attempt}`,
      );
    }
  });

  t.test('Retry-After is honoured over the backoff and its cap, with jitter after it only', async (t) => {
    const early = retryDecision(policy({ backoffLimit: 10 }), 429, '60', 1, 3000, NOW, () => 0);
    t.same(early, { retry: true, wait: 60_000, retryAfter: 60_000 });
    const late = retryDecision(policy(), 429, '60', 1, 3000, NOW, () => 0.999999);
    t.ok(late.retry && late.wait > 60_000 && late.wait < 61_000, 'up to 1 s of jitter');
    const small = retryDecision(policy(), 503, '1', 1, 3000, NOW, () => 0.999999);
    t.ok(small.retry && small.wait >= 1000 && small.wait < 1100, 'at most 10% of a short wait');
    const zero = retryDecision(policy(), 503, '0', 1, 3000, NOW, () => 0.999999);
    t.equal(zero.retry && zero.wait, 0);
  });

  t.test('a Retry-After past maxRetryAfter fails; one past a timer is clamped to it', async (t) => {
    const decision = retryDecision(policy({ maxRetryAfter: 1000 }), 503, '2', 1, 3000, NOW);
    t.same(decision, {
      retry: false,
      reason: 'its Retry-After asks for 2000 ms, more than retry.maxRetryAfter (1000 ms)',
    });
    const huge = retryDecision(policy(), 503, '99999999999999999999', 1, 3000, NOW);
    t.equal(huge.retry && huge.wait, MAX_TIMER_DELAY);
  });
});
