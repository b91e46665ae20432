// EventSource.Client: the WHATWG EventSource for Node, with reconnection,
// Last-Event-ID, redirects, and the Node-only transport options (headers, TLS,
// proxy) shared with WebSocket.Client.
//
// References:
// - HTML, server-sent events: https://html.spec.whatwg.org/multipage/server-sent-events.html
// - Fetch, redirect handling: https://fetch.spec.whatwg.org/#http-redirect-fetch
// - rexxars/eventsource-parser (the event stream parser used here)

import http from 'node:http';
import type { Duplex } from 'node:stream';
import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';
import { EventHandlers } from '../dom/listeners.js';
import { ErrorEvent, type ErrorEventLike, type EventHandler, type Listener } from '../events.js';
import { validateHeaders } from '../net/headers.js';
import { connect, type ResolvedTransport, resolveTransport } from '../net/transport.js';
import { type TransportOptions, validateOptionKeys } from '../options.js';

/** Options of {@link EventSourceClient}: the spec's init plus Node-only transport options. */
export interface EventSourceClientInit extends TransportOptions {
  /** The spec's flag; kept and exposed (Node sends no cookies of its own). */
  withCredentials?: boolean;
  /** Extra request headers, e.g. Authorization; dropped on a redirect to another origin. */
  headers?: Readonly<Record<string, string | number>>;
}

/** The events an EventSource client dispatches; named events are MessageEvents too. */
export interface EventSourceEventMap {
  open: Event;
  message: MessageEvent;
  error: ErrorEvent;
}

const INIT_KEYS = ['withCredentials', 'headers', 'tls', 'net', 'ca', 'proxy'] as const;
/** Chromium's default reconnection time, in milliseconds. */
export const DEFAULT_RECONNECTION_TIME = 3000;
/** Fetch's redirect limit. */
export const MAX_REDIRECTS = 20;
/** Largest event (pending line plus data buffer) accepted, in characters. */
export const MAX_EVENT_SIZE = 0x3ffffff;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * A WHATWG EventSource for Node: browser code runs unchanged with
 * `EventSource.Client` in place of `EventSource`.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#the-eventsource-interface
 * @example
 * const source = new EventSource.Client('https://example.com/feed', { headers: { Authorization: 'Bearer t' } });
 * source.addEventListener('greeting', (event) => console.log(event.data, event.lastEventId));
 */
export class EventSourceClient extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;

  readonly #url: URL;
  readonly #withCredentials: boolean;
  readonly #headers: Array<[string, string]>;
  readonly #transport: ResolvedTransport;
  #readyState: 0 | 1 | 2 = 0;
  #lastEventId = '';
  #reconnectionTime = DEFAULT_RECONNECTION_TIME;
  #origin: string;
  #controller: AbortController | undefined;
  #request: http.ClientRequest | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #handlers = new EventHandlers(this);

  /**
   * @param url An http: or https: URL; an unparsable one is a `SyntaxError` DOMException.
   * @param init `withCredentials`, and Node-only `headers`, `tls`, `ca`, `net`, `proxy`.
   */
  constructor(url: string | URL, init?: EventSourceClientInit) {
    super();
    validateOptionKeys(init, INIT_KEYS);
    // 1-4. Let urlRecord be the result of encoding-parsing a URL given url. If
    //      urlRecord is failure, then throw a "SyntaxError" DOMException.
    try {
      this.#url = new URL(String(url));
    } catch {
      throw new DOMException(`The URL '${String(url)}' is invalid.`, 'SyntaxError');
    }
    this.#origin = this.#url.origin;
    // 7. If the value of eventSourceInitDict's withCredentials member is true, ...
    this.#withCredentials = init?.withCredentials === true;
    this.#headers = validateHeaders(init?.headers, 'headers');
    this.#transport = resolveTransport(init);
    // 14-15. Fetch request, in parallel.
    this.#fetch(this.#url, 0, this.#headers);
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

  /** The URL given to the constructor, serialized. */
  get url(): string {
    return this.#url.href;
  }

  get withCredentials(): boolean {
    return this.#withCredentials;
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSED. */
  get readyState(): 0 | 1 | 2 {
    return this.#readyState;
  }

  /** Node-only: the last event ID seen, sent as Last-Event-ID on reconnection. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  get onopen(): EventHandler<Event> {
    return this.#handlers.get('open');
  }
  set onopen(value: EventHandler<Event>) {
    this.#handlers.set('open', value);
  }
  get onmessage(): EventHandler<MessageEvent> {
    return this.#handlers.get('message');
  }
  set onmessage(value: EventHandler<MessageEvent>) {
    this.#handlers.set('message', value);
  }
  get onerror(): EventHandler<ErrorEventLike> {
    return this.#handlers.get('error');
  }
  set onerror(value: EventHandler<ErrorEventLike>) {
    this.#handlers.set('error', value);
  }

  override addEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: Listener<EventSourceEventMap[K]> | null,
    options?: boolean | { once?: boolean; signal?: AbortSignal; capture?: boolean },
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<MessageEvent> | null,
    options?: boolean | { once?: boolean; signal?: AbortSignal; capture?: boolean },
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<never> | null,
    options?: boolean | { once?: boolean; signal?: AbortSignal; capture?: boolean },
  ): void {
    if (listener) super.addEventListener(type, listener as Listener<Event>, options);
  }

  override removeEventListener(
    type: string,
    listener: Listener<never> | null,
    options?: boolean | { capture?: boolean },
  ): void {
    if (listener) super.removeEventListener(type, listener as Listener<Event>, options);
  }

  /**
   * Aborts any instance of the fetch algorithm started for this EventSource
   * object, and sets the readyState attribute to CLOSED.
   * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#dom-eventsource-close
   */
  close(): void {
    this.#readyState = 2;
    this.#controller?.abort();
    this.#controller = undefined;
    this.#dropRequest();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fetch(url: URL, redirects: number, headers: Array<[string, string]>): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      setImmediate(() => this.#failTheConnection(`Cannot fetch ${url.href}: only http: and https: are supported`));
      return;
    }
    const controller = new AbortController();
    this.#controller = controller;
    connect(url, this.#transport, controller.signal).then(
      (socket) => {
        if (controller.signal.aborted) {
          socket.destroy();
          return;
        }
        this.#request = this.#send(url, redirects, headers, socket);
      },
      (error: Error) => {
        if (!controller.signal.aborted)
          this.#reestablishTheConnection(`Could not connect to ${url.href}: ${error.message}`);
      },
    );
  }

  #send(url: URL, redirects: number, headers: Array<[string, string]>, socket: Duplex): http.ClientRequest {
    const requestHeaders: Record<string, string> = Object.fromEntries(headers);
    requestHeaders.Accept = 'text/event-stream';
    requestHeaders['Cache-Control'] = 'no-store';
    // Spec: if lastEventId is not the empty string, set `Last-Event-ID`.
    if (this.#lastEventId !== '') requestHeaders['Last-Event-ID'] = this.#lastEventId;
    const request = http.request({
      method: 'GET',
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: requestHeaders,
      createConnection: () => socket as import('node:net').Socket,
    });
    request.on('response', (response) => {
      if (this.#request === request) this.#processResponse(url, redirects, headers, response);
      else response.destroy();
    });
    request.on('error', (error) => {
      if (this.#request === request) this.#reestablishTheConnection(`Network error: ${url.href}: ${error.message}`);
    });
    request.end();
    // A tunnelled socket arrives paused; nothing can arrive before the request is sent.
    socket.resume();
    return request;
  }

  /** @see https://html.spec.whatwg.org/multipage/server-sent-events.html#dom-eventsource (processEventSourceEndOfBody, processResponse) */
  #processResponse(
    url: URL,
    redirects: number,
    headers: Array<[string, string]>,
    response: http.IncomingMessage,
  ): void {
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (REDIRECT_STATUSES.has(status) && location) {
      this.#dropRequest();
      if (redirects >= MAX_REDIRECTS) {
        this.#failTheConnection(`Too many redirects (over ${MAX_REDIRECTS}) from ${this.#url.href}`);
        return;
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        this.#failTheConnection(`The redirect from ${url.href} has an invalid Location: ${location}`);
        return;
      }
      // Headers the application set (Authorization, cookies) never go to another origin.
      const keep = next.origin === url.origin ? headers : [];
      this.#fetch(next, redirects + 1, keep);
      return;
    }
    const contentType = String(response.headers['content-type'] ?? '');
    const essence = contentType.split(';')[0]?.trim().toLowerCase();
    // If res's status is not 200, or if res's `Content-Type` is not
    // `text/event-stream`, then fail the connection.
    if (status !== 200 || essence !== 'text/event-stream') {
      this.#dropRequest();
      this.#failTheConnection(
        status !== 200
          ? `${url.href} answered ${status} ${response.statusMessage ?? ''}; an event stream needs 200`.trimEnd()
          : `${url.href} answered with Content-Type ${contentType || '(none)'}, not text/event-stream`,
      );
      return;
    }
    // Otherwise, announce the connection and interpret res's body line by line.
    this.#origin = url.origin;
    this.#announceTheConnection();
    const decoder = new TextDecoder('utf-8');
    const parser = createParser({
      onEvent: (event) => this.#dispatch(event),
      onRetry: (ms) => {
        this.#reconnectionTime = ms;
      },
      onError: (error: ParseError) => {
        if (error.type === 'max-buffer-size-exceeded') {
          this.#dropRequest();
          this.#failTheConnection(`An event from ${url.href} exceeded ${MAX_EVENT_SIZE} characters`);
        }
      },
      maxBufferSize: MAX_EVENT_SIZE,
    });
    response.on('data', (chunk: Buffer) => {
      if (this.#readyState === 2) return;
      parser.feed(decoder.decode(chunk, { stream: true }));
    });
    const request = this.#request;
    const ended = (): void => {
      if (this.#readyState === 2 || request === undefined || this.#request !== request) return;
      this.#reestablishTheConnection(`The event stream from ${url.href} ended`);
    };
    response.on('end', ended);
    response.on('error', ended);
    response.on('close', ended);
  }

  /** Forgets the current request, then ends it, so its late events are ignored. */
  #dropRequest(): void {
    const request = this.#request;
    this.#request = undefined;
    request?.destroy();
  }

  /** @see https://html.spec.whatwg.org/multipage/server-sent-events.html#announce-the-connection */
  #announceTheConnection(): void {
    // If readyState is not CLOSED, set it to OPEN and fire an event named open.
    if (this.#readyState === 2) return;
    this.#readyState = 1;
    this.dispatchEvent(new Event('open'));
  }

  /** @see https://html.spec.whatwg.org/multipage/server-sent-events.html#dispatchMessage */
  #dispatch(event: EventSourceMessage): void {
    if (this.#readyState === 2) return;
    // 1. Set the last event ID string of the event source to the value of the last event ID buffer.
    if (event.id !== undefined) this.#lastEventId = event.id;
    // 4-6. Initialize event's type, data, origin and lastEventId; dispatch it.
    this.dispatchEvent(
      new MessageEvent(event.event || 'message', {
        data: event.data,
        origin: this.#origin,
        lastEventId: this.#lastEventId,
      }),
    );
  }

  /** @see https://html.spec.whatwg.org/multipage/server-sent-events.html#reestablish-the-connection */
  #reestablishTheConnection(message: string): void {
    this.#dropRequest();
    // 1.1. If the readyState attribute is set to CLOSED, abort the task.
    if (this.#readyState === 2) return;
    // 1.2. Set the readyState attribute to CONNECTING.
    this.#readyState = 0;
    // 1.3. Fire an event named error at the EventSource object.
    this.dispatchEvent(
      new ErrorEvent('error', { message: `${message}; reconnecting in ${this.#reconnectionTime} ms` }),
    );
    if (this.#readyState !== 0) return;
    // 2. Wait a delay equal to the reconnection time of the event source.
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // 4. If the EventSource's readyState attribute is not set to CONNECTING, then return.
      if (this.#readyState !== 0) return;
      // 5-8. Fetch again, with Last-Event-ID when the last event ID string is not empty.
      this.#fetch(this.#url, 0, this.#headers);
    }, this.#reconnectionTime);
  }

  /** @see https://html.spec.whatwg.org/multipage/server-sent-events.html#fail-the-connection */
  #failTheConnection(message: string): void {
    // If readyState is not CLOSED, set it to CLOSED and fire an event named error.
    if (this.#readyState === 2) return;
    this.close();
    this.dispatchEvent(new ErrorEvent('error', { message }));
  }
}
