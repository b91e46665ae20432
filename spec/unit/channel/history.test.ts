import t from 'tap';
import {
  compareStreamIds,
  EventHistory,
  type HistoryEntry,
  isStreamId,
  parseStreamId,
  StreamIdClock,
} from '../../../src/channel/history.js';

const entry = (id: string, at = 0): HistoryEntry => ({ id, block: Buffer.from(`id: ${id}\n\n`), at });
const ids = (entries: HistoryEntry[] | undefined): string[] | undefined => entries?.map((e) => e.id);

t.test('stream ids', async (t) => {
  t.test('parse <ms>-<seq> and nothing else', async (t) => {
    t.same(parseStreamId('1700000000000-3'), [1700000000000, 3]);
    for (const bad of ['', '1', '1-', '-1', '1-2-3', 'a-1', ' 1-2', '1-2\n', '99999999999999999-0']) {
      t.equal(parseStreamId(bad), undefined, JSON.stringify(bad));
      t.equal(isStreamId(bad), false);
    }
  });

  t.test('compare by time, then sequence; NaN when either is not an id', async (t) => {
    t.ok(compareStreamIds('2-0', '1-9') > 0);
    t.ok(compareStreamIds('1-10', '1-9') > 0, 'numerically, not as text');
    t.equal(compareStreamIds('5-5', '5-5'), 0);
    t.ok(compareStreamIds('1-0', '1-1') < 0);
    t.ok(Number.isNaN(compareStreamIds('x', '1-1')));
  });

  t.test('the clock makes increasing ids, also when time stands still or goes back', async (t) => {
    const clock = new StreamIdClock();
    t.same([clock.next(100), clock.next(100), clock.next(99), clock.next(101)], ['100-0', '100-1', '100-2', '101-0']);
    clock.observe('500-7');
    t.equal(clock.next(200), '500-8', 'after an observed id');
    clock.observe('400-0');
    clock.observe('not an id');
    t.equal(clock.next(200), '500-9', 'an older or foreign id changes nothing');
  });
});

t.test('EventHistory', async (t) => {
  t.test('gives the entries after an id, oldest first, and undefined for an id it does not hold', async (t) => {
    const history = new EventHistory(10);
    for (const id of ['1-0', '2-0', '3-0']) history.push(entry(id));
    t.same(ids(history.after('1-0', 0)), ['2-0', '3-0']);
    t.same(ids(history.after('3-0', 0)), []);
    t.equal(history.after('9-0', 0), undefined);
    t.equal(history.length, 3);
    t.equal(history.last?.id, '3-0');
  });

  t.test('keeps the last `size` entries', async (t) => {
    const history = new EventHistory(3);
    for (let i = 1; i <= 5; i++) history.push(entry(`${i}-0`));
    t.equal(history.length, 3);
    t.equal(history.after('2-0', 0), undefined, 'evicted');
    t.same(ids(history.after('3-0', 0)), ['4-0', '5-0']);
  });

  t.test('keeps nothing with size 0', async (t) => {
    const history = new EventHistory(0);
    history.push(entry('1-0'));
    t.equal(history.length, 0);
    t.equal(history.last, undefined);
  });

  t.test('forgets entries older than maxAge, on push and on lookup', async (t) => {
    const history = new EventHistory(100, 1000);
    history.push(entry('1-0', 0));
    history.push(entry('2-0', 500));
    history.push(entry('3-0', 1200));
    t.equal(history.after('1-0', 1200), undefined, 'aged out when 3-0 came');
    t.same(ids(history.after('2-0', 1200)), ['3-0']);
    t.equal(history.after('2-0', 1600), undefined, 'aged out at lookup');
    t.same(ids(history.after('3-0', 1600)), []);
  });

  t.test('newerThan gives what sorts after an id it no longer holds', async (t) => {
    const history = new EventHistory(2);
    for (const id of ['1-0', '2-0', '3-0', 'custom']) history.push(entry(id));
    t.same(ids(history.newerThan('2-5', 0)), ['3-0'], 'custom ids do not compare');
    t.same(ids(history.newerThan('0-0', 0)), ['3-0']);
  });

  t.test('stays correct across many evictions (compaction), with repeated ids', async (t) => {
    const history = new EventHistory(50);
    for (let i = 0; i < 5000; i++) history.push(entry(`${i}-0`));
    t.equal(history.length, 50);
    t.same(ids(history.after('4997-0', 0)), ['4998-0', '4999-0']);
    t.equal(history.after('4949-0', 0), undefined);
    t.equal(ids(history.after('4950-0', 0))?.length, 49);
    const repeated = new EventHistory(3);
    for (const id of ['a', 'b', 'a', 'c']) repeated.push(entry(id));
    t.same(ids(repeated.after('a', 0)), ['c'], 'the newest of a repeated id');
    repeated.push(entry('d'));
    t.same(ids(repeated.after('a', 0)), ['c', 'd'], 'still known after its older copy left');
  });
});
