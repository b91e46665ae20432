// diagnostics_channel events for every WebSocket and event stream, for APM
// and OpenTelemetry instrumentations: names and payloads are documented in
// docs/diagnostics.md.
//
// Calling contract: a caller checks `channel.hasSubscribers` before it builds
// a payload, so that nothing is allocated when no one listens (the publish
// functions below do it for the caller: each takes the fields it needs as
// arguments, not a payload object). Publishing never throws into the caller:
// diagnostics_channel itself reports a subscriber's exception on
// process.nextTick as an uncaught exception, as undici's channels do.
//
// The names mirror undici's (`undici:websocket:open`, `:close`, `:ping`,
// `:pong`, lib/core/diagnostics.js) where they mean the same. undici's
// `socket_error` carries a raw socket error only; ours, `:error`, is
// published when the WebSocket dispatches its error event (a failed
// connection), with the WebSocket beside the error, so it has its own name.
//
// References:
// - Node.js, Diagnostics Channel: https://nodejs.org/api/diagnostics_channel.html
// - nodejs/undici docs/docs/api/DiagnosticsChannel.md and lib/core/diagnostics.js

import diagnosticsChannel from 'node:diagnostics_channel';
import type { Duplex } from 'node:stream';

/** Which end of the connection an object is. */
export type DiagnosticsRole = 'server' | 'client';

/** How a WebSocket travels: an HTTP/1.1 upgrade, or an HTTP/2 extended CONNECT stream (RFC 8441). */
export type DiagnosticsTransport = 'http/1.1' | 'h2';

/** The payload of `isosocket:websocket:open`. */
export interface WebSocketOpenMessage<W = unknown> {
  websocket: W;
  role: DiagnosticsRole;
  url: string;
  protocol: string;
  extensions: string;
  transport: DiagnosticsTransport;
}

/** The payload of `isosocket:websocket:close`: the close event's fields. */
export interface WebSocketCloseMessage<W = unknown> {
  websocket: W;
  role: DiagnosticsRole;
  url: string;
  code: number;
  reason: string;
  wasClean: boolean;
}

/** The payload of `isosocket:websocket:error`: the error event's fields. */
export interface WebSocketErrorMessage<W = unknown> {
  websocket: W;
  role: DiagnosticsRole;
  url: string;
  message: string;
  error: unknown;
}

/** The payload of `isosocket:websocket:ping` and `:pong`: a frame that arrived. */
export interface WebSocketPingMessage<W = unknown> {
  websocket: W;
  role: DiagnosticsRole;
  /** The frame's application data (0 to 125 bytes). */
  payload: Buffer;
}

/** The payload of `isosocket:eventsource:open` and `:close`. */
export interface EventSourceMessage<E = unknown> {
  eventSource: E;
  role: DiagnosticsRole;
  url: string;
  lastEventId: string;
}

/**
 * The channels isosocket publishes to, by name; subscribe with
 * `diagnostics_channel.subscribe(name, fn)` or through these objects.
 * @see https://nodejs.org/api/diagnostics_channel.html
 * @example
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * diagnosticsChannel.subscribe('isosocket:websocket:close', ({ role, code }) => count(role, code));
 */
export const channels = {
  websocketOpen: diagnosticsChannel.channel('isosocket:websocket:open'),
  websocketClose: diagnosticsChannel.channel('isosocket:websocket:close'),
  websocketError: diagnosticsChannel.channel('isosocket:websocket:error'),
  websocketPing: diagnosticsChannel.channel('isosocket:websocket:ping'),
  websocketPong: diagnosticsChannel.channel('isosocket:websocket:pong'),
  eventSourceOpen: diagnosticsChannel.channel('isosocket:eventsource:open'),
  eventSourceClose: diagnosticsChannel.channel('isosocket:eventsource:close'),
} as const;

/** @internal A WebSocket opened (after its open event's ready state change, before the event). */
export function publishWebSocketOpen(
  websocket: unknown,
  role: DiagnosticsRole,
  url: string,
  protocol: string,
  extensions: string,
  socket: Duplex | undefined,
): void {
  const channel = channels.websocketOpen;
  if (!channel.hasSubscribers) return;
  // An Http2Stream has a session; a net.Socket or tls.TLSSocket has none.
  const transport: DiagnosticsTransport = socket !== undefined && 'session' in socket ? 'h2' : 'http/1.1';
  channel.publish({ websocket, role, url, protocol, extensions, transport } satisfies WebSocketOpenMessage);
}

/** @internal A WebSocket closed (just before its close event). */
export function publishWebSocketClose(
  websocket: unknown,
  role: DiagnosticsRole,
  url: string,
  code: number,
  reason: string,
  wasClean: boolean,
): void {
  const channel = channels.websocketClose;
  if (!channel.hasSubscribers) return;
  channel.publish({ websocket, role, url, code, reason, wasClean } satisfies WebSocketCloseMessage);
}

/** @internal A WebSocket failed (just before its error event). */
export function publishWebSocketError(
  websocket: unknown,
  role: DiagnosticsRole,
  url: string,
  message: string,
  error: unknown,
): void {
  const channel = channels.websocketError;
  if (!channel.hasSubscribers) return;
  channel.publish({ websocket, role, url, message, error } satisfies WebSocketErrorMessage);
}

/** @internal A ping (`pong` false) or a pong (`pong` true) frame arrived. */
export function publishWebSocketPing(websocket: unknown, role: DiagnosticsRole, payload: Buffer, pong: boolean): void {
  const channel = pong ? channels.websocketPong : channels.websocketPing;
  if (!channel.hasSubscribers) return;
  channel.publish({ websocket, role, payload } satisfies WebSocketPingMessage);
}

/** @internal An event stream opened (`close` false) or closed (`close` true). */
export function publishEventSource(
  eventSource: unknown,
  role: DiagnosticsRole,
  url: string,
  lastEventId: string,
  close: boolean,
): void {
  const channel = close ? channels.eventSourceClose : channels.eventSourceOpen;
  if (!channel.hasSubscribers) return;
  channel.publish({ eventSource, role, url, lastEventId } satisfies EventSourceMessage);
}
