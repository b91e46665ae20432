// EventSource.Client: the WHATWG EventSource for Node, with reconnection,
// Last-Event-ID, redirects, and the Node-only transport options (headers, TLS,
// proxy, handshakeTimeout, signal, origin) shared with WebSocket.Client; and
// Node-only `method` and `body` (./request-body.ts) and an opt-in `retry`
// policy for statuses the standard makes fatal (./retry-policy.ts).
//
// Nothing a server sends can make this client throw: every value taken from
// the peer that reaches a Node API which throws (the Last-Event-ID header, a
// redirect's Location, the retry delay given to setTimeout) is encoded,
// checked or clamped first, and the request is built inside a try.
//
// References:
// - HTML, server-sent events: https://html.spec.whatwg.org/multipage/server-sent-events.html
// - Fetch, HTTP-redirect fetch: https://fetch.spec.whatwg.org/#http-redirect-fetch
// - Fetch, redirect-tainted origin: https://fetch.spec.whatwg.org/#concept-request-tainted-origin
// - Fetch, HTTP-network-or-cache fetch (the no-store cache mode's request headers):
//   https://fetch.spec.whatwg.org/#concept-http-network-or-cache-fetch
// - rexxars/eventsource-parser (the event stream parser used here)
// - RFC 9113, HTTP/2 (the `http2` option: the request on a stream; src/net/http2.ts)
// - RFC 9110 §10.2.3, Retry-After (the `retry` option)

import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';
import { publishEventSource } from '../diagnostics.js';
import { EventHandlers } from '../dom/listeners.js';
import { requireArguments, shapeInterface } from '../dom/webidl.js';
import {
  type EventHandler,
  EventSourceErrorEvent,
  type EventSourceErrorEventLike,
  type Listener,
  MessageEvent as WebMessageEvent,
} from '../events.js';
import { utf8HeaderValue, validateHeaders } from '../net/headers.js';
import { openStream, sessionProblem, toHttp2Headers } from '../net/http2.js';
import {
  CONNECT_OPTION_KEYS,
  type ConnectOptions,
  MAX_TIMER_DELAY,
  type ResolvedTransport,
  resolveTransport,
  TRANSPORT_OPTION_KEYS,
  type TransportOptions,
} from '../net/options.js';
import { abortError, ConnectionAttempt, connect } from '../net/transport.js';
import { parseUrl } from '../net/url.js';
import { readBrowserOptions } from '../options.js';
import {
  type BodySource,
  chunkBytes,
  type EventSourceBody,
  ONE_SHOT_BODY,
  type OpenedBody,
  openBody,
  REQUEST_BODY_HEADERS,
  redirectDropsBody,
  replayable,
  resolveBody,
  resolveMethod,
} from './request-body.js';
import { type EventSourceRetryOptions, type RetryPolicy, resolveRetryPolicy, retryDecision } from './retry-policy.js';

export type { EventSourceBody, EventSourceBodyInit } from './request-body.js';
export type { EventSourceRetryOptions } from './retry-policy.js';

/** Options of {@link EventSourceClient}: the spec's init plus Node-only transport options. */
export interface EventSourceClientInit extends TransportOptions, ConnectOptions {
  /** The spec's flag; kept and exposed (Node sends no cookies of its own). */
  withCredentials?: boolean;
  /** Extra request headers, e.g. Authorization; dropped on a redirect to another origin. */
  headers?: Readonly<Record<string, string | number>>;
  /**
   * Note: extension, not in the spec. The request's method, sent on every
   * (re)connection; default `'GET'`. Fetch's rules: `post` is `POST`;
   * CONNECT, TRACE, TRACK, HEAD and a non-token are a TypeError. HTTP/1.1
   * only (with `http2`, a method other than GET is a TypeError).
   */
  method?: string | undefined;
  /**
   * Note: extension, not in the spec. The request body (not with GET), sent
   * on every (re)connection: a string (`Content-Type: text/plain;charset=UTF-8`
   * unless `headers` name one, as fetch sends), bytes (no Content-Type), a
   * Blob (its type), URLSearchParams, an async iterable of string or
   * Uint8Array chunks (sent chunked; read once, so a reconnection fails the
   * connection), or a function returning one of these, called per request.
   */
  body?: EventSourceBody | null | undefined;
  /**
   * Note: extension, not in the spec. Retry the answers the standard makes
   * fatal: `true` for 429, 502, 503 and 504 up to 10 times in a row, with
   * exponential backoff from the reconnection time (capped at 30 s, with
   * jitter) or the server's Retry-After; or {@link EventSourceRetryOptions}.
   * Each refused attempt fires `error` (with `status`) with readyState
   * CONNECTING, as a network error does. Off by default.
   */
  retry?: boolean | EventSourceRetryOptions | undefined;
}

/** The events an EventSource client dispatches; named events are MessageEvents too. */
export interface EventSourceEventMap {
  open: Event;
  message: MessageEvent;
  error: EventSourceErrorEvent;
}

const INIT_KEYS = [
  'withCredentials',
  'headers',
  'method',
  'body',
  'retry',
  ...TRANSPORT_OPTION_KEYS,
  ...CONNECT_OPTION_KEYS,
] as const;
/** The ready states, by name (HTML: the readyState attribute). */
const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSED: 2 } as const;
type ReadyStateValue = (typeof ReadyState)[keyof typeof ReadyState];

/** Chromium's default reconnection time, in milliseconds. */
export const DEFAULT_RECONNECTION_TIME = 3000;
/** Fetch's redirect limit. */
export const MAX_REDIRECTS = 20;
/** Largest event (pending line plus data buffer) accepted, in characters. */
export const MAX_EVENT_SIZE = 0x3ffffff;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** The method and body of one request: the constructor's, or a GET after a redirect that drops the body. */
interface Outgoing {
  method: string;
  body: BodySource | undefined;
}

/** What is read of a response: an IncomingMessage, or an HTTP/2 stream and its head. */
type EventStreamResponse = Pick<http.IncomingMessage, 'statusCode' | 'statusMessage' | 'headers'> & {
  on(event: 'data' | 'end' | 'error' | 'close', listener: (chunk: Buffer) => void): unknown;
};

/**
 * A WHATWG EventSource for Node: browser code runs unchanged with
 * `EventSource.Client` in place of `EventSource`.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#the-eventsource-interface
 * @example
 * const source = new EventSource.Client('https://example.com/feed', { headers: { Authorization: 'Bearer t' } });
 * source.addEventListener('greeting', (event) => console.log(event.data, event.lastEventId));
 * source.onerror = (event) => {
 *   if (event.status === 401) source.close();
 * };
 */
export class EventSourceClient extends EventTarget {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSED = ReadyState.CLOSED;

  readonly #url: URL;
  readonly #withCredentials: boolean;
  readonly #headers: Array<[string, string]>;
  readonly #transport: ResolvedTransport;
  readonly #outgoing: Outgoing;
  readonly #retry: RetryPolicy | undefined;
  /** Answers refused in a row and retried (the `retry` option); 0 once a stream opens. */
  #refusals = 0;
  #readyState: ReadyStateValue = ReadyState.CONNECTING;
  #lastEventId = '';
  #reconnectionTime = DEFAULT_RECONNECTION_TIME;
  #origin: string;
  #attempt: ConnectionAttempt | undefined;
  #request: { destroy(): void } | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #handlers = new EventHandlers(this);
  readonly #onSignalAbort = (): void => this.close();

  /**
   * @param url An http: or https: URL, absolute or relative to the global
   * origin (see `setGlobalOrigin`); an unparsable one is a `SyntaxError`
   * DOMException. No argument is a TypeError.
   * @param init `withCredentials`, and Node-only `headers`, `tls`, `ca`, `net`, `proxy`,
   * `origin`, `handshakeTimeout` and `signal`; a bad value, or a key that looks
   * like an option name and is not one, is a TypeError. Other keys are
   * ignored, as a browser ignores them.
   */
  constructor(url: string | URL, init?: EventSourceClientInit) {
    // biome-ignore lint/complexity/noArguments: WebIDL counts the arguments given, not their values.
    requireArguments(arguments.length, 1, "construct 'EventSource'");
    super();
    const given = readBrowserOptions<EventSourceClientInit>(init, INIT_KEYS, 'throw');
    // 3-4. Let urlRecord be the result of encoding-parsing a URL given url,
    //      relative to settings. If urlRecord is failure, then throw a
    //      "SyntaxError" DOMException.
    this.#url = parseUrl(url);
    this.#origin = this.#url.origin;
    // 7. If the value of eventSourceInitDict's withCredentials member is true, ...
    this.#withCredentials = given?.withCredentials === true;
    this.#headers = validateHeaders(given?.headers, 'headers');
    const method = resolveMethod(given?.method);
    this.#outgoing = { method, body: resolveBody(given?.body, method) };
    this.#retry = resolveRetryPolicy(given?.retry);
    this.#transport = resolveTransport(given);
    if (this.#transport.http2 !== undefined && (method !== 'GET' || this.#outgoing.body !== undefined)) {
      throw new TypeError('method and body are sent over HTTP/1.1 only: leave out the http2 option to send them');
    }
    // Note: extension, not in the spec: an aborted `signal` closes the EventSource, as close() does.
    const signal = this.#transport.signal;
    if (signal?.aborted) {
      this.#readyState = ReadyState.CLOSED;
      return;
    }
    signal?.addEventListener('abort', this.#onSignalAbort);
    // 15. Fetch request, in parallel.
    this.#fetch([this.#url], this.#headers, this.#outgoing);
  }

  get CONNECTING(): 0 {
    return ReadyState.CONNECTING;
  }
  get OPEN(): 1 {
    return ReadyState.OPEN;
  }
  get CLOSED(): 2 {
    return ReadyState.CLOSED;
  }

  /** The URL given to the constructor, serialized. */
  get url(): string {
    return this.#url.href;
  }

  get withCredentials(): boolean {
    return this.#withCredentials;
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSED. */
  get readyState(): ReadyStateValue {
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
  get onerror(): EventHandler<EventSourceErrorEventLike> {
    return this.#handlers.get('error');
  }
  set onerror(value: EventHandler<EventSourceErrorEventLike>) {
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
   * object, and sets the readyState attribute to CLOSED. Nothing is fetched
   * and no event is dispatched after it.
   * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#dom-eventsource-close
   */
  close(): void {
    // Note: extension, not in the spec: diagnostics_channel (../diagnostics.ts), once.
    if (this.#readyState !== ReadyState.CLOSED)
      publishEventSource(this, 'client', this.#url.href, this.#lastEventId, true);
    this.#readyState = ReadyState.CLOSED;
    this.#transport.signal?.removeEventListener('abort', this.#onSignalAbort);
    const attempt = this.#attempt;
    this.#attempt = undefined;
    attempt?.abort();
    this.#dropRequest();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Fetches the last URL of `urlList` (the constructor's URL, then each
   * redirect's), within one {@link ConnectionAttempt} per request.
   */
  #fetch(urlList: URL[], headers: Array<[string, string]>, outgoing: Outgoing): void {
    const url = urlList[urlList.length - 1] as URL;
    // Fetch, HTTP-redirect fetch: if locationURL's scheme is not an HTTP(S)
    // scheme, then return a network error (futile to retry: fail).
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      const message = `Cannot fetch ${url.href}: only http: and https: are supported`;
      setImmediate(() => this.#failTheConnection(message));
      return;
    }
    // The application's signal is not linked here: it closes the EventSource itself.
    const attempt = new ConnectionAttempt({ handshakeTimeout: this.#transport.handshakeTimeout, signal: undefined });
    this.#attempt = attempt;
    if (this.#transport.http2 !== undefined) {
      this.#fetchOverHttp2(urlList, headers, attempt);
      return;
    }
    if (outgoing.body === undefined) {
      this.#connect(urlList, headers, outgoing, undefined, attempt);
      return;
    }
    // The body is made ready first (a function may fetch a token), within
    // the attempt's deadline; it is read once the connection is made.
    untilAborted(openBody(outgoing.body), attempt.signal).then(
      (opened) => {
        if (this.#attempt === attempt) this.#connect(urlList, headers, outgoing, opened, attempt);
      },
      (error: Error) => {
        if (this.#attempt !== attempt) return;
        if (attempt.signal.aborted) {
          this.#reestablishTheConnection(`No request body for ${url.href}: ${error.message}`, error);
        } else {
          this.#failTheConnection(`Cannot send the request to ${url.href}: ${error.message}`);
        }
      },
    );
  }

  /** Connects to the last URL of `urlList` and sends the request on the connection. */
  #connect(
    urlList: URL[],
    headers: Array<[string, string]>,
    outgoing: Outgoing,
    opened: OpenedBody | undefined,
    attempt: ConnectionAttempt,
  ): void {
    const url = urlList[urlList.length - 1] as URL;
    connect(url, this.#transport, attempt).then(
      (socket) => {
        if (this.#attempt !== attempt) {
          socket.destroy();
          return;
        }
        try {
          this.#request = this.#send(urlList, headers, outgoing, opened, socket, attempt);
        } catch (error) {
          // Not reachable with checked options; kept so no value can throw out of a promise callback.
          socket.destroy();
          this.#reestablishTheConnection(
            `Could not send the request to ${url.href}: ${(error as Error).message}`,
            error,
          );
        }
      },
      (error: Error) => {
        if (this.#attempt !== attempt) return;
        this.#reestablishTheConnection(`Could not connect to ${url.href}: ${error.message}`, error);
      },
    );
  }

  /**
   * Note: extension, not in the spec: with the `http2` option the request is
   * a GET on an HTTP/2 stream, on the application's session or on one opened
   * for it (and closed with the response).
   */
  #fetchOverHttp2(urlList: URL[], headers: Array<[string, string]>, attempt: ConnectionAttempt): void {
    const url = urlList[urlList.length - 1] as URL;
    // A shared session that is closed or serves another origin can never
    // carry the request: fail the connection rather than retry for ever.
    const problem = sessionProblem(this.#transport.http2, url);
    if (problem !== undefined) {
      setImmediate(() => this.#failTheConnection(`Cannot fetch ${url.href}: ${problem}`));
      return;
    }
    const requestHeaders = toHttp2Headers(Object.entries(this.#requestHeaders(urlList, headers)), 'request');
    openStream(url, this.#transport, attempt, { headers: requestHeaders }).then(
      ({ stream, status, headers: fields }) => {
        if (this.#attempt !== attempt) {
          stream.destroy();
          return;
        }
        attempt.finish();
        this.#request = stream;
        this.#processResponse(
          urlList,
          headers,
          { method: 'GET', body: undefined },
          {
            statusCode: status,
            // HTTP/2 has no reason phrase (RFC 9113 §8.3.2).
            statusMessage: http.STATUS_CODES[status] ?? '',
            headers: fields,
            on: (event, listener) => stream.on(event, listener),
          },
        );
      },
      (error: Error) => {
        if (this.#attempt !== attempt) return;
        this.#reestablishTheConnection(`Could not fetch ${url.href} over HTTP/2: ${error.message}`, error);
      },
    );
  }

  /** The request's headers: the application's, then the spec's, for the last URL of `urlList`. */
  #requestHeaders(urlList: URL[], headers: Array<[string, string]>): Record<string, string> {
    const requestHeaders: Record<string, string> = Object.fromEntries(headers);
    // 10. User agents may set (`Accept`, `text/event-stream`) in request's header list.
    requestHeaders.Accept = 'text/event-stream';
    // 11. Set request's cache mode to "no-store"; Fetch then appends
    //     (`Pragma`, `no-cache`) and (`Cache-Control`, `no-cache`), as browsers send.
    requestHeaders['Cache-Control'] = 'no-cache';
    requestHeaders.Pragma = 'no-cache';
    if (this.#transport.origin !== undefined) {
      // Fetch: a redirect-tainted origin is serialized as `null`.
      requestHeaders.Origin = this.#redirectTainted(urlList) ? 'null' : this.#transport.origin;
    }
    // Reestablish the connection, 5.3: if the last event ID string is not the
    // empty string, set (`Last-Event-ID`, last event ID string, encoded as UTF-8).
    if (this.#lastEventId !== '') {
      const value = utf8HeaderValue(this.#lastEventId);
      // Note: an ID holding a control character other than tab cannot be sent
      // in HTTP (RFC 9110 §5.5; Node throws); the request goes without it.
      if (value !== undefined) requestHeaders['Last-Event-ID'] = value;
    }
    return requestHeaders;
  }

  #send(
    urlList: URL[],
    headers: Array<[string, string]>,
    outgoing: Outgoing,
    opened: OpenedBody | undefined,
    socket: Duplex,
    attempt: ConnectionAttempt,
  ): http.ClientRequest {
    const url = urlList[urlList.length - 1] as URL;
    const requestHeaders = this.#requestHeaders(urlList, headers);
    // Fetch, extract a body: its type goes out unless the application set a Content-Type.
    const typed = headers.some(([name]) => name.toLowerCase() === 'content-type');
    if (opened?.contentType !== undefined && !typed) requestHeaders['Content-Type'] = opened.contentType;
    const sized = headers.some(([name]) => name.toLowerCase() === 'content-length');
    if (opened !== undefined && 'bytes' in opened && !sized) {
      requestHeaders['Content-Length'] = String(opened.bytes.length);
    } else if (opened === undefined && (outgoing.method === 'POST' || outgoing.method === 'PUT') && !sized) {
      // Fetch, HTTP-network-or-cache fetch: a POST or PUT without a body sends Content-Length: 0.
      requestHeaders['Content-Length'] = '0';
    }
    const request = http.request({
      method: outgoing.method,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: requestHeaders,
      createConnection: () => socket as Socket,
    });
    request.on('response', (response) => {
      if (this.#request !== request) {
        response.destroy();
        return;
      }
      attempt.finish();
      this.#processResponse(urlList, headers, outgoing, response);
    });
    request.on('error', (error) => {
      if (this.#request === request)
        this.#reestablishTheConnection(`Network error: ${url.href}: ${error.message}`, error);
    });
    // No response head within handshakeTimeout is a network error: reestablish.
    attempt.signal.addEventListener(
      'abort',
      () => {
        if (this.#request !== request) return;
        const reason = abortError(attempt.signal.reason);
        this.#reestablishTheConnection(`No response from ${url.href}: ${reason.message}`, reason);
      },
      { once: true },
    );
    if (opened === undefined) request.end();
    else if ('bytes' in opened) request.end(opened.bytes);
    else {
      if (outgoing.body?.kind === 'iterable') outgoing.body.used = true;
      void this.#stream(request, opened.chunks, url);
    }
    // A tunnelled socket arrives paused; nothing can arrive before the request is sent.
    socket.resume();
    return request;
  }

  /**
   * Writes an iterable body, chunk by chunk, waiting for 'drain' when the
   * socket is full. Stops when the request is dropped (an early answer, a
   * close()). A chunk that is not bytes or a string, or an iterable that
   * throws, fails the connection: the body cannot be read again.
   */
  async #stream(request: http.ClientRequest, chunks: AsyncIterable<unknown>, url: URL): Promise<void> {
    try {
      for await (const chunk of chunks) {
        if (this.#request !== request || request.destroyed) return;
        if (!request.write(chunkBytes(chunk))) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              request.off('drain', done);
              request.off('close', done);
              resolve();
            };
            request.on('drain', done);
            request.on('close', done);
          });
        }
      }
      if (this.#request === request) request.end();
    } catch (error) {
      if (this.#request !== request) return;
      this.#dropRequest();
      this.#failTheConnection(`The request body for ${url.href} failed: ${(error as Error).message}`);
    }
  }

  /** @see https://fetch.spec.whatwg.org/#concept-request-tainted-origin */
  #redirectTainted(urlList: URL[]): boolean {
    const origin = this.#transport.origin;
    // 1. Let lastURL be null.
    let lastURL: URL | undefined;
    // 2. For each url of request's URL list:
    for (const url of urlList) {
      // 2.1. If lastURL is null, then set lastURL to url and continue.
      if (lastURL === undefined) {
        lastURL = url;
        continue;
      }
      // 2.2. If url's origin is not same origin with lastURL's origin and
      //      request's origin is not same origin with lastURL's origin, then return true.
      if (url.origin !== lastURL.origin && origin !== lastURL.origin) return true;
      // 2.3. Set lastURL to url.
      lastURL = url;
    }
    // 3. Return false.
    return false;
  }

  /** @see https://html.spec.whatwg.org/multipage/server-sent-events.html#dom-eventsource (processResponse) */
  #processResponse(
    urlList: URL[],
    headers: Array<[string, string]>,
    outgoing: Outgoing,
    response: EventStreamResponse,
  ): void {
    const url = urlList[urlList.length - 1] as URL;
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (REDIRECT_STATUSES.has(status) && location !== undefined) {
      this.#dropRequest();
      // Fetch, HTTP-redirect fetch: if request's redirect count is 20, return a network error.
      if (urlList.length > MAX_REDIRECTS) {
        this.#failTheConnection(`Too many redirects (over ${MAX_REDIRECTS}) from ${this.#url.href}`, status);
        return;
      }
      // Node hands header bytes over as Latin-1 characters; browsers read a
      // Location as UTF-8 (bytes that are not UTF-8 become U+FFFD).
      const decoded = Buffer.from(location, 'latin1').toString('utf8');
      let next: URL;
      try {
        next = new URL(decoded, url);
      } catch {
        const shown = decoded.length > 200 ? `${decoded.slice(0, 200)}…` : decoded;
        this.#failTheConnection(
          `The redirect from ${url.href} has an invalid Location: ${JSON.stringify(shown)}`,
          status,
        );
        return;
      }
      // Fetch, HTTP-redirect fetch, 12: a 301 or 302 after POST, a 303 after
      // anything but GET, go on as a GET without body or body headers.
      let nextOutgoing = outgoing;
      let nextHeaders = headers;
      if (redirectDropsBody(status, outgoing.method)) {
        nextOutgoing = { method: 'GET', body: undefined };
        nextHeaders = headers.filter(([name]) => !REQUEST_BODY_HEADERS.has(name.toLowerCase()));
      } else if (!replayable(outgoing.body)) {
        // Fetch, HTTP-redirect fetch, 11: a body whose source is a stream cannot be sent again.
        this.#failTheConnection(
          `The redirect from ${url.href} (${status}) needs the body again, but ${ONE_SHOT_BODY}`,
          status,
        );
        return;
      }
      // Headers the application set (Authorization, cookies) never go to another origin.
      const keep = next.origin === url.origin ? nextHeaders : [];
      this.#fetch([...urlList, next], keep, nextOutgoing);
      return;
    }
    const contentType = String(response.headers['content-type'] ?? '');
    const essence = contentType.split(';')[0]?.trim().toLowerCase();
    // 15.3. If res's status is not 200, or if res's `Content-Type` is not
    //       `text/event-stream`, then fail the connection.
    if (status !== 200 || essence !== 'text/event-stream') {
      this.#dropRequest();
      const shownType = contentType.length > 100 ? `${contentType.slice(0, 100)}…` : contentType;
      let message =
        status !== 200
          ? `${url.href} answered ${status} ${(response.statusMessage ?? '').slice(0, 100)}`.trimEnd()
          : `${url.href} answered with Content-Type ${contentType ? JSON.stringify(shownType) : '(none)'}, not text/event-stream`;
      // Note: extension, not in the spec: with the `retry` option, a status
      // it names is retried as a network error is, within its limit.
      if (this.#retry !== undefined && status !== 200) {
        const decision = retryDecision(
          this.#retry,
          status,
          response.headers['retry-after'],
          this.#refusals + 1,
          this.#reconnectionTime,
          Date.now(),
        );
        if (decision.retry) {
          this.#refusals++;
          const limit = this.#retry.limit === Number.POSITIVE_INFINITY ? '' : ` of ${this.#retry.limit}`;
          const asked = decision.retryAfter === undefined ? '' : ', as its Retry-After asks';
          this.#reestablishTheConnection(`${message} (retry ${this.#refusals}${limit}${asked})`, undefined, {
            status,
            wait: decision.wait,
          });
          return;
        }
        if (decision.reason !== '') message = `${message}; ${decision.reason}`;
      }
      this.#failTheConnection(status !== 200 ? `${message}; an event stream needs 200` : message, status);
      return;
    }
    // 15.4. Otherwise, announce the connection and interpret res's body line by line.
    this.#origin = url.origin;
    this.#announceTheConnection();
    const decoder = new TextDecoder('utf-8');
    const parser = createParser({
      onEvent: (event) => this.#dispatch(event),
      onRetry: (ms) => {
        // Node's timers fire at once for delays past 2^31 - 1 ms: clamp, so a
        // huge retry waits as long as a timer can rather than not at all.
        this.#reconnectionTime = Math.min(ms, MAX_TIMER_DELAY);
      },
      onError: (error: ParseError) => {
        if (error.type === 'max-buffer-size-exceeded') {
          this.#dropRequest();
          this.#failTheConnection(`An event from ${url.href} exceeded ${MAX_EVENT_SIZE} characters`);
        }
      },
      maxBufferSize: MAX_EVENT_SIZE,
    });
    const request = this.#request;
    response.on('data', (chunk: Buffer) => {
      if (this.#request !== request || this.#readyState === ReadyState.CLOSED) return;
      parser.feed(decoder.decode(chunk, { stream: true }));
    });
    // processEventSourceEndOfBody: if res is not a network error, then reestablish the connection.
    const ended = (): void => {
      if (this.#readyState === ReadyState.CLOSED || request === undefined || this.#request !== request) return;
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
    if (this.#readyState === ReadyState.CLOSED) return;
    this.#readyState = ReadyState.OPEN;
    this.#refusals = 0;
    publishEventSource(this, 'client', this.#url.href, this.#lastEventId, false);
    this.dispatchEvent(new Event('open'));
  }

  /** @see https://html.spec.whatwg.org/multipage/server-sent-events.html#dispatchMessage */
  #dispatch(event: EventSourceMessage): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    // 1. Set the last event ID string of the event source to the value of the last event ID buffer.
    if (event.id !== undefined) this.#lastEventId = event.id;
    // 4-6. Initialize event's type, data, origin and lastEventId; dispatch it.
    this.dispatchEvent(
      new WebMessageEvent(event.event || 'message', {
        data: event.data,
        origin: this.#origin,
        lastEventId: this.#lastEventId,
      }),
    );
  }

  /**
   * A network error (refused, reset, timed out) or the end of the stream.
   * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#reestablish-the-connection
   */
  #reestablishTheConnection(message: string, error?: unknown, refused?: { status: number; wait: number }): void {
    this.#dropRequest();
    const attempt = this.#attempt;
    this.#attempt = undefined;
    attempt?.abort();
    // 1.1. If the readyState attribute is set to CLOSED, abort the task.
    if (this.#readyState === ReadyState.CLOSED) return;
    // Note: extension, not in the spec: a body read once (an async iterable)
    // cannot be sent again; fail rather than reconnect without it.
    if (!replayable(this.#outgoing.body)) {
      this.#failTheConnection(`${message}; cannot reconnect: ${ONE_SHOT_BODY}`, refused?.status);
      return;
    }
    const wait = refused?.wait ?? this.#reconnectionTime;
    // 1.2. Set the readyState attribute to CONNECTING.
    this.#readyState = ReadyState.CONNECTING;
    // 1.3. Fire an event named error at the EventSource object.
    this.dispatchEvent(
      new EventSourceErrorEvent('error', {
        message: `${message}; reconnecting in ${wait} ms`,
        error,
        status: refused?.status,
      }),
    );
    // A listener may have called close().
    if (this.#readyState !== ReadyState.CONNECTING) return;
    // 2. Wait a delay equal to the reconnection time of the event source
    //    (or, retrying a refused answer, the `retry` option's backoff).
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // 5.1. If the EventSource object's readyState attribute is not set to CONNECTING, then return.
      if (this.#readyState !== ReadyState.CONNECTING) return;
      // 5.2-5.4. Fetch request again (Last-Event-ID is set in #send).
      this.#fetch([this.#url], this.#headers, this.#outgoing);
    }, wait);
  }

  /**
   * A fatal answer: CLOSED, then one error event carrying the HTTP status.
   * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#fail-the-connection
   */
  #failTheConnection(message: string, status?: number): void {
    // If readyState is not CLOSED, set it to CLOSED and fire an event named error.
    if (this.#readyState === ReadyState.CLOSED) return;
    this.close();
    this.dispatchEvent(new EventSourceErrorEvent('error', { message, status }));
  }
}

/** Settles as `promise` does, or rejects with the abort reason when `signal` aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

shapeInterface(EventSourceClient, {
  name: 'EventSource',
  length: 1,
  constants: ReadyState,
  members: ['url', 'withCredentials', 'readyState', 'onopen', 'onmessage', 'onerror', 'close'],
});
