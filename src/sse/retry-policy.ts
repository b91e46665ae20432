// EventSource.Client's opt-in retry policy for answers the standard makes
// fatal (429, 502, 503, 504...). A pure module: the option's check, the
// Retry-After parser and the delay of each retry; the client keeps the count
// and the timer.
//
// Calling contract: resolveRetryPolicy(init.retry) once, at construction
// (TypeError on a bad value). After each refused answer, retryDecision(policy,
// status, retryAfter, attempt, reconnectionTime, now) says whether to retry
// and after how long; `attempt` counts the refused answers in a row (1 for
// the first), reset by the client when a stream opens.
//
// Option names are ky's and got's (`limit`, `statusCodes`, `backoffLimit`,
// `maxRetryAfter`): the HTTP clients that already retry on status codes.
//
// The reasons behind these choices: docs/decisions/eventsource-client-requests.md
//
// References:
// - HTML, server-sent events, "fail the connection" (what this overrides):
//   https://html.spec.whatwg.org/multipage/server-sent-events.html#fail-the-connection
// - RFC 9110 §10.2.3, Retry-After: HTTP-date / delay-seconds
// - RFC 9110 §5.6.7, HTTP-date (IMF-fixdate, and the obsolete RFC 850 and asctime forms)
// - RFC 6585 §4 (429 Too Many Requests may carry Retry-After); RFC 9110 §15.6.4 (503)
// - AWS Architecture Blog, "Exponential Backoff And Jitter" (equal jitter)

import { MAX_TIMER_DELAY } from '../net/options.js';

/** The statuses retried when `retry` does not say: rate limited, and the gateway and availability errors. */
export const DEFAULT_RETRY_STATUS_CODES: readonly number[] = [429, 502, 503, 504];
/** Refused answers in a row retried before the connection fails. */
export const DEFAULT_RETRY_LIMIT = 10;
/** The longest backoff between two attempts, in milliseconds (a Retry-After may ask for longer). */
export const DEFAULT_BACKOFF_LIMIT = 30_000;

/**
 * The `retry` option of `EventSource.Client`: which answers that would fail
 * the connection are retried instead, how often and how long apart.
 */
export interface EventSourceRetryOptions {
  /** HTTP statuses to retry, each 400-599. Default `[429, 502, 503, 504]`. */
  statusCodes?: readonly number[];
  /** Refused answers in a row to retry before failing the connection; `Infinity` for no end. Default 10. */
  limit?: number;
  /**
   * Milliseconds of the first backoff, doubled for each refused answer in a
   * row. Default: the reconnection time (3000 ms, or the stream's `retry:`).
   */
  delay?: number;
  /** The longest backoff, in milliseconds. Default 30000. */
  backoffLimit?: number;
  /**
   * A `Retry-After` asking for longer than this many milliseconds fails the
   * connection rather than wait (ky's and got's name). Default `Infinity`:
   * the server is honoured.
   */
  maxRetryAfter?: number;
}

/** The `retry` option checked, every default filled in but `delay` (the reconnection time is read per retry). */
export interface RetryPolicy {
  statusCodes: ReadonlySet<number>;
  limit: number;
  delay: number | undefined;
  backoffLimit: number;
  maxRetryAfter: number;
}

const RETRY_KEYS = ['statusCodes', 'limit', 'delay', 'backoffLimit', 'maxRetryAfter'];

/**
 * Checks the `retry` option: `undefined`/`false` for none (the standard's
 * behaviour), `true` for the defaults, or {@link EventSourceRetryOptions}.
 * Throws a TypeError naming what is wrong.
 */
export function resolveRetryPolicy(value: unknown): RetryPolicy | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value === 'number') {
    throw new TypeError(
      'retry must be true or { statusCodes, limit, delay, backoffLimit, maxRetryAfter }: the reconnection time is the event stream\'s own "retry:" field',
    );
  }
  const given: EventSourceRetryOptions = value === true ? {} : (value as EventSourceRetryOptions);
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new TypeError('retry must be true, false or { statusCodes, limit, delay, backoffLimit, maxRetryAfter }');
  }
  for (const key of Object.keys(given)) {
    if (!RETRY_KEYS.includes(key)) {
      throw new TypeError(
        `retry: unrecognized option ${JSON.stringify(key)}. Valid options are: ${RETRY_KEYS.join(', ')}`,
      );
    }
  }
  const statusCodes = given.statusCodes ?? DEFAULT_RETRY_STATUS_CODES;
  if (!Array.isArray(statusCodes)) throw new TypeError('retry.statusCodes must be an array of HTTP statuses');
  for (const status of statusCodes) {
    // 2xx and 3xx are never refusals to retry: a 204 is the server's way to
    // say "stop reconnecting", a redirect is followed.
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError(`retry.statusCodes: ${String(status)} is not an error status (400-599)`);
    }
  }
  return {
    statusCodes: new Set(statusCodes),
    limit: nonNegative(given.limit, 'retry.limit', DEFAULT_RETRY_LIMIT, 'an integer'),
    delay: given.delay === undefined ? undefined : nonNegative(given.delay, 'retry.delay', 0, 'finite'),
    backoffLimit: nonNegative(given.backoffLimit, 'retry.backoffLimit', DEFAULT_BACKOFF_LIMIT, 'finite'),
    maxRetryAfter: nonNegative(given.maxRetryAfter, 'retry.maxRetryAfter', Number.POSITIVE_INFINITY, 'or Infinity'),
  };
}

/** A non-negative number, `kind` saying which: an integer or Infinity, a finite number, or any number or Infinity. */
function nonNegative(
  value: unknown,
  name: string,
  fallback: number,
  kind: 'an integer' | 'finite' | 'or Infinity',
): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    value >= 0 &&
    (kind === 'an integer'
      ? Number.isInteger(value) || value === Number.POSITIVE_INFINITY
      : kind === 'finite'
        ? Number.isFinite(value)
        : !Number.isNaN(value));
  if (!ok) {
    const what = {
      'an integer': 'a non-negative integer or Infinity',
      finite: 'a non-negative, finite number of milliseconds',
      'or Infinity': 'a non-negative number of milliseconds or Infinity',
    }[kind];
    throw new TypeError(`${name} must be ${what}`);
  }
  return value;
}

const DELAY_SECONDS = /^\d+$/;
const ASCTIME = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * The wait a `Retry-After` value asks for, in milliseconds from `now`, or
 * undefined when it is absent or neither form. A date in the past is 0.
 * @see RFC 9110 §10.2.3
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, now: number): number | undefined {
  const field = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (field === undefined || field === '') return undefined;
  // delay-seconds = 1*DIGIT
  if (DELAY_SECONDS.test(field)) return Number(field) * 1000;
  // HTTP-date: Date.parse reads IMF-fixdate and the obsolete RFC 850 and
  // asctime forms. Only a value that names a weekday or a month is taken,
  // so that "5s" or "-1" are not read as dates by the engine's heuristics.
  if (!/[A-Za-z]{3}/.test(field)) return undefined;
  // asctime-date has no zone and means GMT (RFC 9110 §5.6.7); Date.parse would read local time.
  const date = Date.parse(ASCTIME.test(field) ? `${field} GMT` : field);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** What to do with a refused answer. */
export type RetryDecision =
  | { retry: true; wait: number; retryAfter: number | undefined }
  | { retry: false; reason: string };

/**
 * Whether the `attempt`-th refused answer in a row is retried, and after how
 * long: the `Retry-After` wait when the server sent one (plus up to 10% of
 * jitter, never less than asked), otherwise an exponential backoff from
 * `delay` (or the reconnection time), capped by `backoffLimit`, with equal
 * jitter (between half and all of it).
 */
export function retryDecision(
  policy: RetryPolicy,
  status: number,
  retryAfterField: string | readonly string[] | undefined,
  attempt: number,
  reconnectionTime: number,
  now: number,
  random: () => number = Math.random,
): RetryDecision {
  if (!policy.statusCodes.has(status)) return { retry: false, reason: '' };
  if (attempt > policy.limit) {
    return { retry: false, reason: `gave up after ${policy.limit} retries (retry.limit)` };
  }
  const retryAfter = parseRetryAfter(retryAfterField, now);
  if (retryAfter !== undefined) {
    if (retryAfter > policy.maxRetryAfter) {
      return {
        retry: false,
        reason: `its Retry-After asks for ${retryAfter} ms, more than retry.maxRetryAfter (${policy.maxRetryAfter} ms)`,
      };
    }
    // Jitter after the date, never before it: clients told the same date do
    // not all come back in the same millisecond.
    const wait = retryAfter + Math.floor(random() * Math.min(retryAfter * 0.1, 1000));
    return { retry: true, wait: Math.min(wait, MAX_TIMER_DELAY), retryAfter };
  }
  const base = policy.delay ?? reconnectionTime;
  const ceiling = Math.min(policy.backoffLimit, base * 2 ** Math.min(attempt - 1, 52));
  const wait = Math.floor(ceiling / 2 + random() * (ceiling / 2));
  return { retry: true, wait: Math.min(wait, MAX_TIMER_DELAY), retryAfter: undefined };
}
