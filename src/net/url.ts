// URL and subprotocol validation for new WebSocket(url, protocols), a pure
// module.
//
// References:
// - WHATWG WebSockets, the WebSocket(url, protocols) constructor steps:
//   https://websockets.spec.whatwg.org/#dom-websocket-websocket
// - RFC 6455 §4.1: Sec-WebSocket-Protocol elements are tokens (RFC 2616)

import { isToken } from './headers.js';

/** Runs constructor steps 1-7: parse, map http(s) to ws(s), refuse the rest. */
export function parseWebSocketUrl(url: string | URL): URL {
  // 1-3. Let urlRecord be the result of applying the URL parser to url. If
  //      urlRecord is failure, then throw a "SyntaxError" DOMException.
  //      (Node has no document, so there is no base URL.)
  let record: URL;
  try {
    record = new URL(String(url));
  } catch {
    throw new DOMException(`The URL '${String(url)}' is invalid.`, 'SyntaxError');
  }
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

/** Runs constructor steps 8-9 on the protocols argument. */
export function validateProtocols(protocols: string | readonly string[] | undefined | null): string[] {
  if (protocols === undefined || protocols === null) return [];
  // 8. If protocols is a string, set protocols to a sequence consisting of just that string.
  if (typeof protocols !== 'string' && typeof (protocols as Iterable<string>)[Symbol.iterator] !== 'function') {
    // WebIDL: a value that is not a sequence is a TypeError. Most often, ws-style options.
    throw new TypeError(
      'protocols must be a string or an array of strings; options go after them: new WebSocket.Client(url, [], options)',
    );
  }
  const list = typeof protocols === 'string' ? [protocols] : [...protocols].map(String);
  // 9. If any of the values in protocols occur more than once or otherwise fail
  //    to match the requirements for elements that comprise the value of
  //    `Sec-WebSocket-Protocol` fields as defined by The WebSocket protocol,
  //    then throw a "SyntaxError" DOMException.
  const seen = new Set<string>();
  for (const protocol of list) {
    if (!isToken(protocol)) {
      throw new DOMException(`The subprotocol '${protocol}' is invalid.`, 'SyntaxError');
    }
    if (seen.has(protocol)) {
      throw new DOMException(`The subprotocol '${protocol}' is duplicated.`, 'SyntaxError');
    }
    seen.add(protocol);
  }
  return list;
}

/** The host and port to connect to, with IPv6 brackets removed. */
export function endpointOf(url: URL): { host: string; port: number; secure: boolean } {
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port ? Number(url.port) : secure ? 443 : 80, secure };
}
