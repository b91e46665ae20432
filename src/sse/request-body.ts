// EventSource.Client's Node-only `method` and `body`: their checks (Fetch's
// rules, as `new Request()` applies them), the body a connection sends, and
// the redirect rule that turns a POST into a GET. The client sends what this
// module hands it.
//
// Calling contract: resolveMethod(init.method) and resolveBody(init.body,
// method) once, at construction (TypeError on a bad value). For each request,
// openBody(source) gives the bytes or the chunks to send and the Content-Type
// to send when the application gave none; replayable(source) says whether a
// later request (reconnection, retry, 307/308 redirect) can send it again.
// An async iterable is read by the first request only: a second request then
// fails the connection (with this message) rather than go without its body;
// a function returning a body is called for each request instead.
//
// The reasons behind these choices: docs/decisions/eventsource-client-requests.md
//
// References:
// - Fetch, Request constructor (method checks, "Request with GET/HEAD method
//   cannot have body"): https://fetch.spec.whatwg.org/#dom-request
// - Fetch, forbidden method and normalize: https://fetch.spec.whatwg.org/#methods
// - Fetch, extract a body (the Content-Type of each kind):
//   https://fetch.spec.whatwg.org/#concept-bodyinit-extract
// - Fetch, HTTP-redirect fetch, steps 11-12 (a stream body cannot follow a
//   307/308; 301/302 POST and 303 become a body-less GET):
//   https://fetch.spec.whatwg.org/#http-redirect-fetch
// - RFC 9110 §9.1 (method = token)

import { isToken } from '../net/headers.js';

/** One body: what `fetch()` takes, less FormData and ReadableStream (pass an async iterable). */
export type EventSourceBodyInit =
  | string
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | URLSearchParams
  | AsyncIterable<Uint8Array | string>;

/**
 * The `body` option of `EventSource.Client`: a body, sent again on every
 * reconnection, or a function called for each request (reconnections
 * included) that returns one, for a body that changes or is streamed.
 */
export type EventSourceBody = EventSourceBodyInit | (() => EventSourceBodyInit | Promise<EventSourceBodyInit>);

/** The `body` option checked. */
export type BodySource =
  | { kind: 'value'; value: Exclude<EventSourceBodyInit, AsyncIterable<unknown>> }
  | { kind: 'iterable'; value: AsyncIterable<unknown>; used: boolean }
  | { kind: 'function'; value: () => unknown };

/** What one request sends. */
export type OpenedBody =
  | { bytes: Buffer; contentType: string | undefined }
  | { chunks: AsyncIterable<unknown>; contentType: undefined };

const NORMALIZED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const FORBIDDEN = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** Why a body cannot be sent twice, for the error that fails the connection. */
export const ONE_SHOT_BODY =
  'the body is an async iterable, read by the first request: pass a function that returns a new body for each request';

/**
 * Checks the `method` option as the Request constructor does, and normalizes
 * it (`post` is `POST`). Throws a TypeError for a non-token (CR, LF, space),
 * Fetch's forbidden methods, and HEAD (its answer has no body to stream).
 */
export function resolveMethod(value: unknown): string {
  if (value === undefined) return 'GET';
  if (typeof value !== 'string' || !isToken(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 50)) : typeof value;
    throw new TypeError(`method: ${shown} is not a valid HTTP method (a token, RFC 9110 §9.1)`);
  }
  const upper = value.toUpperCase();
  // Fetch: if method is a forbidden method, then throw a TypeError.
  if (FORBIDDEN.has(upper)) throw new TypeError(`method: ${value} is a forbidden method (Fetch)`);
  // Fetch: normalize method (byte-uppercase DELETE, GET, HEAD, OPTIONS, POST, PUT).
  const method = NORMALIZED.has(upper) ? upper : value;
  if (method === 'HEAD') {
    throw new TypeError('method: HEAD is answered without a body, so no event stream can arrive; use GET or POST');
  }
  return method;
}

/**
 * Checks the `body` option. Throws a TypeError for a body with GET (Fetch:
 * "Request with GET/HEAD method cannot have body") and for a value of no
 * body kind.
 */
export function resolveBody(value: unknown, method: string): BodySource | undefined {
  if (value === undefined || value === null) return undefined;
  if (method === 'GET') {
    throw new TypeError('body: a GET request cannot have a body (Fetch); add method: "POST"');
  }
  if (typeof value === 'function') return { kind: 'function', value: value as () => unknown };
  if (isBodyValue(value)) return { kind: 'value', value };
  if (isAsyncIterable(value)) return { kind: 'iterable', value, used: false };
  throw new TypeError(
    `body must be a string, ArrayBuffer, TypedArray, Buffer, DataView, Blob, URLSearchParams, an async iterable of chunks, or a function returning one, not ${describe(value)}`,
  );
}

/** Whether a later request can send the body again. */
export function replayable(source: BodySource | undefined): boolean {
  return source?.kind !== 'iterable' || !source.used;
}

/**
 * The body of one request. Rejects with a TypeError when a function returns
 * something that is not a body, and with ONE_SHOT_BODY's message when an
 * iterable was read already.
 */
export async function openBody(source: BodySource): Promise<OpenedBody> {
  if (source.kind === 'iterable') {
    // Marked used by the client when a request starts reading it, so a
    // connection refused before any byte was sent does not spend it.
    if (source.used) throw new Error(ONE_SHOT_BODY);
    return { chunks: source.value, contentType: undefined };
  }
  let value: unknown = source.value;
  if (source.kind === 'function') {
    value = await (source.value as () => unknown)();
    if (isAsyncIterable(value) && !isBodyValue(value)) return { chunks: value, contentType: undefined };
    if (!isBodyValue(value)) {
      throw new TypeError(`The body function returned ${describe(value)}, which is not a body`);
    }
  }
  return extract(value as Exclude<EventSourceBodyInit, AsyncIterable<unknown>>);
}

/** @see https://fetch.spec.whatwg.org/#concept-bodyinit-extract */
async function extract(value: Exclude<EventSourceBodyInit, AsyncIterable<unknown>>): Promise<OpenedBody> {
  // USVString: UTF-8 encode; type `text/plain;charset=UTF-8`.
  if (typeof value === 'string') return { bytes: Buffer.from(value, 'utf8'), contentType: 'text/plain;charset=UTF-8' };
  // URLSearchParams: the application/x-www-form-urlencoded serializer.
  if (value instanceof URLSearchParams) {
    return {
      bytes: Buffer.from(value.toString(), 'utf8'),
      contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
    };
  }
  // Blob: its bytes; its type when not empty.
  if (value instanceof Blob) {
    return { bytes: Buffer.from(await value.arrayBuffer()), contentType: value.type === '' ? undefined : value.type };
  }
  // BufferSource: a copy of its bytes; no type.
  if (value instanceof ArrayBuffer) return { bytes: Buffer.from(value.slice(0)), contentType: undefined };
  return {
    bytes: Buffer.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)),
    contentType: undefined,
  };
}

/**
 * Fetch, HTTP-redirect fetch, step 12: whether a redirect with `status` turns
 * a `method` request into a GET without a body (301/302 after POST, 303
 * after anything but GET and HEAD).
 */
export function redirectDropsBody(status: number, method: string): boolean {
  return ((status === 301 || status === 302) && method === 'POST') || (status === 303 && method !== 'GET');
}

/** Fetch's request-body-header names, removed with the body on such a redirect. */
export const REQUEST_BODY_HEADERS = new Set([
  'content-encoding',
  'content-language',
  'content-location',
  'content-type',
]);

/** One chunk of an iterable body as bytes, or a TypeError for what is neither a string nor bytes. */
export function chunkBytes(chunk: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`The body's iterable yielded ${describe(chunk)}; chunks must be strings or Uint8Arrays`);
}

function isBodyValue(value: unknown): value is Exclude<EventSourceBodyInit, AsyncIterable<unknown>> {
  return (
    typeof value === 'string' ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    value instanceof Blob ||
    value instanceof URLSearchParams
  );
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `a ${typeof value}`;
}
