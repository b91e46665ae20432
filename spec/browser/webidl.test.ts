// WebIDL parity with Chromium: the same description function runs over
// Chromium's WebSocket, CloseEvent, ErrorEvent, EventSource, WebSocketStream
// and WebSocketError and over isosocket's classes, and the descriptions must
// be equal (interface object name and length, prototype chains, every
// enumerable member's property descriptor, getter names, operation lengths,
// brand checks, constants, @@toStringTag). Node-only members are
// non-enumerable, so they stay out of the comparison, as they stay out of a
// `for...in`. Then the connection serialization of RFC 6455 §4.1, observed
// by one server, in Chromium and in Node.

import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import t, { type Test } from 'tap';
import {
  Client,
  CloseEvent,
  ErrorEvent,
  EventSourceClient,
  WebSocket,
  WebSocketError,
  WebSocketStream,
} from '../../src/index.js';
import { openPage } from '../helpers/browser.js';
import { listenOnTwoHosts } from '../helpers/listen.js';

type Described = Record<string, unknown>;

// Sent to the browser as source text: self-contained.
const describeInterfaces = (interfaces: Record<string, [Function, Function | null]>): Described => {
  const describe = (target: object, key: PropertyKey): Described | null => {
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (descriptor === undefined) return null;
    const brand = (fn: Function | undefined): string => {
      if (fn === undefined) return 'none';
      try {
        const result = fn.call({});
        if (result instanceof Promise) {
          // WebIDL: a promise-typed attribute rejects rather than throws.
          result.catch(() => {});
          return 'returns a promise';
        }
        return 'no check';
      } catch (error) {
        return (error as Error).constructor.name;
      }
    };
    if ('value' in descriptor) {
      return {
        kind: typeof descriptor.value === 'function' ? 'operation' : 'value',
        writable: descriptor.writable,
        enumerable: descriptor.enumerable,
        configurable: descriptor.configurable,
        value: typeof descriptor.value === 'function' ? `length ${descriptor.value.length}` : descriptor.value,
        brand: typeof descriptor.value === 'function' && key !== 'constructor' ? brand(descriptor.value) : 'n/a',
      };
    }
    return {
      kind: 'accessor',
      enumerable: descriptor.enumerable,
      configurable: descriptor.configurable,
      get: descriptor.get ? `${descriptor.get.name} ${descriptor.get.length}` : 'none',
      set: descriptor.set ? `${descriptor.set.name} ${descriptor.set.length}` : 'none',
      brand: brand(descriptor.get),
    };
  };
  const out: Described = {};
  for (const [name, [Interface, Parent]] of Object.entries(interfaces)) {
    const prototype = Interface.prototype as object;
    const enumerable = Object.keys(prototype).sort();
    const statics = Object.keys(Interface).sort();
    out[name] = {
      name: Interface.name,
      length: Interface.length,
      prototypeInherits: Object.getPrototypeOf(prototype) === (Parent === null ? Object.prototype : Parent.prototype),
      interfaceInherits: Object.getPrototypeOf(Interface) === (Parent === null ? Function.prototype : Parent),
      prototypeProperty: { ...describe(Interface, 'prototype'), value: 'the prototype' },
      constructor: describe(prototype, 'constructor'),
      toStringTag: describe(prototype, Symbol.toStringTag),
      members: Object.fromEntries(enumerable.map((key) => [key, describe(prototype, key)])),
      statics: Object.fromEntries(statics.map((key) => [key, describe(Interface, key)])),
    };
  }
  return out;
};

t.test('the interfaces are described identically in Chromium and in Node', async (t) => {
  const server = http.createServer((_request, response) =>
    response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>webidl</title>'),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const opened = await openPage(t, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  if (!opened) return;
  const { page } = opened;
  const inBrowser = (await page.evaluate(
    `(${describeInterfaces.toString()})({
      WebSocket: [WebSocket, EventTarget],
      CloseEvent: [CloseEvent, Event],
      ErrorEvent: [ErrorEvent, Event],
      EventSource: [EventSource, EventTarget],
      WebSocketStream: [WebSocketStream, null],
      WebSocketError: [WebSocketError, DOMException],
    })`,
  )) as Described;
  const inNode = describeInterfaces({
    WebSocket: [Client, EventTarget],
    CloseEvent: [CloseEvent, Event],
    ErrorEvent: [ErrorEvent, Event],
    EventSource: [EventSourceClient, EventTarget],
    WebSocketStream: [WebSocketStream, null],
    WebSocketError: [WebSocketError, DOMException],
  });
  // Known, documented difference: ErrorEvent prints as [object Event], what
  // browsers print for the plain Event of a WebSocket's error.
  t.same((inNode.ErrorEvent as Described).toStringTag, {
    kind: 'value',
    writable: false,
    enumerable: false,
    configurable: true,
    value: 'Event',
    brand: 'n/a',
  });
  (inNode.ErrorEvent as Described).toStringTag = (inBrowser.ErrorEvent as Described).toStringTag;
  for (const name of Object.keys(inBrowser)) {
    t.same(inNode[name], inBrowser[name], name);
  }
});

interface Serialization {
  port: number;
  log: string[];
}

/** A server, on 127.0.0.1 and 127.0.0.2 alike, that holds the answer to `/hold` until `/release`. */
async function serializationServer(t: Test): Promise<Serialization> {
  const log: string[] = [];
  let held: (() => void) | undefined;
  let holdSeen: (() => void) | undefined;
  const onRequest = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    const path = request.url ?? '/';
    response.setHeader('Access-Control-Allow-Origin', '*');
    if (path === '/wait-for-hold') {
      if (held) response.end('held');
      else holdSeen = () => response.end('held');
    } else if (path === '/log') {
      response.end(JSON.stringify(log));
    } else if (path === '/release') {
      const answer = held;
      held = undefined;
      answer?.();
      response.end('released');
    } else if (path === '/reset') {
      log.length = 0;
      response.end('reset');
    } else {
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>serialization</title>');
    }
  };
  const onUpgrade = (request: http.IncomingMessage, socket: Socket, head: Buffer): void => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    log.push(`request ${path}`);
    const answer = (): void => {
      log.push(`answered ${path}`);
      const ws = new WebSocket(request, socket, head);
      ws.onmessage = (event) => ws.send(event.data);
    };
    if (path === '/hold') {
      held = answer;
      holdSeen?.();
      holdSeen = undefined;
    } else {
      answer();
    }
  };
  const servers = [http.createServer(onRequest), http.createServer(onRequest)] as const;
  for (const server of servers) server.on('upgrade', onUpgrade);
  const port = await listenOnTwoHosts(t, servers);
  return { port, log };
}

interface SerializationEnv {
  http: string;
  ws: string;
  otherHost: string;
  WebSocket: typeof Client;
}

// Sent to the browser as source text: self-contained.
const serializationScenario = async (env: SerializationEnv): Promise<string[]> => {
  const opened = (ws: InstanceType<SerializationEnv['WebSocket']>): Promise<void> =>
    new Promise((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`${ws.url} failed`));
    });
  await fetch(`${env.http}/reset`);
  const first = new env.WebSocket(`${env.ws}/hold`);
  const firstOpen = opened(first);
  await fetch(`${env.http}/wait-for-hold`);
  const second = new env.WebSocket(`${env.ws}/second`);
  const secondOpen = opened(second);
  const other = new env.WebSocket(`${env.otherHost}/another-host`);
  await opened(other);
  other.send('ping');
  await new Promise((resolve) => {
    other.onmessage = resolve;
  });
  const before = (await (await fetch(`${env.http}/log`)).json()) as string[];
  const result = [`while the first is held: ${before.join(', ')}`, `second: ${second.readyState}`];
  await fetch(`${env.http}/release`);
  await Promise.all([firstOpen, secondOpen]);
  const after = (await (await fetch(`${env.http}/log`)).json()) as string[];
  result.push(`at the end: ${after.join(', ')}`);
  for (const ws of [first, second, other]) ws.close();
  return result;
};

t.test('a second connection to the same host and port waits for the first, in Chromium and in Node', async (t) => {
  const server = await serializationServer(t);
  const env = {
    http: `http://127.0.0.1:${server.port}`,
    ws: `ws://127.0.0.1:${server.port}`,
    otherHost: `ws://127.0.0.2:${server.port}`,
  };
  const opened = await openPage(t, `${env.http}/`);
  if (!opened) return;
  const { page } = opened;
  const inBrowser = (await page.evaluate(
    `(${serializationScenario.toString()})({ ...${JSON.stringify(env)}, WebSocket })`,
  )) as string[];
  const inNode = await serializationScenario({ ...env, WebSocket: Client });
  t.same(inBrowser, [
    'while the first is held: request /hold, request /another-host, answered /another-host',
    'second: 0',
    'at the end: request /hold, request /another-host, answered /another-host, answered /hold, request /second, answered /second',
  ]);
  t.same(inNode, inBrowser);
});
