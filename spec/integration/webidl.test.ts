// WebSocket.Client, EventSource.Client and the event classes as WebIDL
// defines browsers' interfaces: members on the interface's own prototype,
// permanent constants, @@toStringTag, brand checks, argument counts and
// conversions. Real servers where a connection is involved; the browser's own
// shapes are compared in spec/browser/webidl.test.ts.

import http from 'node:http';
import t, { type Test } from 'tap';
import {
  Client,
  CloseEvent,
  ErrorEvent,
  EventSourceClient,
  WebSocket,
  WebSocketBase,
  WebSocketError,
  WebSocketStream,
} from '../../src/index.js';
import { nextWithin } from '../helpers/bounded.js';
import { freePort, listen } from '../helpers/listen.js';
import { isoPeer, PEERS, rawServer } from '../helpers/servers.js';
import { trace } from '../helpers/trace.js';

const MEMBERS = [
  'url',
  'readyState',
  'bufferedAmount',
  'onopen',
  'onerror',
  'onclose',
  'extensions',
  'protocol',
  'close',
  'onmessage',
  'binaryType',
  'send',
];
const CONSTANTS = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };

/** Runs `change` on a prototype property, restoring it with the test. */
function patch(t: Test, target: object, key: string, change: () => void): void {
  const saved = Object.getOwnPropertyDescriptor(target, key) as PropertyDescriptor;
  t.teardown(() => Object.defineProperty(target, key, saved));
  change();
}

t.test('WebSocket.Client is a WebIDL interface', async (t) => {
  t.test('its prototype holds every member itself and inherits from EventTarget.prototype directly', async (t) => {
    t.equal(Object.getPrototypeOf(Client.prototype), EventTarget.prototype);
    t.equal(Object.getPrototypeOf(Client), EventTarget);
    for (const member of MEMBERS) {
      const descriptor = Object.getOwnPropertyDescriptor(Client.prototype, member);
      t.ok(descriptor, `${member} is an own property`);
      t.equal(descriptor?.enumerable, true, `${member} is enumerable`);
      t.equal(descriptor?.configurable, true, `${member} is configurable`);
    }
    t.same(
      Object.keys(Client.prototype).sort(),
      [...MEMBERS, ...Object.keys(CONSTANTS)].sort(),
      'the enumerable members are exactly the interface members: Node-only ones are not enumerable',
    );
  });

  t.test('deleting an attribute from the prototype removes it: nothing further up supplies it', async (t) => {
    const server = await isoPeer(t);
    const ws = new Client(server.url);
    t.teardown(() => ws.close());
    patch(t, Client.prototype, 'url', () => {
      t.ok(Reflect.deleteProperty(Client.prototype, 'url'));
    });
    t.equal(ws.url, undefined);
    t.equal('url' in ws, false);
  });

  t.test('a getter a script defines on the prototype is what instances show (WPT url/005)', async (t) => {
    patch(t, Client.prototype, 'bufferedAmount', () =>
      Object.defineProperty(Client.prototype, 'bufferedAmount', { get: () => 'foo', configurable: true }),
    );
    const ws = new Client(`ws://127.0.0.1:${await freePort()}/`);
    ws.onerror = () => {};
    t.equal(ws.bufferedAmount, 'foo');
    await nextWithin(ws, 'close');
  });

  t.test(
    'with readyState deleted from the prototype, close() while CONNECTING still fails the connection',
    async (t) => {
      const server = await rawServer(t, () => undefined);
      patch(t, Client.prototype, 'readyState', () => Reflect.deleteProperty(Client.prototype, 'readyState'));
      const ws = new Client(server.url);
      const events = trace(ws, ['open', 'error', 'close']);
      ws.close();
      await nextWithin(ws, 'close');
      t.same(
        events.map((event) => event.replace(/@.*/, '')),
        ['error', 'close:1006'],
      );
    },
  );

  t.test('the constants are read-only and permanent, on the interface object and its prototype', async (t) => {
    for (const [name, value] of Object.entries(CONSTANTS)) {
      for (const target of [Client, Client.prototype]) {
        t.same(Object.getOwnPropertyDescriptor(target, name), {
          value,
          writable: false,
          enumerable: true,
          configurable: false,
        });
        t.throws(() => {
          (target as unknown as Record<string, number>)[name] = 5;
        }, TypeError);
        t.equal(Reflect.deleteProperty(target, name), false, `delete ${name}`);
        t.throws(() => Object.defineProperty(target, name, { get: () => 'foo' }), TypeError);
        t.equal((target as unknown as Record<string, number>)[name], value);
      }
    }
  });

  t.test('it prints, names and counts as the browser interface does', async (t) => {
    const ws = new Client(`ws://127.0.0.1:${await freePort()}/`);
    ws.onerror = () => {};
    t.equal(String(ws), '[object WebSocket]');
    t.equal(Object.prototype.toString.call(Client.prototype), '[object WebSocket]');
    t.equal(Client.name, 'WebSocket');
    t.equal(Client.length, 1);
    t.equal(Client.prototype.send.length, 1);
    t.equal(Client.prototype.close.length, 0);
    t.same(Object.getOwnPropertyDescriptor(Client, 'prototype'), {
      value: Client.prototype,
      writable: false,
      enumerable: false,
      configurable: false,
    });
    await nextWithin(ws, 'close');
  });

  t.test('its getters and operations refuse an object that is not a WebSocket', async (t) => {
    for (const member of ['url', 'readyState', 'bufferedAmount', 'protocol', 'extensions', 'binaryType']) {
      const getter = Object.getOwnPropertyDescriptor(Client.prototype, member)?.get as () => unknown;
      t.throws(() => getter.call({}), TypeError, member);
      t.throws(() => getter.call(new EventTarget()), TypeError, member);
    }
    t.throws(() => Client.prototype.send.call({} as never, 'x'), TypeError);
    t.throws(() => (Client as unknown as (url: string) => void)('ws://127.0.0.1:1/'), {
      name: 'TypeError',
      message: /Please use the 'new' operator/,
    });
  });

  t.test("every setter refuses an object that is not a WebSocket: 'Illegal invocation' (WPT idlharness)", async (t) => {
    for (const prototype of [Client.prototype, WebSocket.prototype]) {
      for (const member of ['binaryType', 'onopen', 'onmessage', 'onerror', 'onclose']) {
        const descriptor =
          Object.getOwnPropertyDescriptor(prototype, member) ??
          Object.getOwnPropertyDescriptor(Object.getPrototypeOf(prototype), member);
        const set = descriptor?.set as (value: unknown) => void;
        const get = descriptor?.get as () => unknown;
        const value = member === 'binaryType' ? 'arraybuffer' : null;
        for (const other of [{}, new EventTarget()]) {
          t.throws(() => set.call(other, value), { name: 'TypeError', message: 'Illegal invocation' }, `set ${member}`);
          t.throws(() => get.call(other), { name: 'TypeError', message: 'Illegal invocation' }, `get ${member}`);
        }
      }
    }
  });

  t.test('instanceof: the client is a Client and a WebSocketBase; the server socket is neither a Client', async (t) => {
    const client = new Client(`ws://127.0.0.1:${await freePort()}/`);
    client.onerror = () => {};
    t.ok(client instanceof Client);
    t.ok(client instanceof WebSocketBase);
    t.ok(client instanceof EventTarget);
    t.notOk(client instanceof WebSocket, 'not the server class');
    t.notOk({} instanceof WebSocketBase);
    t.notOk(Object.create(Client.prototype) instanceof WebSocketBase, 'a bare prototype object has no state');
    await nextWithin(client, 'close');
    const sockets: WebSocket[] = [];
    const upgrades = http.createServer();
    upgrades.on('upgrade', (request, socket, head) => sockets.push(new WebSocket(request, socket, head)));
    const port = await listen(t, upgrades);
    const other = new Client(`ws://127.0.0.1:${port}/`);
    await nextWithin(other, 'open');
    const serverSocket = sockets[0] as WebSocket;
    t.ok(serverSocket instanceof WebSocket);
    t.ok(serverSocket instanceof WebSocketBase);
    t.notOk(serverSocket instanceof Client);
    t.equal(String(serverSocket), '[object WebSocket]');
    other.close();
    await nextWithin(other, 'close');
  });

  t.test('a subclass constructs, opens and keeps its own prototype', async (t) => {
    const server = await isoPeer(t);
    class Mine extends Client {
      readonly label = 'mine';
      hello(): void {
        this.send(`hello from ${this.label}`);
      }
    }
    const ws = new Mine(server.url);
    t.ok(ws instanceof Mine);
    t.ok(ws instanceof Client);
    t.equal(Object.getPrototypeOf(ws), Mine.prototype);
    await nextWithin(ws, 'open');
    ws.hello();
    t.equal((await nextWithin<MessageEvent>(ws, 'message')).data, 'hello from mine');
    ws.close();
    await nextWithin(ws, 'close');
  });
});

t.test('the event classes', async (t) => {
  t.test('CloseEvent prints as [object CloseEvent] and its getters refuse other events', async (t) => {
    const event = new CloseEvent('close', { code: 4000, reason: 'r', wasClean: true });
    t.equal(String(event), '[object CloseEvent]');
    t.equal(CloseEvent.length, 1);
    for (const member of ['code', 'reason', 'wasClean']) {
      const descriptor = Object.getOwnPropertyDescriptor(CloseEvent.prototype, member);
      t.equal(descriptor?.enumerable, true, member);
      t.throws(() => descriptor?.get?.call(new Event('close')), TypeError, member);
    }
    t.throws(() => new (CloseEvent as unknown as new () => CloseEvent)(), {
      name: 'TypeError',
      message: /1 argument required/,
    });
  });

  t.test('ErrorEvent refuses other events, and prints as the plain Event browsers dispatch for errors', async (t) => {
    const event = new ErrorEvent('error', { message: 'm' });
    t.equal(String(event), '[object Event]');
    for (const member of ['message', 'filename', 'lineno', 'colno', 'error']) {
      t.throws(
        () => Object.getOwnPropertyDescriptor(ErrorEvent.prototype, member)?.get?.call(new Event('error')),
        TypeError,
      );
    }
  });

  for (const makePeer of PEERS) {
    t.test(
      `a message from a ${makePeer === PEERS[0] ? 'ws' : 'isosocket'} server is a MessageEvent that prints as one`,
      async (t) => {
        const peer = await makePeer(t);
        const ws = new Client(peer.url);
        await nextWithin(ws, 'open');
        ws.send('x');
        const message = await nextWithin<MessageEvent>(ws, 'message');
        t.equal(String(message), '[object MessageEvent]');
        t.ok(message instanceof globalThis.MessageEvent);
        ws.close();
        const close = await nextWithin<CloseEvent>(ws, 'close');
        t.equal(String(close), '[object CloseEvent]');
      },
    );
  }

  t.test('the server socket dispatches the same MessageEvent', async (t) => {
    const upgrades = http.createServer();
    const received = new Promise<MessageEvent>((resolve) =>
      upgrades.on('upgrade', (request, socket, head) => {
        const ws = new WebSocket(request, socket, head);
        ws.onmessage = (event) => {
          resolve(event);
          ws.close();
        };
      }),
    );
    const port = await listen(t, upgrades);
    const client = new Client(`ws://127.0.0.1:${port}/`);
    client.onopen = () => client.send('to the server');
    t.equal(String(await received), '[object MessageEvent]');
    await nextWithin(client, 'close');
  });
});

t.test('EventSource.Client, WebSocketStream and WebSocketError have their browser shapes', async (t) => {
  t.equal(EventSourceClient.name, 'EventSource');
  t.equal(Object.getPrototypeOf(EventSourceClient.prototype), EventTarget.prototype);
  t.equal(Object.prototype.toString.call(EventSourceClient.prototype), '[object EventSource]');
  for (const [name, value] of Object.entries({ CONNECTING: 0, OPEN: 1, CLOSED: 2 })) {
    for (const target of [EventSourceClient, EventSourceClient.prototype]) {
      t.same(Object.getOwnPropertyDescriptor(target, name), {
        value,
        writable: false,
        enumerable: true,
        configurable: false,
      });
    }
  }
  t.same(Object.keys(EventSourceClient.prototype).sort(), [
    'CLOSED',
    'CONNECTING',
    'OPEN',
    'close',
    'onerror',
    'onmessage',
    'onopen',
    'readyState',
    'url',
    'withCredentials',
  ]);
  t.throws(() => new (EventSourceClient as unknown as new () => EventSourceClient)(), {
    name: 'TypeError',
    message: /Failed to construct 'EventSource': 1 argument required/,
  });
  t.equal(Object.prototype.toString.call(WebSocketStream.prototype), '[object WebSocketStream]');
  t.same(Object.keys(WebSocketStream.prototype).sort(), ['close', 'closed', 'opened', 'url']);
  t.equal(WebSocketStream.length, 1);
  t.equal(WebSocketStream.prototype.close.length, 0);
  for (const promise of ['opened', 'closed']) {
    const getter = Object.getOwnPropertyDescriptor(WebSocketStream.prototype, promise)?.get as () => Promise<unknown>;
    await t.rejects(getter.call({}), TypeError, `${promise}: a promise attribute rejects rather than throws`);
  }
  t.equal(String(new WebSocketError('m')), 'WebSocketError: m');
  t.equal(Object.prototype.toString.call(new WebSocketError()), '[object WebSocketError]');
  t.equal(WebSocketError.length, 0);
  t.equal(Object.getPrototypeOf(WebSocketError.prototype), DOMException.prototype);
  t.throws(
    () => Object.getOwnPropertyDescriptor(WebSocketError.prototype, 'closeCode')?.get?.call(new DOMException()),
    TypeError,
  );
});

t.test('arguments, as WebIDL converts them', async (t) => {
  t.test('no argument is a TypeError, not a SyntaxError for "undefined"', async (t) => {
    t.throws(() => new (Client as unknown as new () => Client)(), {
      name: 'TypeError',
      message: "Failed to construct 'WebSocket': 1 argument required, but only 0 present.",
    });
    t.throws(() => new (WebSocketStream as unknown as new () => WebSocketStream)(), TypeError);
  });

  t.test(
    'a third argument that is not an options object is ignored: the connection opens (WPT constructor.any.js)',
    async (t) => {
      const peer = await isoPeer(t);
      for (const extra of ['Stray argument', 42, true, [1, 2], { foo: 1, data: 'x' }, () => {}]) {
        const ws = new Client(peer.url, [], extra as never);
        const events = trace(ws, ['open', 'error', 'close']);
        await nextWithin(ws, 'open');
        ws.close();
        await nextWithin(ws, 'close');
        t.same(
          events.map((event) => event.replace(/@.*/, '')),
          ['open', 'close:1005'],
          JSON.stringify(String(extra)),
        );
      }
    },
  );

  t.test('a key that looks like one of our options is a TypeError that says what to write', async (t) => {
    const url = 'ws://127.0.0.1:1/';
    t.throws(() => new Client(url, [], { heders: { A: 'b' } } as never), { name: 'TypeError', message: /headers/ });
    t.throws(() => new Client(url, [], { rejectUnauthorized: false } as never), {
      name: 'TypeError',
      message: /tls: \{ rejectUnauthorized \}/,
    });
    t.throws(() => new Client(url, [], { headers: 'x' } as never), TypeError, 'our options are still validated');
    t.throws(() => new EventSourceClient('http://127.0.0.1:1/', { header: {} } as never), TypeError);
    t.throws(
      () => new EventSourceClient('http://127.0.0.1:1/', 42 as never),
      TypeError,
      'a dictionary must be an object',
    );
  });

  t.test('EventSource.Client ignores init keys that are not ours, as browsers do', async (t) => {
    let requests = 0;
    const server = http.createServer((_request, response) => {
      requests++;
      response.writeHead(200, { 'Content-Type': 'text/event-stream' }).end('data: hi\n\n');
    });
    const port = await listen(t, server);
    const source = new EventSourceClient(`http://127.0.0.1:${port}/`, { foo: 1, withCredentials: true } as never);
    t.teardown(() => source.close());
    t.equal((await nextWithin<MessageEvent>(source, 'message')).data, 'hi');
    t.equal(source.withCredentials, true);
    t.equal(requests, 1);
  });

  t.test('duplicate subprotocols are compared ignoring case; other values become strings', async (t) => {
    t.throws(() => new Client('ws://127.0.0.1:1/', ['echo', 'eCho']), { name: 'SyntaxError' });
    let offered: string | undefined;
    const server = await rawServer(t, (head) => {
      offered = /\r\nSec-WebSocket-Protocol: *([^\r]*)/i.exec(head)?.[1];
      return 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n';
    });
    const ws = new Client(server.url, 42 as never);
    ws.onerror = () => {};
    await nextWithin(ws, 'close');
    t.equal(offered, '42');
  });
});
