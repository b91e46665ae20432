// The server-sent events endpoint: new EventSource(request, response),
// faye-websocket's API, writing through the ServerResponse and made safe
// against field injection.
//
// References:
// - HTML, server-sent events: https://html.spec.whatwg.org/multipage/server-sent-events.html
// - faye-websocket README, "Handling EventSource connections in Node"
// - DOM Standard, EventTarget: https://dom.spec.whatwg.org/#interface-eventtarget
// - Node.js http2, compatibility API (the same endpoint over HTTP/2)

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { StringDecoder } from 'node:string_decoder';
import { type ChannelFeed, channelFeed } from '../channel/member.js';
import { publishEventSource } from '../diagnostics.js';
import { type FayeFace, installFayeFace, streamEvents } from '../dom/faye-face.js';
import { getEventHandler, setEventHandler } from '../dom/listeners.js';
import { installTypedListeners, TypedEventTargetBase } from '../dom/typed-target.js';
import type { EventHandler } from '../events.js';
import { validateHeaders } from '../net/headers.js';
import { firstHeader, requestUrl } from '../net/request.js';
import { validateOptionKeys } from '../options.js';
import { acceptEventStream } from '../shutdown.js';
import {
  acceptsEventStream,
  eventData,
  formatEvent,
  formatRetry,
  PING_COMMENT,
  type SendOptions,
  type Serialize,
} from './encode.js';
import { EventStreamWriter } from './writer.js';

export type { SendOptions, Serialize } from './encode.js';

/** Options of the server-side {@link EventSource}. */
export interface EventSourceOptions {
  /** Extra response headers, e.g. CORS. Values with CR or LF are a TypeError. */
  headers?: Readonly<Record<string, string | number>>;
  /** Reconnection time for the client, in seconds (sent as `retry:` in ms). Default 5. */
  retry?: number;
  /** Seconds between comment lines that keep proxies from timing out. Default 10; 0 turns it off. */
  ping?: number;
  /**
   * Turns what send() is given into event data, e.g. `JSON.stringify`. Without
   * it, send() takes strings only (anything else is a TypeError).
   */
  serialize?: Serialize;
}

/** The events a server-side EventSource dispatches. */
export interface EventSourceServerEventMap {
  open: Event;
  close: Event;
}

const OPTION_KEYS = ['headers', 'retry', 'ping', 'serialize'] as const;
const DEFAULT_RETRY = 5;
const DEFAULT_PING = 10;

/**
 * A server-sent events stream to one client, made from an HTTP request and
 * its response (faye-websocket's API).
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 * @example
 * http.createServer((req, res) => {
 *   if (!EventSource.isEventSource(req)) return res.end();
 *   const es = new EventSource(req, res, { ping: 15, retry: 5 });
 *   es.send('hello', { event: 'greeting', id: '1' });
 * });
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: faye's face (../dom/faye-face.ts) is installed on the prototype below
export class EventSource extends TypedEventTargetBase<EventSourceServerEventMap> {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;

  /** Whether the request asks for an event stream (a GET accepting text/event-stream), over HTTP/1.1 or HTTP/2. */
  static isEventSource(request: IncomingMessage | Http2ServerRequest): boolean {
    return acceptsEventStream(request.method, request.headers.accept);
  }

  readonly #writer: EventStreamWriter;
  readonly #serialize: Serialize | undefined;
  #decoder: StringDecoder | undefined;
  readonly #url: string;
  readonly #lastEventId: string;
  #readyState: 0 | 1 | 2 = 0;
  #pingTimer: NodeJS.Timeout | undefined;
  // on* handlers and faye's stream listeners live beside the object, made on
  // first use (../dom/listeners.ts, ../dom/faye-face.ts): most streams never
  // have either, and a channel may hold many thousands of them.

  /** faye's stream flag. */
  writable = true;

  /**
   * Answers the request with 200 and `text/event-stream` at once; `open`
   * follows in a later task.
   */
  constructor(
    request: IncomingMessage | Http2ServerRequest,
    response: ServerResponse | Http2ServerResponse,
    options?: EventSourceOptions,
  ) {
    super();
    if (
      typeof request !== 'object' ||
      request === null ||
      typeof request.headers !== 'object' ||
      request instanceof URL
    ) {
      throw new TypeError(
        'new EventSource(request, response) is the server endpoint and takes an http request and its response; for a client, use new EventSource.Client(url)',
      );
    }
    if (typeof response?.writeHead !== 'function') {
      throw new TypeError(
        'new EventSource(request, response): response must be the http.ServerResponse of the request',
      );
    }
    validateOptionKeys(options, OPTION_KEYS);
    const headers = validateHeaders(options?.headers, 'headers');
    const retry = formatRetry(options?.retry ?? DEFAULT_RETRY);
    const ping = options?.ping ?? DEFAULT_PING;
    if (typeof ping !== 'number' || !Number.isFinite(ping) || ping < 0) {
      throw new TypeError('ping must be a non-negative number of seconds');
    }
    const serialize = options?.serialize;
    if (serialize !== undefined && typeof serialize !== 'function') {
      throw new TypeError('serialize must be a function that returns a string, e.g. JSON.stringify');
    }

    this.#serialize = serialize;
    // Over HTTP/2 the compatibility API's request and response have what is used here.
    this.#url = requestUrl(request as IncomingMessage, { plain: 'http:', secure: 'https:' });
    this.#lastEventId = firstHeader(request.headers['last-event-id']);
    this.#writer = new EventStreamWriter(response as ServerResponse, () => streamEvents(this)?.emit('drain'));

    // Its server's shutdown ends it; once begun, it answers 503 (../shutdown.ts).
    if (response.writableEnded || response.destroyed || !acceptEventStream(this, request, response)) {
      this.writable = false;
      this.#readyState = 2;
      return;
    }

    response.on('close', () => this.close());
    // Over HTTP/2 the socket is the session's, under every stream: only this
    // stream's timeout is cleared.
    if ('stream' in request) request.setTimeout(0);
    else request.socket.setTimeout?.(0);
    request.socket.setNoDelay?.(true);

    // An event stream ends when the connection does, so it needs no chunked
    // framing: the body goes out as written (one buffer per event, not three),
    // with `Connection: close`, still through the ServerResponse.
    (response as ServerResponse & { useChunkedEncodingByDefault: boolean }).useChunkedEncodingByDefault = false;
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      ...Object.fromEntries(headers),
    });
    this.#writer.write(retry);

    if (ping > 0) {
      this.#pingTimer = setInterval(() => this.ping(), ping * 1000);
    }
    setImmediate(() => {
      if (this.#readyState !== 0) return;
      this.#readyState = 1;
      publishEventSource(this, 'server', this.#url, this.#lastEventId, false);
      this.dispatchEvent(new Event('open'));
    });
  }

  get CONNECTING(): 0 {
    return 0;
  }
  get OPEN(): 1 {
    return 1;
  }
  get CLOSED(): 2 {
    return 2;
  }

  /** The URL the client requested: `http:` or `https:`, host and path. */
  get url(): string {
    return this.#url;
  }

  /** The `Last-Event-ID` the client sent on (re)connection, or `''`. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSED. */
  get readyState(): 0 | 1 | 2 {
    return this.#readyState;
  }

  get onopen(): EventHandler<Event> {
    return getEventHandler(this, 'open');
  }
  set onopen(value: EventHandler<Event>) {
    setEventHandler(this, 'open', value);
  }
  get onclose(): EventHandler<Event> {
    return getEventHandler(this, 'close');
  }
  set onclose(value: EventHandler<Event>) {
    setEventHandler(this, 'close', value);
  }

  /**
   * Sends one event. Multi-line data becomes one `data:` line per line; CR or
   * LF in `event` or `id`, or NUL in `id`, is a TypeError (it could inject a
   * field), and so is data that is not a string unless the `serialize` option
   * is set.
   *
   * @returns false when closed or when the response is over its high-water mark
   * (wait for `'drain'`).
   */
  send(data: unknown, options?: SendOptions): boolean {
    const block = formatEvent(eventData(data, this.#serialize), options);
    if (this.#readyState === 2) return false;
    return this.#writer.write(block);
  }

  /** @internal A channel's write path to this stream (src/channel/member.ts). */
  [channelFeed](): ChannelFeed | undefined {
    return this.#writer;
  }

  /** Sends a comment line, which keeps intermediaries from timing out. */
  ping(): boolean {
    if (this.#readyState === 2) return false;
    return this.#writer.write(PING_COMMENT);
  }

  /** Ends the response; dispatches close once. */
  close(): boolean {
    if (this.#readyState === 2) return false;
    this.#readyState = 2;
    this.writable = false;
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#writer.end();
    publishEventSource(this, 'server', this.#url, this.#lastEventId, true);
    this.dispatchEvent(new Event('close'));
    return true;
  }

  /**
   * faye's stream face: sends `data` as one event. Buffers and typed arrays
   * (what a piped stream writes) are decoded as UTF-8, keeping a character
   * split between two chunks whole.
   */
  write(data: unknown): boolean {
    if (ArrayBuffer.isView(data)) {
      this.#decoder ??= new StringDecoder('utf8');
      const text = this.#decoder.write(data as NodeJS.ArrayBufferView);
      return text === '' ? this.#readyState !== 2 : this.send(text);
    }
    return this.send(data);
  }

  /** faye: sends `data` if given, then closes. */
  end(data?: unknown): void {
    if (data !== undefined) this.write(data);
    const rest = this.#decoder?.end();
    if (rest) this.send(rest);
    this.close();
  }
}

// faye's on/once/off/removeListener/emit (../dom/faye-face.ts), and
// addEventListener/removeEventListener typed by the event map (../dom/typed-target.ts).
installFayeFace(EventSource.prototype);
installTypedListeners(EventSource.prototype);
export interface EventSource extends FayeFace<EventSourceServerEventMap> {}
