// Chromium's own EventSource on a channel: the server drops the connection at
// random points, the browser reconnects by itself with Last-Event-ID (the
// channel's `<ms>-<seq>` ids), and sees every event exactly once, in order.

import http from 'node:http';
import t from 'tap';
import { EventSource, EventSourceChannel } from '../../src/index.js';
import { sleep } from '../helpers/bounded.js';
import { openPage } from '../helpers/browser.js';
import { listen } from '../helpers/listen.js';

declare const window: { seen: string[]; opens: number };

t.test("Chromium's EventSource resumes on a channel after drops: every id once, in order", async (t) => {
  const channel = new EventSourceChannel();
  const sources: EventSource[] = [];
  const server = http.createServer((request, response) => {
    if (!EventSource.isEventSource(request)) {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end(`<!doctype html><script>
        window.seen = []; window.opens = 0;
        const source = new EventSource('/events');
        source.onopen = () => window.opens++;
        source.onmessage = (event) => window.seen.push(event.lastEventId);
      </script>`);
      return;
    }
    const es = new EventSource(request, response, { retry: 0.05, ping: 0 });
    sources.push(es);
    channel.register(es);
  });
  const port = await listen(t, server);
  const opened = await openPage(t, `http://127.0.0.1:${port}/`);
  if (!opened) return;
  const { page } = opened;
  await page.waitForFunction(() => window.opens === 1);

  const published: string[] = [];
  let drops = 0;
  for (let i = 0; i < 200; i++) {
    published.push(await channel.broadcast(`event ${i}`));
    await sleep(3);
    // The server drops the browser's connection now and then (if it is back by then).
    if (i % 40 === 20 && sources.at(-1)?.close()) drops++;
  }
  let seen: string[] = [];
  const deadline = Date.now() + 15_000;
  while (seen.length < published.length && Date.now() < deadline) {
    seen = await page.evaluate(() => window.seen);
    await sleep(50);
  }
  const opens = await page.evaluate(() => window.opens);
  t.ok(drops >= 2, `${drops} drops`);
  t.equal(opens, drops + 1, 'one reconnection per drop');
  t.same(seen, published, 'every id exactly once, in order');
});
