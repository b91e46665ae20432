// The demo as two processes sharing one chat through Redis pub/sub, behind
// nginx: a message sent through one process reaches clients of the other,
// and so do the feed's join events.

import t from 'tap';
import { Client, EventSourceClient } from '../../src/index.js';
import { nextWithin as next } from '../helpers/bounded.js';
import { freePort } from '../helpers/listen.js';
import { until } from '../helpers/peers.js';
import { startNginx, startRedis } from '../helpers/services.js';
import { run } from '../helpers/spawn.js';

t.test('two demo processes behind nginx share one chat through Redis', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const ports = [await freePort(), await freePort()];
  const processes = ports.map((port) =>
    run(t, 'examples/demo/server.mjs', [], { PORT: String(port), REDIS_URL: redis.url }),
  );
  for (const demo of processes) await demo.waitFor(/via Redis/);
  const nginx = await startNginx(t, ports);
  if (!nginx) return;

  const chatter = (base: string, name: string) => {
    const ws = new Client(`${base.replace('http', 'ws')}/chat?name=${name}`);
    const messages: string[] = [];
    ws.onmessage = (event) => messages.push(JSON.parse(event.data).text);
    t.teardown(() => ws.close());
    return { ws, messages };
  };

  const feedB = new EventSourceClient(`http://127.0.0.1:${ports[1]}/feed`);
  t.teardown(() => feedB.close());
  const joins: string[] = [];
  feedB.addEventListener('join', (event) => joins.push(event.data));
  await next(feedB, 'open');

  const a = chatter(`http://127.0.0.1:${ports[0]}`, 'alice');
  const b = chatter(`http://127.0.0.1:${ports[1]}`, 'bob');
  const c = chatter(`http://127.0.0.1:${nginx.port}`, 'carol');
  await Promise.all([next(a.ws, 'open'), next(b.ws, 'open'), next(c.ws, 'open')]);

  a.ws.send(JSON.stringify({ text: 'sent through process one' }));
  b.ws.send(JSON.stringify({ text: 'sent through process two' }));
  await until(() => [a, b, c].every((client) => client.messages.length === 2), 10_000);
  for (const client of [a, b, c]) {
    t.same([...client.messages].sort(), ['sent through process one', 'sent through process two']);
  }
  await t.resolves(
    until(() => joins.includes('alice'), 10_000),
    "process two's feed announced a join on process one",
  );
});
