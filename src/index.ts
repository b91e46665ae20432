// isosocket's public barrel. The default export is the server-side WebSocket
// class with the rest attached, as faye-websocket's module is:
// `WebSocket.Client`, `WebSocket.EventSource`.
//
// References:
// - faye-websocket lib/faye/websocket.js (the export shape kept here)

import { WebSocket } from './websocket.js';

export { CloseEvent, type CloseEventInit, ErrorEvent, type ErrorEventInit, type WebSocketEventMap } from './events.js';
export { WebSocketBase } from './internal/core.js';
export type {
  BinaryType,
  ServerOptions,
  WebSocketExtension,
  WebSocketOptions,
} from './options.js';
export { WebSocket };
export default WebSocket;
