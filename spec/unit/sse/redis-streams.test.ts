// RedisChannelStores' reading without a server, on a scripted client: the
// bound on live messages held while a read is in flight (past it they are
// read from the stream instead: none lost, none twice), and the first read's
// split between history and live entries. Against a real redis-server:
// spec/integration/redis-channels.test.ts and redis-cluster.test.ts.

import t from 'tap';
import type { StoredEvent } from '../../../src/channel/channel.js';
import { RedisChannelStores, type RedisClientLike } from '../../../src/index.js';
import { until } from '../../helpers/peers.js';

type Listener = (message: string, channel: string) => void;

/** A writer answering from `answer`, whose duplicate subscribes; records commands and listeners. */
function scripted(answer: (args: string[]) => Promise<unknown>) {
  const commands: string[][] = [];
  const listeners = new Map<string, Listener>();
  const base = {
    isOpen: true,
    isReady: true,
    connect: async () => {},
    on: () => base,
    destroy: () => {},
  };
  const subscriber = {
    ...base,
    sendCommand: async () => null,
    duplicate: () => subscriber,
    subscribe: async (name: string, listener: Listener) => {
      listeners.set(name, listener);
    },
    unsubscribe: async (name: string) => {
      listeners.delete(name);
    },
  };
  const client: RedisClientLike = {
    ...base,
    sendCommand: (args) => {
      commands.push(args);
      return answer(args);
    },
    duplicate: () => subscriber,
  };
  return { client, commands, listeners };
}

const message = (previous: string, id: string, data: string) => `${previous}\n${id}\no:1\n\n${data}`;

t.test(
  'past 10,000 live messages held during a read, the rest is read from the stream: each once, in order',
  async (t) => {
    const total = 10_001;
    const ids = Array.from({ length: total }, (_, i) => `${1000 + i}-0`);
    let answerFirst: ((reply: unknown) => void) | undefined;
    const { client, commands, listeners } = scripted((args) => {
      if (args[0] === 'XREVRANGE') return new Promise((resolve) => (answerFirst = resolve));
      if (args[0] === 'XRANGE') {
        const after = (args[2] as string).slice(1);
        return Promise.resolve(
          ids.filter((id) => Number(id.split('-')[0]) > Number(after.split('-')[0])).map((id) => [id, ['data', id]]),
        );
      }
      return Promise.resolve(null);
    });
    const stores = await RedisChannelStores.connect({ client });
    const store = stores.channel('busy');
    const entries: Array<[StoredEvent, boolean]> = [];
    store.open({ entry: (entry, live) => entries.push([entry, live]), error: () => {}, recovered: () => {} }, 0);
    await until(() => listeners.has('busy') && answerFirst !== undefined, 2000);
    // Every message arrives while the first read is in flight.
    const listener = listeners.get('busy') as Listener;
    for (const [i, id] of ids.entries()) listener(message(ids[i - 1] ?? '0-0', id, id), 'busy');
    answerFirst?.([]);
    await until(() => entries.length === total, 5000);
    t.same(
      entries.map(([entry]) => entry.id),
      ids,
      'every entry once, in order',
    );
    t.ok(
      entries.every(([, live]) => live),
      'all live',
    );
    t.same(
      commands.filter((args) => args[0] === 'XRANGE').map((args) => args[2]),
      [`(${ids[9999]}`],
      'the 10,001st came from the stream, after the 10,000 held',
    );
    await store.close();
    await stores.close();
    t.equal(listeners.size, 0, 'unsubscribed');
  },
);

t.test('the first read: what came before the subscription is history, what came since is live', async (t) => {
  let answerFirst: ((reply: unknown) => void) | undefined;
  const { client, listeners } = scripted((args) =>
    args[0] === 'XREVRANGE' ? new Promise((resolve) => (answerFirst = resolve)) : Promise.resolve([]),
  );
  const stores = await RedisChannelStores.connect({ client });
  const store = stores.channel('room');
  const entries: Array<[string, boolean]> = [];
  store.open({ entry: (entry, live) => entries.push([entry.id, live]), error: () => {}, recovered: () => {} }, 10);
  await until(() => listeners.has('room') && answerFirst !== undefined, 2000);
  listeners.get('room')?.(message('2-0', '3-0', 'c'), 'room');
  // Newest first, as XREVRANGE answers.
  answerFirst?.([
    ['3-0', ['data', 'c']],
    ['2-0', ['data', 'b']],
    ['1-0', ['data', 'a']],
  ]);
  await until(() => entries.length === 3, 2000);
  t.same(entries, [
    ['1-0', false],
    ['2-0', false],
    ['3-0', true],
  ]);
  t.equal(store.description, 'Redis stream "room"');
  t.throws(() => store.open({ entry: () => {}, error: () => {}, recovered: () => {} }, 0), /serves one channel/);
  await stores.close();
  t.equal(store.ready, false, 'not after the stores close');
  t.throws(() => stores.channel('late'), { name: 'InvalidStateError' });
});
