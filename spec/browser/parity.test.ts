// Browser parity: the same client scenarios run in headless Chromium's and
// Firefox ESR's native WebSocket and EventSource and in Node with
// WebSocket.Client and EventSource.Client, against one isosocket server.
// Each scenario records three traces (type, readyState at dispatch, data,
// code, reason, wasClean, lastEventId). Where the browsers agree, Node's must
// be theirs; where they disagree (DISAGREEMENTS, docs/browser-parity.md), WPT
// and the standard decide which one Node follows, and the other is recorded.
// Without Firefox the Chromium half still runs.

import http from 'node:http';
import t from 'tap';
import { Client, EventSourceClient } from '../../src/index.js';
import { within } from '../helpers/bounded.js';
import { openFirefoxPage, openPage } from '../helpers/browser.js';
import { freePort, listen } from '../helpers/listen.js';
import {
  DISAGREEMENTS,
  type EvaluatingPage,
  http1Scenarios,
  inBrowser,
  parityRoutes,
  scenarios,
} from '../helpers/parity.js';

t.test('the same scenarios in Chromium, Firefox and Node give identical event traces', async (t) => {
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
  const firefox = await openFirefoxPage(t, `${base.http}/`);
  const firefoxPage = firefox?.page as EvaluatingPage | undefined;

  for (const [name, scenario] of Object.entries({ ...scenarios, ...http1Scenarios })) {
    t.test(name, async (t) => {
      const chromium = await within(inBrowser(page, scenario, base), 15_000, `${name} in Chromium`);
      const gecko =
        firefoxPage === undefined
          ? undefined
          : await within(inBrowser(firefoxPage, scenario, base), 15_000, `${name} in Firefox`);
      const inNode = await within(
        scenario({ ...base, WebSocket: Client, EventSource: EventSourceClient }),
        15_000,
        `${name} in Node`,
      );
      t.ok(chromium.length > 0, 'the browser recorded events');
      const disagreement = DISAGREEMENTS[name];
      if (gecko === undefined || disagreement === undefined) {
        if (gecko !== undefined) t.same(gecko, chromium, `Firefox agrees with Chromium: ${JSON.stringify(gecko)}`);
        t.same(inNode, chromium, `Chromium: ${JSON.stringify(chromium)}`);
        return;
      }
      // The browsers differ: Node follows the one the standard sides with.
      t.comment(`Chromium: ${JSON.stringify(chromium)}; Firefox: ${JSON.stringify(gecko)}`);
      t.same(inNode, disagreement.follow === 'chromium' ? chromium : gecko, `Node follows ${disagreement.follow}`);
    });
  }
});
