import t from 'tap';
import { connectingCount, waitForTurn } from '../../../src/net/connecting.js';

/** Whether the promise has settled, after the microtasks queued so far. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

t.test('waitForTurn', async (t) => {
  t.test('the first connection to a host and port goes at once; the next waits until it leaves', async (t) => {
    const url = new URL('ws://a.test:8080/one');
    const first = waitForTurn(url);
    const second = waitForTurn(new URL('ws://A.TEST:8080/two?x'));
    t.equal(await settled(first.ready), true);
    t.equal(await settled(second.ready), false, 'same host and port, another path: it waits');
    t.equal(connectingCount(url), 2);
    first.leave();
    t.equal(await settled(second.ready), true);
    second.leave();
    t.equal(connectingCount(url), 0, 'an empty queue is forgotten');
  });

  t.test('another port or host does not wait; default ports count as given', async (t) => {
    const first = waitForTurn(new URL('ws://b.test/'));
    const otherPort = waitForTurn(new URL('ws://b.test:81/'));
    const otherHost = waitForTurn(new URL('ws://c.test/'));
    const samePort = waitForTurn(new URL('ws://b.test:80/'));
    const secure = waitForTurn(new URL('wss://b.test/'));
    t.equal(await settled(otherPort.ready), true);
    t.equal(await settled(otherHost.ready), true);
    t.equal(await settled(secure.ready), true, 'port 443 is another port');
    t.equal(await settled(samePort.ready), false, 'ws://b.test/ is port 80');
    for (const turn of [first, otherPort, otherHost, samePort, secure]) turn.leave();
  });

  t.test('one that leaves while waiting drops out; leave() twice changes nothing', async (t) => {
    const url = new URL('ws://d.test/');
    const first = waitForTurn(url);
    const gone = waitForTurn(url);
    const third = waitForTurn(url);
    gone.leave();
    gone.leave();
    t.equal(await settled(third.ready), false, 'the first still holds the turn');
    first.leave();
    first.leave();
    t.equal(await settled(third.ready), true);
    t.equal(await settled(gone.ready), false, 'a connection that left is never started');
    third.leave();
    t.equal(connectingCount(url), 0);
  });
});
