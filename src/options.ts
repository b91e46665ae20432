// The WebSocket option types and their validation; the transport options
// (TLS, proxy, HTTP/2, handshakeTimeout...) are ./net/options.ts's.
//
// References:
// - faye-websocket README, "Initialization options" (the option names kept here)
// - WHATWG WebSockets, binaryType: https://websockets.spec.whatwg.org/#dom-websocket-binarytype

import { constants } from 'node:buffer';
import { type BinaryType, binaryType } from './dom/data.js';
import { validateHeaders } from './net/headers.js';
import {
  CONNECT_OPTION_KEYS,
  type ConnectOptions,
  type ResolvedTransport,
  resolveTransport,
  TRANSPORT_OPTION_KEYS,
  type TransportOptions,
} from './net/options.js';
import { optionHint } from './option-hints.js';
import { defaultMaxFragments } from './protocol/connection.js';
import {
  type ExtensionConfig,
  type PerMessageDeflateOptions,
  resolveExtensions,
  type WebSocketExtension,
} from './protocol/extensions.js';
import type { ProtocolChooser } from './protocol/handshake.js';

export type { BinaryType, WebBinaryType } from './dom/data.js';
// websocket/base.ts reads binaryType() from here.
export { binaryType } from './dom/data.js';
export type { ConnectOptions, ProxyOptions, TransportOptions } from './net/options.js';
export type { PerMessageDeflateOptions, WebSocketExtension } from './protocol/extensions.js';
export type { ProtocolChooser } from './protocol/handshake.js';

/** Options both the server socket and the client accept (faye-websocket's names). */
export interface WebSocketOptions<B extends BinaryType = BinaryType> {
  /** Extensions to offer or accept, e.g. `[deflate]` from `permessage-deflate`. */
  extensions?: readonly WebSocketExtension[];
  /** Extra headers for the handshake (response on the server, request on the client). */
  headers?: Readonly<Record<string, string | number>>;
  /** Largest message accepted, in bytes; bigger ones close with 1009. Default 2^26 - 1. */
  maxLength?: number;
  /**
   * Most frames one message may arrive in; past it the connection closes with
   * 1009 'Too many message fragments'. Default `max(16384, floor(maxLength / 64))`
   * (1,048,575 for the default maxLength), so a message in fragments of 64
   * bytes or more is only limited by its size.
   */
  maxFragments?: number;
  /** Seconds between pings; a missing pong by the next ping closes the connection. */
  ping?: number;
  /** Milliseconds to wait for the closing handshake before dropping TCP. Default 30000. */
  closeTimeout?: number;
  /** How binary messages are delivered; see {@link BinaryType}. */
  binaryType?: B;
  /**
   * permessage-deflate (RFC 7692), ws's option: `true`, or its parameters.
   * Off by default on the server; the client offers it by default, as
   * browsers do (`false` turns it off). Inflation stops at maxLength.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** Options of the server-side `WebSocket`. */
export interface ServerOptions extends WebSocketOptions {
  /**
   * Chooses the subprotocol from those the client offered (ws's name); its
   * answer must be one of them, or false for none. Overrides `protocols`.
   */
  handleProtocols?: ProtocolChooser;
  /**
   * Behind a TLS-terminating proxy: let `X-Forwarded-Proto: https` (and the
   * like) make `url` `wss:`, as Express's `trust proxy`. Off by default: the
   * socket decides, and a client cannot.
   */
  trustProxy?: boolean;
}

/** Options of `WebSocket.Client`. */
export interface ClientOptions<B extends BinaryType = BinaryType>
  extends WebSocketOptions<B>,
    TransportOptions,
    ConnectOptions {}

/** The default of `maxLength`, as faye-websocket: 2^26 - 1 bytes. */
export const DEFAULT_MAX_LENGTH = 0x3ffffff;

/** The default of `closeTimeout`, in milliseconds. */
export const DEFAULT_CLOSE_TIMEOUT = 30_000;

const SHARED_OPTION_KEYS = [
  'extensions',
  'headers',
  'maxLength',
  'maxFragments',
  'ping',
  'closeTimeout',
  'binaryType',
  'perMessageDeflate',
] as const;

export const SERVER_OPTION_KEYS = [...SHARED_OPTION_KEYS, 'handleProtocols', 'trustProxy'] as const;

export const CLIENT_OPTION_KEYS = [...SHARED_OPTION_KEYS, ...TRANSPORT_OPTION_KEYS, ...CONNECT_OPTION_KEYS] as const;

/**
 * Throws a TypeError when `options` has a key not in `validKeys`
 * (faye-websocket's `validateOptions`, with a TypeError).
 */
export function validateOptionKeys(options: unknown, validKeys: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object') {
    throw new TypeError('Options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!validKeys.includes(key)) {
      throw new TypeError(`Unrecognized option: ${JSON.stringify(key)}. Valid options are: ${validKeys.join(', ')}`);
    }
  }
}

/**
 * Reads the Node-only options of a browser-shaped constructor the way WebIDL
 * reads a dictionary: a key that is not an option name is ignored, since
 * browser code passes objects and extra arguments that are not ours. A key
 * that looks like an option name and is not one of `validKeys` (a near-typo
 * of one, another library's option name, or a name holding `ping`, `tls`,
 * `proxy`, `headers`, `origin`, `timeout`...) is a TypeError saying what to
 * write, so a mistake in our options never passes silently.
 *
 * @param value The argument: `WebSocket.Client`'s third, `EventSource.Client`'s second.
 * @param nonObject What a value that is not an object means: `'ignore'` for an
 * extra argument (a browser ignores it), `'throw'` for a WebIDL dictionary
 * (a TypeError, as browsers throw).
 * @returns The options among its keys (a new object), or undefined.
 */
export function readBrowserOptions<T extends object>(
  value: unknown,
  validKeys: readonly string[],
  nonObject: 'ignore' | 'throw',
): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') {
    if (nonObject === 'ignore') return undefined;
    throw new TypeError(`Options must be an object, not ${typeof value}`);
  }
  const options: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(value)) {
    if (validKeys.includes(key)) {
      options[key] = option;
      continue;
    }
    const hint = optionHint(key, validKeys);
    if (hint !== undefined) {
      throw new TypeError(
        `Unrecognized option: ${JSON.stringify(key)} (${hint}). Valid options are: ${validKeys.join(', ')}`,
      );
    }
  }
  return options as T;
}

/** WebSocket options with every default filled in and every value checked. */
export interface ResolvedOptions {
  extensions: ExtensionConfig;
  headers: Array<[string, string]>;
  maxLength: number;
  maxFragments: number;
  ping: number;
  closeTimeout: number;
  binaryType: BinaryType;
}

/** Checks the options both sockets share; throws a TypeError naming the bad one. */
export function resolveOptions(
  options: WebSocketOptions<BinaryType> | undefined,
  validKeys: readonly string[],
  role: 'server' | 'client',
): ResolvedOptions {
  validateOptionKeys(options, validKeys);
  return resolveSocketOptions(options ?? {}, role);
}

/** `WebSocket.Client`'s options, each resolved once: the socket's and the transport's. */
export interface ResolvedClientOptions {
  socket: ResolvedOptions;
  transport: ResolvedTransport;
}

/**
 * Reads `WebSocket.Client`'s third argument as {@link readBrowserOptions}
 * does (a key not ours is ignored, a near-miss is a TypeError) and resolves
 * it in one pass: the options both sockets share, then the transport's.
 */
export function resolveClientOptions(value: unknown): ResolvedClientOptions {
  const given = readBrowserOptions<ClientOptions>(value, CLIENT_OPTION_KEYS, 'ignore') ?? {};
  return { socket: resolveSocketOptions(given, 'client'), transport: resolveTransport(given) };
}

/** The options both sockets share, their keys already checked. */
function resolveSocketOptions(given: WebSocketOptions<BinaryType>, role: 'server' | 'client'): ResolvedOptions {
  const maxLength = positive(given.maxLength, 'maxLength', DEFAULT_MAX_LENGTH, true);
  if (maxLength > constants.MAX_LENGTH) {
    throw new TypeError(`maxLength must be at most ${constants.MAX_LENGTH} bytes (the largest Buffer)`);
  }
  // The client offers permessage-deflate unless told not to, as browsers do,
  // and unless the application gave it in `extensions`.
  const offersDeflate =
    Array.isArray(given.extensions) && given.extensions.some((e) => e?.name === 'permessage-deflate');
  const perMessageDeflate = given.perMessageDeflate ?? (role === 'client' && !offersDeflate ? true : undefined);
  return {
    extensions: resolveExtensions(given.extensions, perMessageDeflate, role, maxLength),
    headers: validateHeaders(given.headers, 'headers'),
    maxLength,
    maxFragments: fragments(given.maxFragments, maxLength),
    ping: positive(given.ping, 'ping', 0, false),
    closeTimeout: positive(given.closeTimeout, 'closeTimeout', DEFAULT_CLOSE_TIMEOUT, false),
    binaryType: binaryType(given.binaryType ?? (role === 'client' ? 'blob' : 'nodebuffer')),
  };
}

/** `maxFragments`: a positive integer, by default one frame per 64 bytes of maxLength (connection.ts). */
function fragments(value: unknown, maxLength: number): number {
  if (value === undefined) return defaultMaxFragments(maxLength);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError('maxFragments must be a positive integer');
  }
  return value;
}

function positive(value: unknown, name: string, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${name} must be a non-negative ${integer ? 'integer' : 'number'}`);
  }
  return value;
}
