import t from 'tap';
import { resolveTransport } from '../../../src/net/options.js';
import { abortError, ConnectionAttempt } from '../../../src/net/transport.js';
import { within } from '../../helpers/bounded.js';

const timers = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

t.test('ConnectionAttempt', async (t) => {
  t.test('aborts with a TimeoutError naming handshakeTimeout when the time passes', async (t) => {
    const attempt = new ConnectionAttempt({ handshakeTimeout: 20, signal: undefined });
    t.equal(attempt.signal.aborted, false);
    await within(new Promise((resolve) => attempt.signal.addEventListener('abort', resolve)), 2000, 'the timeout');
    t.equal(attempt.timedOut, true);
    t.equal(attempt.signal.reason.name, 'TimeoutError');
    t.equal(attempt.signal.reason.message, 'The opening handshake took longer than 20 ms (handshakeTimeout)');
  });

  t.test('finish() stops the timer: a finished attempt never aborts', async (t) => {
    const before = timers();
    const finished = new ConnectionAttempt({ handshakeTimeout: 20, signal: undefined });
    const control = new ConnectionAttempt({ handshakeTimeout: 20, signal: undefined });
    t.equal(timers(), before + 2);
    finished.finish();
    t.equal(timers(), before + 1, 'its timer is cleared at once');
    await within(new Promise((resolve) => control.signal.addEventListener('abort', resolve)), 2000, 'the control');
    t.equal(finished.signal.aborted, false);
    finished.abort();
    t.equal(finished.signal.aborted, false, 'abort() after finish() is a no-op');
    t.equal(timers(), before);
  });

  t.test('a handshakeTimeout of 0 starts no timer', async (t) => {
    const before = timers();
    const attempt = new ConnectionAttempt({ handshakeTimeout: 0, signal: undefined });
    t.equal(timers(), before);
    attempt.abort();
    t.equal(attempt.signal.reason.name, 'AbortError');
    t.equal(attempt.timedOut, false);
  });

  t.test("follows the application's signal and an extra one, with their reasons", async (t) => {
    const application = new AbortController();
    const own = new AbortController();
    const first = new ConnectionAttempt({ handshakeTimeout: 0, signal: application.signal }, own.signal);
    const reason = new Error('user gave up');
    application.abort(reason);
    t.equal(first.signal.reason, reason);

    const second = new ConnectionAttempt({ handshakeTimeout: 0, signal: undefined }, own.signal);
    own.abort('closing');
    t.equal(second.signal.reason, 'closing');

    const third = new ConnectionAttempt({ handshakeTimeout: 1000, signal: application.signal });
    t.equal(third.signal.aborted, true, 'an already aborted signal aborts at once');
    t.equal(third.timedOut, false);
  });

  t.test('after finish() the linked signals are let go', async (t) => {
    const application = new AbortController();
    const attempt = new ConnectionAttempt({ handshakeTimeout: 0, signal: application.signal });
    attempt.finish();
    application.abort();
    t.equal(attempt.signal.aborted, false);
  });
});

t.test('a signal from another realm or a polyfill (an EventTarget with aborted and reason) works', async (t) => {
  const polyfill = Object.assign(new EventTarget(), { aborted: false, reason: undefined as unknown });
  const transport = resolveTransport({ signal: polyfill as unknown as AbortSignal });
  const attempt = new ConnectionAttempt(transport);
  polyfill.aborted = true;
  polyfill.reason = 'stopped';
  polyfill.dispatchEvent(new Event('abort'));
  t.equal(attempt.signal.reason, 'stopped');
});

t.test('abortError gives an Error for any abort reason', async (t) => {
  const error = new Error('mine');
  t.equal(abortError(error), error);
  t.match(abortError('closing'), { name: 'AbortError', message: 'closing' });
  t.match(abortError(undefined), { name: 'AbortError', message: 'Aborted' });
});
