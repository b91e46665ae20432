// Extension negotiation and per-message processing, through
// websocket-extensions' public API, with permessage-deflate bounded by
// maxLength (deflate.ts) and its zlib work limited per process.
//
// An Extensions object is made only for a connection that has extensions
// configured, and kept only if the handshake activated one. The headers are
// read by offers.ts first, within its bounds; websocket-extensions is handed
// only the elements that name a configured extension. Both packages are
// loaded by the first call that needs them (vendor.cts).
//
// References:
// - RFC 6455 §9, extensions: https://www.rfc-editor.org/rfc/rfc6455#section-9
// - RFC 7692, permessage-deflate: https://www.rfc-editor.org/rfc/rfc7692
// - faye/websocket-extensions-node README (the plugin and session contract)
// - websockets/ws lib/permessage-deflate.js (option names, threshold, the
//   zlib concurrency limit and why: memory fragmentation on Linux, ws#1369)

import type Extensions from 'websocket-extensions';
import { boundedZlib, MessageTooLargeError, type ZlibModule } from './deflate.js';
import { codecFor } from './deflate-codec.js';
import { cut, excerpt, MAX_EXTENSION_OFFERS, MAX_EXTENSION_PARAMS, readExtensionList } from './offers.js';
import lazy from './vendor.cjs';

/**
 * A websocket-extensions plugin, such as the default export of
 * `permessage-deflate` (the `extensions` option).
 */
export interface WebSocketExtension {
  readonly name: string;
  readonly type: string;
}

/**
 * permessage-deflate parameters, with ws's names. Both ends accept them; the
 * client offers them, the server answers an offer with them.
 */
export interface PerMessageDeflateOptions {
  /** The server resets its compression context after each message. */
  serverNoContextTakeover?: boolean;
  /** The client resets its compression context after each message. */
  clientNoContextTakeover?: boolean;
  /** The server's LZ77 window, 9-15 bits. */
  serverMaxWindowBits?: number;
  /** The client's LZ77 window, 9-15 bits. */
  clientMaxWindowBits?: number;
  /** zlib compression level, 0-9. */
  level?: number;
  /** zlib memory level, 1-9. */
  memLevel?: number;
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /** zlib jobs that may run at once in this process. Default 10. */
  concurrencyLimit?: number;
}

/** Everything negotiation needs, resolved from the options. */
export interface ExtensionConfig {
  /** Plugins in order of preference, permessage-deflate already bounded. */
  readonly plugins: readonly WebSocketExtension[];
  readonly maxLength: number;
  /** Outgoing messages below this size skip the extensions. */
  readonly threshold: number;
  /** zlib jobs at once for this process. */
  readonly concurrencyLimit: number;
}

export const DEFAULT_THRESHOLD = 1024;
export const DEFAULT_CONCURRENCY_LIMIT = 10;

const PER_MESSAGE_DEFLATE_KEYS: readonly string[] = [
  'serverNoContextTakeover',
  'clientNoContextTakeover',
  'serverMaxWindowBits',
  'clientMaxWindowBits',
  'level',
  'memLevel',
  'threshold',
  'concurrencyLimit',
];

interface DeflatePlugin extends WebSocketExtension {
  _options?: Record<string, unknown>;
  configure(options: Record<string, unknown>): DeflatePlugin;
}

function isDeflatePlugin(plugin: WebSocketExtension): plugin is DeflatePlugin {
  return plugin.name === 'permessage-deflate' && typeof (plugin as DeflatePlugin).configure === 'function';
}

/**
 * Resolves the `extensions` and `perMessageDeflate` options into a config;
 * throws a TypeError naming the bad option.
 */
export function resolveExtensions(
  extensions: unknown,
  perMessageDeflate: unknown,
  role: 'server' | 'client',
  maxLength: number,
): ExtensionConfig {
  const list = extensions ?? [];
  if (
    !Array.isArray(list) ||
    list.some((e) => e === null || typeof e !== 'object' || typeof (e as WebSocketExtension).name !== 'string')
  ) {
    throw new TypeError('extensions must be an array of websocket-extensions plugins');
  }
  const plugins = [...(list as WebSocketExtension[])];
  // Plugins given in `extensions` see every message, as in faye; the
  // threshold is perMessageDeflate's (ws's).
  let threshold = 0;
  let concurrencyLimit = DEFAULT_CONCURRENCY_LIMIT;
  if (perMessageDeflate !== undefined && perMessageDeflate !== false) {
    if (plugins.some((p) => p.name === 'permessage-deflate')) {
      throw new TypeError('Give permessage-deflate either in extensions or as perMessageDeflate, not both');
    }
    const params = perMessageDeflate === true ? {} : perMessageDeflate;
    if (params === null || typeof params !== 'object') {
      throw new TypeError('perMessageDeflate must be true, false or an object of parameters');
    }
    for (const key of Object.keys(params)) {
      if (!PER_MESSAGE_DEFLATE_KEYS.includes(key)) {
        throw new TypeError(
          `Unrecognized perMessageDeflate parameter: ${JSON.stringify(key)}. Valid ones are: ${PER_MESSAGE_DEFLATE_KEYS.join(', ')}`,
        );
      }
    }
    const given = params as PerMessageDeflateOptions;
    threshold = count(given.threshold, 'perMessageDeflate.threshold', DEFAULT_THRESHOLD, 0);
    concurrencyLimit = count(
      given.concurrencyLimit,
      'perMessageDeflate.concurrencyLimit',
      DEFAULT_CONCURRENCY_LIMIT,
      1,
    );
    plugins.push(
      (lazy.permessageDeflate() as unknown as DeflatePlugin).configure(
        deflateParameters(given, role),
      ) as WebSocketExtension,
    );
  }
  return {
    plugins: plugins.map((plugin) => bound(plugin, maxLength)),
    maxLength,
    threshold,
    concurrencyLimit,
  };
}

/** ws's parameter names to permessage-deflate's, seen from one end. */
function deflateParameters(given: PerMessageDeflateOptions, role: 'server' | 'client'): Record<string, unknown> {
  const own = role === 'server' ? 'server' : 'client';
  const peer = role === 'server' ? 'client' : 'server';
  const options: Record<string, unknown> = {};
  const flag = (name: keyof PerMessageDeflateOptions): boolean | undefined => {
    const value = given[name];
    if (value !== undefined && typeof value !== 'boolean')
      throw new TypeError(`perMessageDeflate.${name} must be a boolean`);
    return value;
  };
  const bits = (name: keyof PerMessageDeflateOptions): number | undefined => {
    const value = given[name];
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || (value as number) < 9 || (value as number) > 15) {
      throw new TypeError(`perMessageDeflate.${name} must be an integer from 9 to 15`);
    }
    return value as number;
  };
  const ownNoTakeover = flag(`${own}NoContextTakeover`);
  const peerNoTakeover = flag(`${peer}NoContextTakeover`);
  const ownBits = bits(`${own}MaxWindowBits`);
  const peerBits = bits(`${peer}MaxWindowBits`);
  if (ownNoTakeover !== undefined) options.noContextTakeover = ownNoTakeover;
  if (peerNoTakeover !== undefined) options.requestNoContextTakeover = peerNoTakeover;
  if (ownBits !== undefined) options.maxWindowBits = ownBits;
  if (peerBits !== undefined) options.requestMaxWindowBits = peerBits;
  if (given.level !== undefined) options.level = count(given.level, 'perMessageDeflate.level', 0, 0, 9);
  if (given.memLevel !== undefined) options.memLevel = count(given.memLevel, 'perMessageDeflate.memLevel', 0, 1, 9);
  return options;
}

function count(value: unknown, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new TypeError(
      `${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}`,
    );
  }
  return value as number;
}

/**
 * permessage-deflate reconfigured with a bounded zlib; any other plugin as it
 * is. A zlib the application configured is wrapped, not dropped: its
 * inflaters are bounded too. (permessage-deflate keeps the first value of an
 * option, so the copy is made from the unconfigured plugin with every option
 * the application set, and our zlib.)
 */
function bound(plugin: WebSocketExtension, maxLength: number): WebSocketExtension {
  if (!isDeflatePlugin(plugin)) return plugin;
  // One bounded copy per plugin and limit, not one per connection.
  let copies = boundCopies.get(plugin);
  if (copies === undefined) {
    copies = new Map();
    boundCopies.set(plugin, copies);
  }
  const cached = copies.get(maxLength);
  if (cached) return cached;
  const options = { ...(plugin._options ?? {}) };
  let root: DeflatePlugin = plugin;
  while (Object.hasOwn(root, '_options')) root = Object.getPrototypeOf(root) as DeflatePlugin;
  options.zlib = boundedZlib(maxLength, (options.zlib as ZlibModule | undefined) ?? undefined);
  const copy = root.configure(options);
  copies.set(maxLength, copy);
  return copy;
}

const boundCopies = new WeakMap<WebSocketExtension, Map<number, WebSocketExtension>>();

/** The client's side: an offer to send, and the server's answer to activate. */
export interface Offer {
  /** The Sec-WebSocket-Extensions request header, or null when nothing is offered. */
  readonly header: string | null;
  /**
   * Activates what the server accepted. Throws an Error (with a message for
   * the failure) when the answer names an extension not offered or
   * parameters not acceptable; undefined when none is active.
   */
  activate(response: string | undefined): Negotiated | undefined;
}

/** Starts a client's negotiation, or returns undefined when there is nothing to offer. */
export function offerExtensions(config: ExtensionConfig): Offer | undefined {
  if (config.plugins.length === 0) return undefined;
  const extensions = create(config);
  const header = extensions.generateOffer();
  return {
    header,
    activate(response) {
      if (response === undefined || response === '') {
        extensions.activate(undefined);
        return active(extensions, config);
      }
      // RFC 6455 §4.1 step 5: the answer may name only extensions the client
      // offered, and an extension is in use once. So an answer has at most
      // as many elements as there are plugins: read no more than that, and
      // fail on a name not offered or named twice, before
      // websocket-extensions sees anything.
      const read = readExtensionList(response, config.plugins.length);
      if (!read.complete) {
        throw new Error(
          `The server answered with more extensions than were offered (${config.plugins.length}), or one with over ${MAX_EXTENSION_PARAMS} parameters`,
        );
      }
      const names = new Set<string>();
      for (const { name } of read.elements) {
        if (!config.plugins.some((plugin) => plugin.name === name)) {
          throw new Error(`Server sent an extension response for unknown extension ${excerpt(name)}`);
        }
        if (names.has(name)) throw new Error(`Server sent two extension responses for ${excerpt(name)}`);
        names.add(name);
      }
      try {
        extensions.activate(read.elements.map((element) => element.text).join(', '));
      } catch (error) {
        // Its messages quote the parameters, which the server chose: keep them short.
        throw new Error(cut((error as Error).message, 200));
      }
      return active(extensions, config);
    },
  };
}

/**
 * The server's side: answers the client's Sec-WebSocket-Extensions offer.
 * Returns the response header and the active extensions, or undefined when
 * none was agreed. Throws a SyntaxError for a malformed header.
 *
 * Reads at most {@link MAX_EXTENSION_OFFERS} offers of at most
 * {@link MAX_EXTENSION_PARAMS} parameters each; offers past either bound are
 * declined unread (RFC 6455 §9.1: the server accepts those of the client's
 * offers it chooses; declining one is always allowed), and so are offers of
 * extensions not configured. Each plugin then chooses among its own offers,
 * in the client's order (permessage-deflate takes the first it can accept,
 * RFC 7692 §5).
 */
export function acceptExtensions(
  config: ExtensionConfig,
  offer: string | undefined,
): { header: string; negotiated: Negotiated } | undefined {
  if (config.plugins.length === 0 || offer === undefined || offer === '') return undefined;
  const { elements } = readExtensionList(offer, MAX_EXTENSION_OFFERS);
  const usable = elements.filter(({ name }) => config.plugins.some((plugin) => plugin.name === name));
  if (usable.length === 0) return undefined;
  const extensions = create(config);
  const header = extensions.generateResponse(usable.map((element) => element.text).join(', '));
  if (header === null) return undefined;
  const negotiated = active(extensions, config);
  return negotiated ? { header, negotiated } : undefined;
}

function create(config: ExtensionConfig): Extensions {
  const extensions = new (lazy.websocketExtensions())({ maxLength: config.maxLength });
  for (const plugin of config.plugins) extensions.add(plugin as Parameters<Extensions['add']>[0]);
  return extensions;
}

function active(extensions: Extensions, config: ExtensionConfig): Negotiated | undefined {
  let rsv = 0;
  for (const [bit, name] of [
    [0x40, 'rsv1'],
    [0x20, 'rsv2'],
    [0x10, 'rsv3'],
  ] as const) {
    const frame = { opcode: 1, rsv1: false, rsv2: false, rsv3: false, [name]: true };
    if (extensions.validFrameRsv(frame)) rsv |= bit;
  }
  if (rsv === 0) return undefined;
  // permessage-deflate alone, on Node's zlib: our codec does the per-message work (deflate-codec.ts).
  return new Negotiated(codecFor(extensions, config.maxLength) ?? extensions, rsv, config);
}

/** A message as extensions see it (websocket-extensions' shape). */
export interface ExtensionMessage {
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  data: Buffer;
}

type Callback = (error: Error | null, message: ExtensionMessage | null) => void;

/** What a Negotiated runs messages through: websocket-extensions' Extensions. */
interface Pipeline {
  processIncomingMessage(message: ExtensionMessage, callback: Callback): void;
  processOutgoingMessage(message: ExtensionMessage, callback: Callback): void;
  close(callback: () => void): void;
}

/**
 * The extensions a handshake activated, for one connection: runs messages
 * through them in order, at most `concurrencyLimit` zlib jobs per process.
 */
export class Negotiated {
  /** The RSV bits the active extensions may set (0x40 RSV1, 0x20 RSV2, 0x10 RSV3). */
  readonly rsv: number;
  /** Outgoing messages below this size skip the extensions. */
  readonly threshold: number;
  readonly #extensions: Pipeline;
  readonly #limiter: Limiter;

  /** @internal Made by the negotiation functions above. */
  constructor(extensions: Pipeline, rsv: number, config: ExtensionConfig) {
    this.#extensions = extensions;
    this.rsv = rsv;
    this.threshold = config.threshold;
    this.#limiter = limiterFor(config.concurrencyLimit);
  }

  /** Runs an incoming message through the extensions; the callback gets it back or an error. */
  incoming(message: ExtensionMessage, callback: Callback): void {
    this.#limiter.run((done) =>
      this.#extensions.processIncomingMessage(message, (error, result) => {
        done();
        callback(error, result);
      }),
    );
  }

  /** Runs an outgoing message through the extensions. */
  outgoing(message: ExtensionMessage, callback: Callback): void {
    this.#limiter.run((done) =>
      this.#extensions.processOutgoingMessage(message, (error, result) => {
        done();
        callback(error, result);
      }),
    );
  }

  /** Releases the sessions (zlib streams) once work in progress is done. */
  close(): void {
    this.#extensions.close(() => {});
  }
}

/** Whether an extension error means the message was too big (1009). */
export function isTooLarge(error: unknown): boolean {
  return error instanceof MessageTooLargeError;
}

/** A FIFO of jobs, at most `concurrency` running (exported for its spec). */
export class Limiter {
  readonly #concurrency: number;
  #running = 0;
  #draining = false;
  readonly #queue: Array<(done: () => void) => void> = [];

  constructor(concurrency: number) {
    this.#concurrency = concurrency;
  }

  run(job: (done: () => void) => void): void {
    this.#queue.push(job);
    this.#next();
  }

  #next(): void {
    // A job that finishes synchronously must not recurse into this loop.
    if (this.#draining) return;
    this.#draining = true;
    while (this.#running < this.#concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift() as (done: () => void) => void;
      this.#running++;
      let finished = false;
      job(() => {
        if (finished) return;
        finished = true;
        this.#running--;
        this.#next();
      });
    }
    this.#draining = false;
  }
}

// One limiter per limit value, for the process, as ws has one.
const limiters = new Map<number, Limiter>();

function limiterFor(concurrency: number): Limiter {
  let limiter = limiters.get(concurrency);
  if (!limiter) {
    limiter = new Limiter(concurrency);
    limiters.set(concurrency, limiter);
  }
  return limiter;
}
