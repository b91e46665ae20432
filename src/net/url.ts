// URL and subprotocol validation for new WebSocket(url, protocols), and the
// API base URL that relative URLs resolve against (Node has no document; the
// application names one with setGlobalOrigin, as with undici). A pure module
// but for that one setting.
//
// References:
// - WHATWG WebSockets, the WebSocket(url, protocols) constructor steps:
//   https://websockets.spec.whatwg.org/#dom-websocket-websocket
// - HTML, API base URL: https://html.spec.whatwg.org/multipage/webappapis.html#api-base-url
// - undici lib/web/fetch/global.js (setGlobalOrigin, getGlobalOrigin)
// - RFC 6455 §4.1: Sec-WebSocket-Protocol elements are tokens (RFC 2616)

import { isToken } from './headers.js';

let globalOrigin: URL | undefined;

/**
 * Sets the base URL that relative URLs given to `WebSocket.Client`,
 * `WebSocketStream` and `EventSource.Client` resolve against: in a browser
 * the document's URL, in Node whatever the application says (undici's
 * function of the same name). `undefined` removes it. Without one, the
 * clients read `globalThis.location` where the runtime defines it (Deno with
 * `--location`), and otherwise a relative URL is a `SyntaxError`, as an
 * unparsable one is.
 *
 * @param origin An `http:` or `https:` URL; anything else is a TypeError.
 * @see https://html.spec.whatwg.org/multipage/webappapis.html#api-base-url
 * @example
 * setGlobalOrigin('https://app.example/chat/');
 * new WebSocket.Client('/live');   // wss://app.example/live
 */
export function setGlobalOrigin(origin: string | URL | undefined): void {
  if (origin === undefined) {
    globalOrigin = undefined;
    return;
  }
  let url: URL;
  try {
    url = new URL(String(origin));
  } catch {
    throw new TypeError(
      `The global origin must be an absolute http: or https: URL, not ${JSON.stringify(String(origin))}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`The global origin must be an http: or https: URL, not ${url.protocol}`);
  }
  globalOrigin = url;
}

/** The URL set with {@link setGlobalOrigin}, or undefined. */
export function getGlobalOrigin(): URL | undefined {
  return globalOrigin === undefined ? undefined : new URL(globalOrigin.href);
}

/**
 * The API base URL: the one set with {@link setGlobalOrigin}, else
 * `globalThis.location.href` where the runtime has one, else none.
 */
export function apiBaseUrl(): string | undefined {
  if (globalOrigin !== undefined) return globalOrigin.href;
  try {
    // Deno without --location throws on reading location.
    const href = (globalThis as { location?: { href?: unknown } }).location?.href;
    return typeof href === 'string' ? href : undefined;
  } catch {
    return undefined;
  }
}

/** Parses `url` against the API base URL; a SyntaxError DOMException when it does not parse. */
export function parseUrl(url: string | URL): URL {
  const text = String(url);
  try {
    return new URL(text, apiBaseUrl());
  } catch {
    throw new DOMException(`The URL '${text}' is invalid.`, 'SyntaxError');
  }
}

/** Runs constructor steps 1-7: parse, map http(s) to ws(s), refuse the rest. */
export function parseWebSocketUrl(url: string | URL): URL {
  // 1. Let baseURL be this's relevant settings object's API base URL.
  // 2. Let urlRecord be the result of applying the URL parser to url with baseURL.
  // 3. If urlRecord is failure, then throw a "SyntaxError" DOMException.
  const record = parseUrl(url);
  // 4. If urlRecord's scheme is "http", then set urlRecord's scheme to "ws".
  // 5. Otherwise, if urlRecord's scheme is "https", set urlRecord's scheme to "wss".
  if (record.protocol === 'http:') record.protocol = 'ws:';
  else if (record.protocol === 'https:') record.protocol = 'wss:';
  // 6. If urlRecord's scheme is not "ws" or "wss", then throw a "SyntaxError" DOMException.
  if (record.protocol !== 'ws:' && record.protocol !== 'wss:') {
    throw new DOMException(
      `The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${record.protocol.slice(0, -1)}' is not allowed.`,
      'SyntaxError',
    );
  }
  // 7. If urlRecord's fragment is non-null, then throw a "SyntaxError" DOMException.
  if (record.hash !== '' || record.href.endsWith('#')) {
    throw new DOMException(
      `The URL contains a fragment identifier ('${record.hash}'). Fragment identifiers are not allowed in WebSocket URLs.`,
      'SyntaxError',
    );
  }
  return record;
}

/**
 * Runs constructor steps 8-9 on the protocols argument, converted as WebIDL
 * converts `(DOMString or sequence<DOMString>)`: an iterable object is a
 * sequence, any other value a string. `undefined` and `null` (faye's "no
 * protocols") are the empty list.
 */
export function validateProtocols(protocols: string | readonly string[] | undefined | null): string[] {
  if (protocols === undefined || protocols === null) return [];
  let list: string[];
  if (typeof protocols === 'object' || typeof protocols === 'function') {
    if (typeof (protocols as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      // Note: departure from WebIDL, which would make it the string
      // "[object Object]" and throw a SyntaxError: it is most often ws-style
      // options in the protocols' place, and the TypeError says so.
      throw new TypeError(
        'protocols must be a string or an array of strings; options go after them: new WebSocket.Client(url, [], options)',
      );
    }
    list = [...(protocols as Iterable<unknown>)].map((protocol) => toProtocolString(protocol));
  } else {
    // 8. If protocols is a string, set protocols to a sequence consisting of just that string.
    list = [toProtocolString(protocols)];
  }
  // 9. If any of the values in protocols occur more than once or otherwise fail
  //    to match the requirements for elements that comprise the value of
  //    `Sec-WebSocket-Protocol` fields as defined by The WebSocket protocol,
  //    then throw a "SyntaxError" DOMException. (Compared ignoring ASCII case,
  //    as WPT's Create-protocols-repeated-case-insensitive expects.)
  const seen = new Set<string>();
  for (const protocol of list) {
    if (!isToken(protocol)) {
      throw new DOMException(`The subprotocol '${protocol}' is invalid.`, 'SyntaxError');
    }
    const folded = protocol.toLowerCase();
    if (seen.has(folded)) {
      throw new DOMException(`The subprotocol '${protocol}' is duplicated.`, 'SyntaxError');
    }
    seen.add(folded);
  }
  return list;
}

function toProtocolString(value: unknown): string {
  if (typeof value === 'symbol') throw new TypeError('A subprotocol cannot be a Symbol');
  return String(value);
}

/** The host and port to connect to, with IPv6 brackets removed. */
export function endpointOf(url: URL): { host: string; port: number; secure: boolean } {
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port ? Number(url.port) : secure ? 443 : 80, secure };
}
