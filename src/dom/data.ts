// Conversions between what send() accepts, what goes on the wire, and what a
// MessageEvent carries. A pure module.
//
// References:
// - WHATWG WebSockets, send(data): https://websockets.spec.whatwg.org/#dom-websocket-send
// - WHATWG WebSockets, feedback from the protocol (binaryType):
//   https://websockets.spec.whatwg.org/#feedback-from-the-protocol

/** The three ways binary message data can be delivered. */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

/** The two binaryType values browsers know. */
export type WebBinaryType = 'blob' | 'arraybuffer';

export const BINARY_TYPES: readonly BinaryType[] = ['blob', 'arraybuffer', 'nodebuffer'];

/** Checks a binaryType value; throws a TypeError for anything else. */
export function binaryType(value: unknown): BinaryType {
  if (!BINARY_TYPES.includes(value as BinaryType)) {
    throw new TypeError(
      `binaryType must be one of ${BINARY_TYPES.map((t) => `'${t}'`).join(', ')}, not ${String(value)}`,
    );
  }
  return value as BinaryType;
}

/** Anything send() accepts. Other values are converted with String(), as WebIDL does. */
export type SendData = string | ArrayBufferLike | ArrayBufferView | Blob;

/** A message ready for the driver, or a Blob still to be read. */
export type Payload =
  | { kind: 'text'; data: string; size: number }
  | { kind: 'binary'; data: Buffer; size: number }
  | { kind: 'blob'; data: Blob; size: number };

/**
 * Classifies the argument of send() and measures it in bytes, without copying.
 * Typed arrays and DataViews are viewed, not copied: the caller copies when the
 * bytes may be read after send() returns.
 */
export function toPayload(data: unknown): Payload {
  if (typeof data === 'string') {
    return { kind: 'text', data, size: Buffer.byteLength(data, 'utf8') };
  }
  if (Buffer.isBuffer(data)) {
    return { kind: 'binary', data, size: data.length };
  }
  if (ArrayBuffer.isView(data)) {
    const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return { kind: 'binary', data: view, size: view.length };
  }
  if (data instanceof ArrayBuffer || isSharedArrayBuffer(data)) {
    const view = Buffer.from(data as ArrayBuffer);
    return { kind: 'binary', data: view, size: view.length };
  }
  if (data instanceof Blob) {
    return { kind: 'blob', data, size: data.size };
  }
  const text = String(data);
  return { kind: 'text', data: text, size: Buffer.byteLength(text, 'utf8') };
}

/** Whether `data` is a SharedArrayBuffer (the global may be missing: cross-origin isolation, some runtimes). */
export function isSharedArrayBuffer(data: unknown): data is SharedArrayBuffer {
  return typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer;
}

/** Converts a received binary message to the type binaryType asks for. */
export function toMessageData(data: Buffer, binaryType: BinaryType): Buffer | ArrayBuffer | Blob {
  switch (binaryType) {
    case 'nodebuffer':
      return data;
    case 'arraybuffer':
      return toArrayBuffer(data);
    case 'blob':
      return new Blob([data]);
  }
}

/** An ArrayBuffer holding exactly the bytes of the buffer; no copy when it already does. */
export function toArrayBuffer(data: Buffer): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = data;
  if (byteOffset === 0 && byteLength === buffer.byteLength && buffer instanceof ArrayBuffer) {
    return buffer;
  }
  return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
}
