/// <reference path="./types/permessage-deflate.d.cts" preserve="true" />
// isosocket's public barrel. The default export is the server-side WebSocket
// class with the rest attached, as faye-websocket's module is:
// `WebSocket.Client`, `WebSocket.EventSource`, `EventSource.Client`,
// `EventSource.Channel`. The namespace is wired here, so that websocket/,
// sse/ and channel/ stand side by side and none imports another to hang it
// on itself; the static types come with it (declaration merges below).
//
// References:
// - faye-websocket lib/faye/websocket.js (the export shape kept here)
// - TypeScript handbook, "Declaration Merging" (merging namespaces with classes, module augmentation)

import { Channel } from './channel/channel.js';
import { EventSourceClient } from './sse/client.js';
import { EventSource } from './sse/endpoint.js';
import { WebSocket } from './websocket/server.js';

declare module './websocket/server.js' {
  namespace WebSocket {
    /** The server-sent events endpoint (faye: `WebSocket.EventSource`); its client is `EventSource.Client`. */
    const EventSource: typeof import('./sse/endpoint.js').EventSource;
    type EventSource = import('./sse/endpoint.js').EventSource;
  }
}

declare module './sse/endpoint.js' {
  namespace EventSource {
    /** The WHATWG EventSource client for Node. */
    const Client: typeof EventSourceClient;
    type Client = EventSourceClient;
    /** One feed for many members, streams and WebSockets: encode once, history, resume (the top-level {@link Channel}). */
    const Channel: typeof import('./channel/channel.js').Channel;
    type Channel = import('./channel/channel.js').Channel;
  }
}

// As static class fields are: writable, enumerable, configurable.
Object.assign(WebSocket, { EventSource });
Object.assign(EventSource, { Client: EventSourceClient, Channel });

export {
  type BroadcastOptions,
  Channel,
  type ChannelEventMap,
  type ChannelMember,
  type ChannelMessage,
  ChannelMessageEvent,
  type ChannelOptions,
  type ChannelStore,
  type ChannelStoreSink,
  EventSourceChannel,
  type EventSourceChannelEventMap,
  type EventSourceChannelOptions,
  OverflowEvent,
  type RegisterOptions,
  type StoredEvent,
  type ToMessage,
} from './channel/channel.js';
export type {
  DiagnosticsRole,
  DiagnosticsTransport,
  EventSourceMessage as EventSourceDiagnosticsMessage,
  WebSocketCloseMessage,
  WebSocketErrorMessage,
  WebSocketOpenMessage,
  WebSocketPingMessage,
} from './diagnostics.js';
export {
  CloseEvent,
  type CloseEventInit,
  ErrorEvent,
  type ErrorEventInit,
  type ErrorEventLike,
  type EventHandler,
  EventSourceErrorEvent,
  type EventSourceErrorEventInit,
  type EventSourceErrorEventLike,
  type WebSocketEventMap,
} from './events.js';
export { getGlobalOrigin, setGlobalOrigin } from './net/url.js';
export type {
  BinaryType,
  ClientOptions,
  PerMessageDeflateOptions,
  ProtocolChooser,
  ProxyOptions,
  ServerOptions,
  TransportOptions,
  WebBinaryType,
  WebSocketExtension,
  WebSocketOptions,
} from './options.js';
export { type ShutdownOptions, type ShutdownResult, shutdown } from './shutdown.js';
export {
  type EventSourceBody,
  type EventSourceBodyInit,
  EventSourceClient,
  type EventSourceClientInit,
  type EventSourceEventMap,
  type EventSourceRetryOptions,
} from './sse/client.js';
export {
  EventSource,
  type EventSourceOptions,
  type EventSourceServerEventMap,
  type SendOptions,
  type Serialize,
} from './sse/endpoint.js';
export { RedisChannelStore, type RedisChannelStoreOptions, type RedisClientLike } from './sse/redis.js';
export { RedisChannelStores, type RedisChannelStoresOptions, type RedisClusterLike } from './sse/redis-streams.js';
export { WebSocketBase } from './websocket/base.js';
export { Client } from './websocket/client.js';
export type { PongEvent } from './websocket/pong-event.js';
export type { SendCallback } from './websocket/sender.js';
export {
  type WebSocketClosedInfo,
  type WebSocketCloseInfo,
  WebSocketError,
  type WebSocketOpenInfo,
  WebSocketStream,
  type WebSocketStreamChunk,
  type WebSocketStreamMessage,
  type WebSocketStreamOptions,
} from './websocket/stream.js';
export { WebSocket };
export default WebSocket;
