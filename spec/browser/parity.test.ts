// Browser parity: the same client scenarios run in headless Chromium's native
// WebSocket and EventSource and in Node with WebSocket.Client and
// EventSource.Client, against one isosocket server. The recorded event traces
// (type, readyState at dispatch, data, code, reason, wasClean, lastEventId)
// must be identical.

import http from 'node:http';
import t from 'tap';
import { Client, EventSourceClient } from '../../src/index.js';
import { openPage } from '../helpers/browser.js';
import { listen } from '../helpers/listen.js';
import { inBrowser, parityRoutes, scenarios } from '../helpers/parity.js';
import { freePort } from '../helpers/proxies.js';

t.test('the same scenarios in Chromium and in Node give identical event traces', async (t) => {
  const routes = parityRoutes();
  const server = http.createServer(routes.request);
  server.on('upgrade', routes.upgrade);
  const port = await listen(t, server);
  const refusedPort = await freePort();
  const base = {
    ws: `ws://127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port}`,
    refused: `ws://127.0.0.1:${refusedPort}/`,
  };
  const opened = await openPage(t, `${base.http}/`);
  if (!opened) return;
  const { page } = opened;

  for (const [name, scenario] of Object.entries(scenarios)) {
    t.test(name, async (t) => {
      const browser = await inBrowser(page, scenario, base);
      const inNode = await scenario({
        ...base,
        WebSocket: Client,
        EventSource: EventSourceClient,
      });
      t.ok(browser.length > 0, 'the browser recorded events');
      t.same(inNode, browser, `Chromium: ${JSON.stringify(browser)}`);
    });
  }
});
