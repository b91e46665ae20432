import t from 'tap';
import { CloseEvent, ErrorEvent } from '../../src/events.js';

t.test('ErrorEvent', async (t) => {
  t.test("has HTML's attributes, with their defaults", async (t) => {
    const bare = new ErrorEvent('error');
    t.same([bare.message, bare.error, bare.filename, bare.lineno, bare.colno], ['', undefined, '', 0, 0]);
    const cause = new Error('cause');
    const full = new ErrorEvent('error', { message: 'm', error: cause, filename: 'f.js', lineno: 3, colno: 4 });
    t.same([full.message, full.error, full.filename, full.lineno, full.colno], ['m', cause, 'f.js', 3, 4]);
    t.equal(full.type, 'error');
    t.ok(full instanceof Event);
  });

  t.test('status is the HTTP status, code its alias; undefined unless given', async (t) => {
    const refused = new ErrorEvent('error', { status: 401 });
    t.equal(refused.status, 401);
    t.equal(refused.code, 401);
    const network = new ErrorEvent('error', { message: 'ECONNRESET' });
    t.equal(network.status, undefined);
    t.equal(network.code, undefined);
  });
});

t.test('CloseEvent has code, reason and wasClean, with their defaults', async (t) => {
  const bare = new CloseEvent('close');
  t.same([bare.code, bare.reason, bare.wasClean], [0, '', false]);
  const full = new CloseEvent('close', { code: 1001, reason: 'going', wasClean: true });
  t.same([full.code, full.reason, full.wasClean], [1001, 'going', true]);
});
