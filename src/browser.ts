// isosocket's browser and worker entry: what `import ... from 'isosocket'`
// gives a bundle for the browser (esbuild, Vite, webpack, Rollup pick it by
// the `browser` export condition; worker bundlers by `worker`). The same
// names as the Node entry (src/index.ts), so one import works in both:
//
// - the client side is the platform's own classes: `WebSocket.Client` and
//   `Client` are the global `WebSocket`, `EventSource.Client` and
//   `EventSourceClient` the global `EventSource`; `CloseEvent`, `ErrorEvent`,
//   `WebSocketStream` and `WebSocketError` the globals of those names;
// - the server side (the default export, `EventSource`, the channels,
//   `RedisChannelStore`) needs Node.js: constructing one, or calling one of
//   its static functions, throws an Error that says what to use instead.
//
// Calling contract: importing this file reads globals only. It never touches
// `node:*` modules, `process` or `Buffer`, and imports nothing, so a browser
// bundle of a client carries a few hundred bytes of isosocket. The types are
// the Node entry's (package.json's `types` conditions point there): this
// file's own declarations are not shipped.
//
// References:
// - Node.js docs, "Packages: conditional exports" (`browser`, `worker` are
//   community conditions; bundlers try them before `import`/`require`)
// - WinterCG / WinterTC "Runtime keys" (the `worker` condition)
// - WHATWG WebSockets (the platform `WebSocket`, `CloseEvent`, `WebSocketStream`)
// - WHATWG HTML §9.2 server-sent events (the platform `EventSource`)

type AnyClass = abstract new (...args: never[]) => unknown;

const platform = globalThis as unknown as Record<string, AnyClass | undefined>;

/** A class named `name` whose construction (and every listed static function) throws `message`. */
function unavailable(name: string, message: string, statics: readonly string[] = []): AnyClass {
  const fail = (): never => {
    throw new Error(message);
  };
  // The computed key names the class `name`, so stack traces and `.name` read right.
  const stub = {
    [name]: class {
      constructor() {
        fail();
      }
    },
  }[name] as unknown as AnyClass & Record<string, unknown>;
  for (const fn of statics) stub[fn] = fail;
  return stub;
}

const BROWSER_WEBSOCKET = "WebSocket.Client (the browser's WebSocket)";
const BROWSER_EVENTSOURCE = "EventSource.Client (the browser's EventSource)";

/** The server side: it needs Node.js's http server. */
function serverSide(name: string, instead: string, statics?: readonly string[]): AnyClass {
  return unavailable(name, `isosocket: the server-side ${name} needs Node.js; in a browser use ${instead}`, statics);
}

/** The platform's class `name`, or one that throws a clear error where the platform has none. */
function fromPlatform(name: string, instead: string): AnyClass {
  return platform[name] ?? unavailable(name, `isosocket: this platform has no ${name}; use ${instead}`);
}

export const Client = fromPlatform('WebSocket', 'a runtime with a global WebSocket');
export const EventSourceClient = fromPlatform('EventSource', 'a runtime with a global EventSource');
export const CloseEvent = fromPlatform('CloseEvent', 'a runtime with a global CloseEvent');
export const ErrorEvent = fromPlatform('ErrorEvent', 'a runtime with a global ErrorEvent');
// A browser's EventSource dispatches a plain Event on error.
export const EventSourceErrorEvent = fromPlatform('Event', 'a runtime with a global Event');
// Chromium 124+ has WebSocketStream; Firefox and Safari do not yet.
export const WebSocketStream = fromPlatform('WebSocketStream', BROWSER_WEBSOCKET);
export const WebSocketError = fromPlatform('WebSocketError', BROWSER_WEBSOCKET);
// Instances of the platform's WebSocket are `instanceof WebSocketBase`, as
// the Node entry's clients and server sockets are.
export const WebSocketBase = Client;

export const Channel = serverSide('Channel', BROWSER_EVENTSOURCE);
export const EventSourceChannel = Channel;
export const ChannelMessageEvent = serverSide('ChannelMessageEvent', BROWSER_EVENTSOURCE);
export const OverflowEvent = serverSide('OverflowEvent', BROWSER_EVENTSOURCE);
export const RedisChannelStore = serverSide('RedisChannelStore', BROWSER_EVENTSOURCE);
export const RedisChannelStores = serverSide('RedisChannelStores', BROWSER_EVENTSOURCE);
export const EventSource = Object.assign(serverSide('EventSource', BROWSER_EVENTSOURCE, ['isEventSource']), {
  CONNECTING: 0,
  OPEN: 1,
  CLOSED: 2,
  Client: EventSourceClient,
  Channel: EventSourceChannel,
});
export const WebSocket = Object.assign(
  serverSide('WebSocket', BROWSER_WEBSOCKET, ['isWebSocket', 'refuse', 'shutdown', 'validateOptions']),
  { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 },
);

/** Throws: shutting a server down needs Node.js. */
export const shutdown = (WebSocket as unknown as Record<string, () => never>).shutdown;

/** The document's origin (relative URLs resolve against the page, as the platform classes do), or undefined in a worker without one. */
export function getGlobalOrigin(): URL | undefined {
  const location = (globalThis as { location?: { origin?: string } }).location;
  return location?.origin && location.origin !== 'null' ? new URL(location.origin) : undefined;
}

/** Throws: in a browser, relative URLs resolve against the document's URL, which a script cannot replace. */
export function setGlobalOrigin(_origin: string | URL | undefined): void {
  throw new Error(
    "isosocket: setGlobalOrigin is for Node.js; in a browser relative URLs resolve against the page's URL",
  );
}

// `WebSocket.Client`, `WebSocket.EventSource`...: everything attached to the
// default export, as the Node entry's (scripts/build.mjs, main.cjs) is.
Object.assign(WebSocket, {
  Channel,
  ChannelMessageEvent,
  Client,
  CloseEvent,
  ErrorEvent,
  EventSource,
  EventSourceChannel,
  EventSourceClient,
  EventSourceErrorEvent,
  getGlobalOrigin,
  OverflowEvent,
  RedisChannelStore,
  RedisChannelStores,
  setGlobalOrigin,
  shutdown,
  WebSocketBase,
  WebSocketError,
  WebSocketStream,
  WebSocket,
  default: WebSocket,
});

export default WebSocket;
