// RedisChannelStore's logic without a server: reply shapes (RESP2 arrays and
// RESP3 maps), the append that fails in flight but was stored after all, and
// ids that never reach XRANGE. The store against a real redis-server is in
// spec/integration/event-source-redis.test.ts.

import t from 'tap';
import type { StoredEvent } from '../../../src/channel/channel.js';
import { RedisChannelStore, type RedisClientLike } from '../../../src/sse/redis.js';
import { until } from '../../helpers/peers.js';

/** A client that answers from a script of replies, and records the commands. */
function scripted(answer: (args: string[]) => Promise<unknown>) {
  const commands: string[][] = [];
  const client: RedisClientLike = {
    isOpen: true,
    isReady: true,
    sendCommand: (args) => {
      commands.push(args);
      return answer(args);
    },
    duplicate: () => client,
    connect: async () => {},
    on: () => client,
    destroy: () => {},
  };
  return { client, commands };
}

const never = new Promise<never>(() => {});

t.test('reads RESP2 and RESP3 replies alike, and skips entries without data or with a foreign id', async (t) => {
  let reads = 0;
  const replies: unknown[] = [
    [['notes', [['1-0', ['data', 'a', 'event', 'x']]]]],
    new Map([['notes', [['2-0', new Map([['data', 'b']])]]]]),
    {
      notes: [
        ['3-0', { data: 'c' }],
        ['4-0', ['event', 'no data']],
        ['bad', ['data', 'd']],
      ],
    },
  ];
  const { client, commands } = scripted(async (args) => {
    if (args[0] === 'XREVRANGE') return [];
    if (args[0] === 'XREAD') return reads < replies.length ? replies[reads++] : never;
    return null;
  });
  const store = await RedisChannelStore.connect({ client, key: 'notes' });
  const entries: StoredEvent[] = [];
  store.open({ entry: (entry) => entries.push(entry), error: () => {}, recovered: () => {} }, 10);
  await until(() => commands.length === 5, 2000); // XREVRANGE, three XREADs answered, one waiting
  t.same(
    entries.map(({ id, event, data }) => [id, event, data]),
    [
      ['1-0', 'x', 'a'],
      ['2-0', undefined, 'b'],
      ['3-0', undefined, 'c'],
    ],
  );
  t.same(commands[1], ['XREAD', 'COUNT', '1000', 'BLOCK', '5000', 'STREAMS', 'notes', '0-0']);
  t.same(commands[2]?.at(-1), '1-0', 'reads on from the last id');
  await store.close();
});

t.test('an append that failed in flight is not delivered again when Redis stored it after all', async (t) => {
  let stored: string[] | undefined;
  let release: ((reply: unknown) => void) | undefined;
  const { client } = scripted(async (args) => {
    if (args[0] === 'XREVRANGE') return [];
    if (args[0] === 'XADD') {
      stored = args;
      throw new Error('Socket closed unexpectedly');
    }
    if (args[0] === 'XREAD') return new Promise((resolve) => (release = resolve));
    return null;
  });
  const store = await RedisChannelStore.connect({ client, key: 'k', maxLength: 50 });
  const entries: string[] = [];
  const errors: unknown[] = [];
  store.open({ entry: (entry) => entries.push(entry.data), error: (e) => errors.push(e), recovered: () => {} }, 0);
  await t.rejects(store.append('tick', 'lost?'), /Socket closed/);
  t.same(stored?.slice(0, 6), ['XADD', 'k', 'MAXLEN', '~', '50', '*']);
  const fields = stored?.slice(6) ?? [];
  const origin = fields[fields.indexOf('origin') + 1] as string;
  await until(() => release !== undefined, 2000);
  release?.([
    [
      'k',
      [
        ['5-0', ['data', 'lost?', 'origin', origin, 'event', 'tick']],
        ['6-0', ['data', 'next']],
      ],
    ],
  ]);
  await until(() => entries.length > 0, 2000);
  t.same(entries, ['next'], 'the channel delivered it already; only the next one comes through');
  await store.close();
});

t.test('range() sends only <ms>-<seq> ids to XRANGE, exclusive', async (t) => {
  const { client, commands } = scripted(async (args) => (args[0] === 'XRANGE' ? [['9-1', ['data', 'z']]] : []));
  const store = await RedisChannelStore.connect({ client, key: 'k', maxLength: 10 });
  t.same(await store.range('not-an-id\r\nXX'), []);
  t.same(await store.range('9-0'), [{ id: '9-1', data: 'z' }]);
  t.same(
    commands.filter((c) => c[0] === 'XRANGE'),
    [['XRANGE', 'k', '(9-0', '+', 'COUNT', '20']],
  );
  t.equal(store.description, 'Redis stream "k"');
  t.equal(store.ready, true);
  await store.close();
  t.equal(store.ready, false, 'not after close()');
});
