import t from 'tap';
import { CloseEvent, ErrorEvent, EventSourceErrorEvent } from '../../src/events.js';

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

  t.test("has no code, status, reason or data: nothing that shape checks take for another event's", async (t) => {
    // partysocket (reconnecting-websocket's successor) copies events by their
    // properties: `'code' in e` makes a CloseEvent (code 1999), `'data' in e`
    // a MessageEvent; a WebSocket's error event must be neither.
    const event = new ErrorEvent('error', { message: 'm', error: new Error('m') });
    for (const name of ['code', 'status', 'reason', 'data', 'wasClean']) t.notOk(name in event, name);
    t.ok('error' in event, "'error' in event: copied as an ErrorEvent");
    t.equal(String(event), '[object Event]', 'prints as the plain Event browsers dispatch');
  });
});

t.test('EventSourceErrorEvent', async (t) => {
  t.test('is an ErrorEvent; status is the HTTP status, code its alias; undefined unless given', async (t) => {
    const refused = new EventSourceErrorEvent('error', { status: 401 });
    t.ok(refused instanceof ErrorEvent);
    t.equal(refused.status, 401);
    t.equal(refused.code, 401);
    const network = new EventSourceErrorEvent('error', { message: 'ECONNRESET' });
    t.equal(network.status, undefined);
    t.equal(network.code, undefined);
    t.equal(network.message, 'ECONNRESET');
  });

  t.test('its getters refuse other objects, as WebIDL attributes do', async (t) => {
    const getter = Object.getOwnPropertyDescriptor(EventSourceErrorEvent.prototype, 'status')?.get;
    t.throws(() => getter?.call(new ErrorEvent('error')), TypeError);
  });
});

t.test('CloseEvent has code, reason and wasClean, with their defaults', async (t) => {
  const bare = new CloseEvent('close');
  t.same([bare.code, bare.reason, bare.wasClean], [0, '', false]);
  const full = new CloseEvent('close', { code: 1001, reason: 'going', wasClean: true });
  t.same([full.code, full.reason, full.wasClean], [1001, 'going', true]);
});
