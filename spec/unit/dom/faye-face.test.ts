// faye's emitter face and the typed listener pair, installed on a bare
// EventTarget subclass: stream events to the emitter, the rest to the DOM.

import t from 'tap';
import { type FayeFace, installFayeFace, streamEvents } from '../../../src/dom/faye-face.js';
import { installTypedListeners, TypedEventTargetBase } from '../../../src/dom/typed-target.js';

interface TargetEventMap {
  ping: Event;
}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the methods are installed just below
class Target extends TypedEventTargetBase<TargetEventMap> {}
// biome-ignore lint/correctness/noUnusedVariables: merged into the class above
interface Target extends FayeFace<TargetEventMap> {}
installFayeFace(Target.prototype);
installTypedListeners(Target.prototype);

t.test('on() with a stream event name goes to an emitter made on first use; emit() reaches it', async (t) => {
  const target = new Target();
  t.equal(streamEvents(target), undefined, 'no emitter until on()');
  t.equal(target.emit('data', 'x'), false, 'emit() with no listener');
  const seen: unknown[] = [];
  const listener = (value: unknown) => seen.push(value);
  t.equal(target.on('data', listener), target, 'on() returns the target');
  t.ok(streamEvents(target), 'the emitter is made');
  t.equal(target.emit('data', 'a'), true);
  target.removeListener('data', listener);
  target.emit('data', 'b');
  t.same(seen, ['a']);
});

t.test('on() and once() with any other name are DOM listeners receiving the Event', async (t) => {
  const target = new Target();
  const seen: string[] = [];
  const each = (event: Event) => seen.push(`on:${event.type}`);
  target.on('ping', each);
  target.once('ping', (event: Event) => seen.push(`once:${event.type}`));
  target.dispatchEvent(new Event('ping'));
  target.dispatchEvent(new Event('ping'));
  target.off('ping', each);
  target.dispatchEvent(new Event('ping'));
  t.same(seen, ['on:ping', 'once:ping', 'on:ping']);
  t.equal(target.emit('ping', 'x'), false, 'emit() reaches no DOM listener');
});

t.test('the methods are on the prototype, non-enumerable, as class methods are', async (t) => {
  for (const name of ['on', 'once', 'off', 'removeListener', 'emit', 'addEventListener', 'removeEventListener']) {
    const descriptor = Object.getOwnPropertyDescriptor(Target.prototype, name);
    t.equal(typeof descriptor?.value, 'function', `${name} is a method`);
    t.equal(descriptor?.enumerable, false, `${name} is not enumerable`);
  }
});

t.test('addEventListener and removeEventListener ignore a null listener, and work with a real one', async (t) => {
  const target = new Target();
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  target.addEventListener('ping', null);
  target.removeEventListener('ping', null);
  let calls = 0;
  const listener = () => calls++;
  target.addEventListener('ping', listener);
  target.dispatchEvent(new Event('ping'));
  target.removeEventListener('ping', listener);
  target.dispatchEvent(new Event('ping'));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(calls, 1);
  t.same(warnings, [], 'no warning for null');
});
