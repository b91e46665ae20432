import t from 'tap';
import {
  acceptsEventStream,
  checkEvent,
  checkId,
  eventData,
  formatEvent,
  formatRetry,
  PING_COMMENT,
} from '../../../src/sse/encode.js';

t.test('formatEvent', async (t) => {
  t.test('writes event, id and data fields then a blank line', async (t) => {
    t.equal(formatEvent('hi', { event: 'greeting', id: '7' }), 'event: greeting\nid: 7\ndata: hi\n\n');
    t.equal(formatEvent('42', { id: 42 }), 'id: 42\ndata: 42\n\n');
    t.equal(formatEvent('', {}), 'data: \n\n');
  });

  t.test('splits data on CRLF, CR and LF into several data lines', async (t) => {
    t.equal(formatEvent('a\r\nb\rc\nd'), 'data: a\ndata: b\ndata: c\ndata: d\n\n');
    t.equal(formatEvent('end\n'), 'data: end\ndata: \n\n');
  });

  t.test('data cannot inject a field: every line stays a data line', async (t) => {
    const block = formatEvent('x\nevent: evil\nid: 9\n\ndata: y');
    for (const line of block.split('\n').filter((l) => l !== '')) t.match(line, /^data: /);
    t.notMatch(block, /\n\n(?!$)/, 'no blank line inside the block');
  });

  t.test('refuses CR or LF in event and id, and NUL in id', async (t) => {
    t.throws(() => formatEvent('d', { event: 'x\r\ndata: y' }), TypeError);
    t.throws(() => formatEvent('d', { event: 'x\ry' }), TypeError);
    t.throws(() => formatEvent('d', { id: 'a\nevent: x' }), TypeError);
    t.throws(() => formatEvent('d', { id: 'a\0b' }), TypeError);
    t.throws(() => checkEvent('a\nb'), TypeError);
    t.throws(() => checkId('a\rb'), TypeError);
    t.equal(checkEvent('tick'), 'tick');
    t.equal(checkId(7), '7');
  });

  t.test('writes retry in milliseconds from seconds', async (t) => {
    t.equal(formatEvent('d', { retry: 2.5 }), 'retry: 2500\ndata: d\n\n');
    t.equal(formatRetry(0), 'retry: 0\n');
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
      t.throws(() => formatRetry(bad), TypeError, String(bad));
    }
  });
});

t.test('eventData', async (t) => {
  t.test('takes strings as they are, and refuses anything else without serialize', async (t) => {
    t.equal(eventData('plain', undefined), 'plain');
    for (const value of [{}, [1], 42, null, undefined, Buffer.from('x'), true]) {
      t.throws(
        () => eventData(value, undefined),
        { name: 'TypeError', message: /serialize: JSON\.stringify/ },
        String(value),
      );
    }
    t.throws(() => eventData({}, undefined), { message: /not an object \(Object\)/ });
    const advice = '; pass the option { serialize: JSON.stringify } to send other values';
    for (const [value, described] of [
      [null, 'null'],
      [undefined, 'undefined'],
      [42, 'number'],
      [new Map(), 'an object (Map)'],
      [Object.create(null), 'an object (Object)'],
    ] as Array<[unknown, string]>) {
      t.throws(
        () => eventData(value, undefined),
        new TypeError(`Event data must be a string, not ${described}${advice}`),
        described,
      );
    }
  });

  t.test('puts every value through serialize, strings too, and checks that it returns a string', async (t) => {
    t.equal(eventData({ a: 1 }, JSON.stringify), '{"a":1}');
    t.equal(eventData('x', JSON.stringify), '"x"');
    t.throws(() => eventData(undefined, JSON.stringify), { name: 'TypeError', message: /returned undefined/ });
    t.throws(() => eventData(1, () => 2 as unknown as string), { message: /returned number/ });
  });
});

t.test('acceptsEventStream', async (t) => {
  t.equal(acceptsEventStream('GET', 'text/event-stream'), true);
  t.equal(acceptsEventStream('GET', 'text/html, text/event-stream;q=0.9'), true);
  t.equal(acceptsEventStream('GET', 'TEXT/EVENT-STREAM'), true);
  t.equal(acceptsEventStream('POST', 'text/event-stream'), false);
  t.equal(acceptsEventStream('GET', 'text/html'), false);
  t.equal(acceptsEventStream('GET', undefined), false);
});

t.test('the exact errors and the ping comment (what an application sees)', async (t) => {
  t.throws(() => formatEvent('x', { event: 'a\nb' }), new TypeError('The event name must not contain CR or LF'));
  t.throws(() => formatEvent('x', { id: 'a\0b' }), new TypeError('The event id must not contain CR, LF or NUL'));
  t.throws(() => formatRetry(-1), new TypeError('retry must be a non-negative number of seconds'));
  t.equal(PING_COMMENT, ':\n\n', 'a comment line and a blank line');
});
