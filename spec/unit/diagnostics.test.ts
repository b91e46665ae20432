// src/diagnostics.ts: each publish function reads nothing and publishes
// nothing while its channel has no subscriber, and publishes the documented
// payload once one subscribes.

import diagnosticsChannel from 'node:diagnostics_channel';
import type { Duplex } from 'node:stream';
import t from 'tap';
import { publishEventSource, publishWebSocketOpen, publishWebSocketPing } from '../../src/diagnostics.js';

/** A stand-in transport that counts how often the open payload's transport check looks at it. */
function countingSocket(h2: boolean): { socket: Duplex; looks: () => number } {
  let looks = 0;
  const socket = new Proxy(h2 ? { session: {} } : {}, {
    has(target, key) {
      looks += 1;
      return Reflect.has(target, key);
    },
  }) as unknown as Duplex;
  return { socket, looks: () => looks };
}

t.test('publishWebSocketOpen', async (t) => {
  t.test('builds nothing without a subscriber', async (t) => {
    const { socket, looks } = countingSocket(false);
    publishWebSocketOpen({}, 'server', 'ws://x/', '', '', socket);
    t.equal(looks(), 0);
  });

  t.test('names the transport: h2 for an HTTP/2 stream, http/1.1 for a socket', async (t) => {
    const seen: unknown[] = [];
    const subscriber = (message: unknown): void => {
      seen.push(message);
    };
    diagnosticsChannel.subscribe('isosocket:websocket:open', subscriber);
    t.teardown(() => {
      diagnosticsChannel.unsubscribe('isosocket:websocket:open', subscriber);
    });
    const h1 = countingSocket(false);
    const h2 = countingSocket(true);
    const websocket = {};
    publishWebSocketOpen(websocket, 'client', 'ws://x/', 'chat', 'permessage-deflate', h1.socket);
    publishWebSocketOpen(websocket, 'server', 'wss://x/', '', '', h2.socket);
    t.equal(h1.looks(), 1);
    t.same(seen, [
      {
        websocket,
        role: 'client',
        url: 'ws://x/',
        protocol: 'chat',
        extensions: 'permessage-deflate',
        transport: 'http/1.1',
      },
      { websocket, role: 'server', url: 'wss://x/', protocol: '', extensions: '', transport: 'h2' },
    ]);
  });
});

t.test('publishWebSocketPing and publishEventSource pick their channel', async (t) => {
  const seen: string[] = [];
  const names = [
    'isosocket:websocket:ping',
    'isosocket:websocket:pong',
    'isosocket:eventsource:open',
    'isosocket:eventsource:close',
  ];
  for (const name of names) {
    const subscriber = (): void => {
      seen.push(name);
    };
    diagnosticsChannel.subscribe(name, subscriber);
    t.teardown(() => {
      diagnosticsChannel.unsubscribe(name, subscriber);
    });
  }
  publishWebSocketPing({}, 'server', Buffer.alloc(0), false);
  publishWebSocketPing({}, 'server', Buffer.alloc(0), true);
  publishEventSource({}, 'client', 'http://x/', '', false);
  publishEventSource({}, 'client', 'http://x/', '', true);
  t.same(seen, names);
});
