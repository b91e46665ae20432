// The publish script's messages, read without a server: what the script
// sends (its format is checked against redis-server in
// spec/integration/redis-channels.test.ts), and what is refused.

import t from 'tap';
import {
  DeliveredHere,
  decodePublished,
  PUBLISH_SCRIPT,
  PUBLISH_SHA,
  publishArgs,
} from '../../../src/sse/redis-wire.js';

t.test('decodePublished reads previous id, id, origin, event and data (data may hold newlines)', async (t) => {
  t.same(decodePublished('0-0\n5-1\nab:1\n=tick\nline 1\nline 2'), {
    previous: '0-0',
    entry: { id: '5-1', data: 'line 1\nline 2', event: 'tick', origin: 'ab:1' },
  });
  t.same(decodePublished('5-1\n6-0\n\n\n'), { previous: '5-1', entry: { id: '6-0', data: '' } });
  t.same(decodePublished('5-1\n6-0\nx\n=\nd'), {
    previous: '5-1',
    entry: { id: '6-0', data: 'd', event: '', origin: 'x' },
  });
});

t.test('decodePublished refuses what the script did not send', async (t) => {
  for (const message of ['', 'hello', '0-0\n1-0\no', '0-0\n1-0\no\nevent\nd', 'x\n1-0\no\n\nd', '0-0\n1-x\no\n\nd']) {
    t.equal(decodePublished(message), undefined, JSON.stringify(message));
  }
});

t.test('publishArgs: one key, the publish command, MAXLEN, data, origin and the event when there is one', async (t) => {
  t.same(publishArgs('SPUBLISH', 'room:1', 50, 'd', 'o:1', 'tick'), [
    '1',
    'room:1',
    'SPUBLISH',
    '50',
    'd',
    'o:1',
    'tick',
  ]);
  t.same(publishArgs('PUBLISH', 'room:1', 50, 'd', 'o:1', undefined), ['1', 'room:1', 'PUBLISH', '50', 'd', 'o:1']);
  t.match(PUBLISH_SHA, /^[0-9a-f]{40}$/);
  t.match(PUBLISH_SCRIPT, /XADD/);
});

t.test('DeliveredHere forgets an origin once matched, and the oldest past its limit', async (t) => {
  const delivered = new DeliveredHere(2);
  delivered.add('a');
  delivered.add('b');
  delivered.add('c');
  t.equal(delivered.has({ id: '1-0', data: '', origin: 'a' }), false, 'the oldest was forgotten');
  t.equal(delivered.has({ id: '1-0', data: '', origin: 'c' }), true);
  t.equal(delivered.has({ id: '1-0', data: '', origin: 'c' }), false, 'once');
  t.equal(delivered.has({ id: '1-0', data: '' }), false);
});
