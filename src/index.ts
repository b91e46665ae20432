/// <reference path="./types/permessage-deflate.d.cts" preserve="true" />
// isosocket's public barrel. The default export is the server-side WebSocket
// class with the rest attached, as faye-websocket's module is:
// `WebSocket.Client`, `WebSocket.EventSource`.
//
// References:
// - faye-websocket lib/faye/websocket.js (the export shape kept here)

import { WebSocket } from './websocket/server.js';

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
export {
  type BroadcastOptions,
  ChannelMessageEvent,
  type ChannelStore,
  type ChannelStoreSink,
  EventSourceChannel,
  type EventSourceChannelEventMap,
  type EventSourceChannelOptions,
  OverflowEvent,
  type StoredEvent,
} from './sse/channel.js';
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
