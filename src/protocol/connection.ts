// One WebSocket connection after its opening handshake, Sans-I/O in spirit:
// bytes in, bytes and events out; no sockets, no timers.
//
// Calling contract (the whole of it):
//
//   new Connection(owner, handler, { client, maxLength, extensions, maxFragments? })
//   receive(bytes)          bytes from the peer, any split; the connection owns them
//                           from then on (it unmasks in place, and a message may be
//                           a view of them). false: over MAX_UNPARSED bytes wait
//                           unparsed behind a message in the extensions; stop
//                           reading until handler.resume()
//   text(string, size)      send a text message (size: its UTF-8 bytes)
//   binary(buffer)          send a binary message
//   ping(buffer)            send a ping (at most 125 bytes: the caller checks)
//   close(code?, reason)    start the closing handshake (no code: an empty close frame)
//   fail(code, reason)      fail the connection: send `code` if no close frame went
//                           out yet, then ignore everything; true if it was not closed
//   abort()                 the transport is gone: ignore everything, send nothing
//
//   handler.write(owner, bytes, completes)   bytes for the peer, in order; `completes`
//                                            is the size of the message they end, else 0
//   handler.message(owner, data)             a message: string (text) or Buffer (binary)
//   handler.ping(owner, payload)             a ping arrived (the pong is already written)
//   handler.pong(owner, payload)             a pong arrived
//   handler.closing(owner, code, reason)     the peer's close frame arrived (1005 when it
//                                            had no code); ours is written. Drop TCP now
//                                            (server) or when the server does (client).
//   handler.failed(owner, code, reason)      the peer broke the protocol; `code` was sent
//   handler.resume(owner)                    after receive() returned false: what waited
//                                            is parsed (at most MAX_UNPARSED bytes left);
//                                            read again
//
// The state record: OPEN, then CLOSING once our close frame is out, then
// CLOSED once both close frames crossed or the connection failed. Every
// handler call happens inside receive() or a send method, or, with extensions
// active, in their callbacks; never after CLOSED but for the one closing() or
// failed() call that reports it.
//
// What a peer can make it hold (src/protocol/reader.ts keeps the bytes not
// parsed yet): a message in one frame that arrived whole is a view of the
// bytes received; any other message (fragmented, or one frame in several
// chunks) is copied as its bytes arrive into one buffer, at most twice the
// bytes received and at most maxLength, and the chunks are let go; text is
// checked as UTF-8 as it arrives (src/protocol/utf8.ts), so 1007 comes inside
// a frame. A message may arrive in at most maxFragments frames (default
// maxLength / 64, at least 16,384), so empty fragments count too: 1009
// beyond. While a message is in the extensions, what follows waits in the
// reader as raw bytes, not parsed, and past MAX_UNPARSED bytes receive()
// returns false so that the caller stops reading (TCP's or HTTP/2's flow
// control then holds the rest at the peer). Measurements and the choices behind them:
// docs/decisions/fragments.md.
//
// Why our own framing under websocket-driver's handshake: the driver's
// per-connection stream objects were 3.2 KB of an idle connection's 6.6 KB
// (measured with `npm run bench`, 10,000 connections), it reports an empty
// close frame as 1000 (RFC 6455 §7.1.5 says 1005), checks UTF-8 only at a
// message's end, and its fast paths could only be had by patching its
// prototypes for the whole process.
//
// References:
// - RFC 6455 §5 (framing), §5.5 (control frames), §7 (closing), §8.1 (UTF-8):
//   https://www.rfc-editor.org/rfc/rfc6455
// - RFC 7692 §6, permessage-deflate framing (RSV1 on the first frame only)
// - python-websockets src/websockets/protocol.py (the Sans-I/O shape)
// - websockets/ws lib/receiver.js (the checks, in the same order; maxFragments)

import { isUtf8 } from 'node:buffer';
import {
  fitReason,
  INTERNAL_ERROR,
  INVALID_PAYLOAD,
  isSendableCode,
  MESSAGE_TOO_BIG,
  NO_STATUS_RECEIVED,
  PROTOCOL_ERROR,
} from './codes.js';
import { type ExtensionMessage, isTooLarge, type Negotiated } from './extensions.js';
import {
  encodeClose,
  encodeControl,
  encodeMessage,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
  RSV1,
} from './frame.js';
import { mask } from './mask.js';
import { Reader } from './reader.js';
import { checkUtf8 } from './utf8.js';

/** What a connection reports to, with its owner passed back (no closures per connection). */
export interface ConnectionHandler<O> {
  write(owner: O, data: Buffer, completes: number): void;
  message(owner: O, data: string | Buffer): void;
  ping(owner: O, payload: Buffer): void;
  pong(owner: O, payload: Buffer): void;
  closing(owner: O, code: number, reason: string): void;
  failed(owner: O, code: number, reason: string): void;
  /** After receive() returned false: what waited is parsed; read again (a caller that never stops reading needs none). */
  resume?(owner: O): void;
}

export interface ConnectionOptions {
  /** The client masks what it sends and refuses masked frames; the server the reverse. */
  client: boolean;
  /** The largest message, in bytes, whole or fragmented (compressed ones once inflated). */
  maxLength: number;
  /** The extensions the handshake activated. */
  extensions?: Negotiated | undefined;
  /**
   * The most frames one message may arrive in (ws's name); more close with
   * 1009. Default {@link defaultMaxFragments}(maxLength).
   */
  maxFragments?: number | undefined;
}

/** A fragment counts as at least this many bytes of maxLength toward the fragment limit. */
export const FRAGMENT_COST = 64;
/** The fragment limit is never below ws's default, whatever maxLength. */
export const MIN_MAX_FRAGMENTS = 16_384;

/**
 * The default fragment limit: one fragment per {@link FRAGMENT_COST} bytes of
 * maxLength, and at least {@link MIN_MAX_FRAGMENTS}: 1,048,575 for the
 * default maxLength (2^26 - 1), so a message of maxLength bytes in fragments
 * of 64 bytes or more is only ever limited by its size (Autobahn 9.3 and 9.4
 * send 4 MiB in 65,536 fragments of 64 bytes).
 */
export function defaultMaxFragments(maxLength: number): number {
  return Math.max(MIN_MAX_FRAGMENTS, Math.floor(maxLength / FRAGMENT_COST));
}

/**
 * How many bytes from the peer may wait unparsed behind a message that the
 * extensions are still processing before receive() returns false: the
 * caller stops reading until handler.resume().
 */
export const MAX_UNPARSED = 16 * 1024;

const OPEN = 0;
const CLOSING = 1;
const CLOSED = 2;

const EMPTY = Buffer.alloc(0);
/** The smallest buffer a message being assembled starts with. */
const MIN_MESSAGE_BUFFER = 1024;
/** The key of the frame being unmasked: written just before each use. */
const KEY = Buffer.alloc(4);

/**
 * A WebSocket connection's protocol state: framing, fragmentation, control
 * frames, the closing handshake, UTF-8, maxLength, extensions.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6455
 */
export class Connection<O> {
  readonly #owner: O;
  readonly #handler: ConnectionHandler<O>;
  readonly #client: boolean;
  readonly #maxLength: number;
  readonly #extensions: Negotiated | undefined;
  #state = OPEN;

  /** Input not parsed yet. */
  readonly #reader = new Reader();

  // The frame being read: its payload length (-1 while reading a header),
  // and, once its payload is read as it arrives, the bytes still to come.
  #length = -1;
  #remaining = -1;
  #opcode = 0;
  #fin = false;
  #rsv = 0;
  #masked = false;
  #key = 0;

  // The message being assembled (fragmented, or one frame that did not
  // arrive whole): one buffer, its bytes so far, the frames and the length
  // announced so far, and how far its text is checked as UTF-8 (-1: not text
  // checked on arrival).
  readonly #maxFragments: number;
  #messageOpcode = 0;
  #messageRsv = 0;
  #messageLength = 0;
  #fragments = 0;
  #message: Buffer | undefined;
  #filled = 0;
  #checked = -1;

  // With extensions: messages in processing (what comes after them waits,
  // unparsed, in the reader: raw bytes, not an object per frame), and
  // whether the bytes are being parsed now.
  #incoming = 0;
  #parsing = false;
  /** receive() returned false, and handler.resume() has not been called since. */
  #held = false;
  #outgoing: Array<{ frames: Buffer[] | undefined; size: number }> | undefined;

  constructor(owner: O, handler: ConnectionHandler<O>, options: ConnectionOptions) {
    this.#owner = owner;
    this.#handler = handler;
    this.#client = options.client;
    this.#maxLength = options.maxLength;
    this.#maxFragments = options.maxFragments ?? defaultMaxFragments(options.maxLength);
    this.#extensions = options.extensions;
  }

  /** Whether the connection failed or both close frames crossed. */
  get closed(): boolean {
    return this.#state === CLOSED;
  }

  /** Whether our close frame went out (or the connection is closed). */
  get closing(): boolean {
    return this.#state !== OPEN;
  }

  /** Whether messages wait for an extension (being compressed): bytes written now would pass them. */
  get pending(): boolean {
    return this.#outgoing !== undefined;
  }

  // ---- bytes in -----------------------------------------------------------

  /**
   * Parses bytes from the peer; reports messages, control frames and
   * failures. Returns false when more than {@link MAX_UNPARSED} bytes wait
   * unparsed behind a message in the extensions: the caller stops reading
   * until handler.resume() (RFC 6455 §10.4: bound what a peer makes us hold).
   */
  receive(chunk: Buffer): boolean {
    if (this.#state === CLOSED || chunk.length === 0) return true;
    this.#reader.push(chunk);
    if (this.#incoming === 0) this.#parse();
    if (this.#incoming === 0 || this.#reader.length <= MAX_UNPARSED || this.#state === CLOSED) return true;
    this.#held = true;
    return false;
  }

  /** Parses what the reader holds, until it needs more bytes or a message is in the extensions. */
  #parse(): void {
    const reader = this.#reader;
    this.#parsing = true;
    while (this.#state !== CLOSED && this.#incoming === 0) {
      if (this.#length < 0 && !this.#readHeader()) break;
      const length = this.#length;
      const opcode = this.#opcode;
      if (opcode >= 8) {
        // A control frame (at most 125 bytes): read whole.
        if (reader.length < length) break;
        const payload = reader.take(length);
        this.#length = -1;
        if (this.#masked) this.#unmask(payload, 0);
        this.#readControl(opcode, payload);
        continue;
      }
      if (this.#remaining < 0) {
        if (this.#fin && opcode !== OPCODE_CONTINUATION && reader.contiguous >= length) {
          // The common case: a message in one frame that arrived whole, read as a view.
          const payload = reader.takeSome(length);
          this.#length = -1;
          if (this.#masked) this.#unmask(payload, 0);
          this.#deliver(opcode, this.#rsv, payload, false);
          continue;
        }
        // Else the payload is copied into the message as it arrives (and the chunks let go).
        if (opcode !== OPCODE_CONTINUATION) this.#startMessage(opcode, this.#rsv);
        this.#remaining = length;
      }
      if (!this.#readPayload()) break;
      this.#length = -1;
      this.#remaining = -1;
      if (this.#fin) this.#endMessage();
      else if (this.#checked >= 0) this.#checkText();
    }
    this.#parsing = false;
    // §8.1, failing fast: the text received so far is checked, also inside a frame.
    if (this.#checked >= 0 && this.#state !== CLOSED) this.#checkText();
  }

  /** Reads and checks a frame header; false when more bytes are needed (or it failed). */
  #readHeader(): boolean {
    const reader = this.#reader;
    if (reader.length < 2) return false;
    const first = reader.byteAt(0);
    const second = reader.byteAt(1);
    const length7 = second & 0x7f;
    const masked = (second & 0x80) !== 0;
    const headerLength = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (reader.length < headerLength) return false;

    const fin = (first & 0x80) !== 0;
    const rsv = first & 0x70;
    const opcode = first & 0x0f;
    const control = opcode >= 8;

    if (control) {
      // RFC 6455 §5.2: opcodes 0xB-0xF are reserved for further control frames.
      if (opcode !== OPCODE_CLOSE && opcode !== OPCODE_PING && opcode !== OPCODE_PONG) {
        return this.#protocolError(PROTOCOL_ERROR, `Unknown opcode ${opcode}`);
      }
      // §5.5: control frames MUST NOT be fragmented, and carry at most 125 bytes.
      if (!fin) return this.#protocolError(PROTOCOL_ERROR, 'A fragmented control frame');
      if (length7 > 125) return this.#protocolError(PROTOCOL_ERROR, 'A control frame over 125 bytes');
      // §5.2: RSV bits MUST be 0 unless an extension defines them; none does for control frames.
      if (rsv !== 0) return this.#protocolError(PROTOCOL_ERROR, 'Reserved bits set on a control frame');
    } else if (opcode === OPCODE_CONTINUATION) {
      if (this.#messageOpcode === 0) return this.#protocolError(PROTOCOL_ERROR, 'A continuation frame with no message');
      // RFC 7692 §6.1: RSV1 is set on the first frame of a message only.
      if (rsv !== 0) return this.#protocolError(PROTOCOL_ERROR, 'Reserved bits set on a continuation frame');
    } else if (opcode === OPCODE_TEXT || opcode === OPCODE_BINARY) {
      if (this.#messageOpcode !== 0) {
        return this.#protocolError(PROTOCOL_ERROR, 'A new message before the fragmented one ended');
      }
      if ((rsv & ~(this.#extensions?.rsv ?? 0)) !== 0) {
        return this.#protocolError(PROTOCOL_ERROR, 'Reserved bits set that no extension negotiated');
      }
    } else {
      return this.#protocolError(PROTOCOL_ERROR, `Unknown opcode ${opcode}`);
    }

    // §5.1: a server MUST close the connection on an unmasked frame; a client
    // on a masked one.
    if (masked === this.#client) {
      return this.#protocolError(
        PROTOCOL_ERROR,
        this.#client ? 'Received a masked frame from the server' : 'Received an unmasked frame from the client',
      );
    }

    let length = length7;
    if (length7 === 126) {
      length = (reader.byteAt(2) << 8) | reader.byteAt(3);
    } else if (length7 === 127) {
      const high =
        reader.byteAt(2) * 0x1000000 + ((reader.byteAt(3) << 16) | (reader.byteAt(4) << 8) | reader.byteAt(5));
      // §5.2: the most significant bit MUST be 0.
      if (high >= 0x80000000) return this.#protocolError(PROTOCOL_ERROR, 'A frame length with its top bit set');
      const low =
        reader.byteAt(6) * 0x1000000 + ((reader.byteAt(7) << 16) | (reader.byteAt(8) << 8) | reader.byteAt(9));
      length = high * 0x100000000 + low;
    }
    if (opcode === OPCODE_CONTINUATION) {
      // A message's bytes count toward maxLength however many frames carry
      // them, and so do its frames: at most maxFragments (each one a header
      // to parse, even when empty).
      if (this.#fragments >= this.#maxFragments) {
        return this.#protocolError(MESSAGE_TOO_BIG, `Too many message fragments (over ${this.#maxFragments})`);
      }
      if (this.#messageLength + length > this.#maxLength) {
        return this.#protocolError(MESSAGE_TOO_BIG, `A message over maxLength (${this.#maxLength} bytes)`);
      }
      this.#fragments++;
      this.#messageLength += length;
    } else if (!control && length > this.#maxLength) {
      return this.#protocolError(MESSAGE_TOO_BIG, `A message over maxLength (${this.#maxLength} bytes)`);
    }

    if (masked) {
      const keyAt = headerLength - 4;
      this.#key =
        (reader.byteAt(keyAt) << 24) |
        (reader.byteAt(keyAt + 1) << 16) |
        (reader.byteAt(keyAt + 2) << 8) |
        reader.byteAt(keyAt + 3);
    }
    reader.skip(headerLength);
    this.#masked = masked;
    this.#length = length;
    this.#opcode = opcode;
    this.#fin = fin;
    this.#rsv = rsv;
    return true;
  }

  /** Unmasks `payload`, the frame's bytes from `at` on (the key turns with the offset). */
  #unmask(payload: Buffer, at: number): void {
    const key = this.#key;
    const turn = (at & 3) * 8;
    KEY.writeInt32BE(turn === 0 ? key : (key << turn) | (key >>> (32 - turn)) | 0, 0);
    mask(payload, KEY);
  }

  /** A message in more than one frame, or in one that did not arrive whole, begins. */
  #startMessage(opcode: number, rsv: number): void {
    this.#messageOpcode = opcode;
    this.#messageRsv = rsv;
    this.#messageLength = this.#length;
    this.#fragments = 1;
    this.#filled = 0;
    // Text is checked as it arrives, unless extensions must process it first
    // (compressed bytes are not UTF-8 until inflated).
    this.#checked = opcode === OPCODE_TEXT && rsv === 0 ? 0 : -1;
  }

  /**
   * Copies what has arrived of the frame's payload into the message; true
   * once the frame is complete, false when more bytes are needed (or the
   * connection failed).
   */
  #readPayload(): boolean {
    const reader = this.#reader;
    while (this.#remaining > 0) {
      const count = Math.min(reader.contiguous, this.#remaining);
      if (count === 0) return false;
      if (!this.#reserve(count)) return false;
      const message = this.#message as Buffer;
      const at = this.#filled;
      // Copied straight from the chunk: no view per fragment.
      reader.copySome(message, at, count);
      if (this.#masked) this.#unmaskAt(message, at, count, this.#length - this.#remaining);
      this.#filled = at + count;
      this.#remaining -= count;
    }
    return true;
  }

  /** Unmasks `count` bytes of `target` from `at`, the frame's bytes from `offset` on. */
  #unmaskAt(target: Buffer, at: number, count: number, offset: number): void {
    if (count >= 32) {
      this.#unmask(target.subarray(at, at + count), offset);
      return;
    }
    const key = this.#key;
    for (let i = 0; i < count; i++) {
      target[at + i] = (target[at + i] as number) ^ ((key >>> (24 - ((offset + i) & 3) * 8)) & 0xff);
    }
  }

  /**
   * Makes room for `count` more bytes: one buffer per message, not one per fragment,
   * never more than the message can still become (the frame's end when it
   * is the last, else maxLength), and at most twice the bytes received but
   * in the last frame, whose whole length is allocated once a 32nd of it has
   * arrived (a 1 MiB frame in 64 KiB chunks is copied once, as its chunks
   * come). Pages not written yet are not resident: RSS follows the bytes.
   */
  #reserve(count: number): boolean {
    const filled = this.#filled;
    const need = filled + count;
    const message = this.#message;
    if (message === undefined || need > message.length) {
      const end = this.#fin ? filled + this.#remaining : this.#maxLength;
      // The last frame's end is known: once a 32nd of it is in, one buffer for all of it.
      const size =
        this.#fin && end <= need * 32
          ? end
          : Math.min(end, Math.max(need * 2, (message?.length ?? 0) * 2, MIN_MESSAGE_BUFFER));
      let grown: Buffer;
      try {
        grown = Buffer.allocUnsafe(size);
      } catch {
        this.#protocolError(MESSAGE_TOO_BIG, `Could not allocate ${size} bytes for a message`);
        return false;
      }
      if (message !== undefined) message.copy(grown, 0, 0, filled);
      this.#message = grown;
    }
    return true;
  }

  /**
   * Checks the text message's bytes received since the last check; fails
   * with 1007 at the first that cannot be UTF-8 (a character may still be
   * unfinished at the end). With `end`, the message is complete.
   */
  #checkText(end = false): boolean {
    const filled = this.#filled;
    const checked = this.#checked;
    if (checked === filled) return true;
    const upTo = checkUtf8(this.#message as Buffer, checked, filled);
    if (upTo < 0) return this.#protocolError(INVALID_PAYLOAD, 'Invalid UTF-8 in a text message');
    this.#checked = upTo;
    if (end && upTo !== filled) {
      return this.#protocolError(INVALID_PAYLOAD, 'A text message ended inside a UTF-8 sequence');
    }
    return true;
  }

  /** The last frame of a message is in: the message goes on, and the next may begin. */
  #endMessage(): void {
    const checked = this.#checked >= 0;
    if (checked && !this.#checkText(true)) return;
    const opcode = this.#messageOpcode;
    const rsv = this.#messageRsv;
    const filled = this.#filled;
    const message = this.#message;
    this.#resetMessage();
    let data = message === undefined ? EMPTY : message.subarray(0, filled);
    if (message !== undefined && message.length - filled > filled >>> 2 && filled >= MIN_MESSAGE_BUFFER) {
      // The doubling left over a quarter unused: the message gets a buffer of its own size.
      data = Buffer.from(data);
    }
    this.#deliver(opcode, rsv, data, checked);
  }

  #resetMessage(): void {
    this.#messageOpcode = 0;
    this.#messageRsv = 0;
    this.#messageLength = 0;
    this.#fragments = 0;
    this.#message = undefined;
    this.#filled = 0;
    this.#checked = -1;
  }

  #readControl(opcode: number, payload: Buffer): void {
    if (opcode === OPCODE_PING) {
      // §5.5.2: answer with a pong carrying the same data, unless we are closing.
      if (this.#state === OPEN) this.#write(encodeControl(OPCODE_PONG, payload, this.#client), 0);
      this.#handler.ping(this.#owner, payload);
      return;
    }
    if (opcode === OPCODE_PONG) {
      this.#handler.pong(this.#owner, payload);
      return;
    }
    this.#receiveClose(payload);
  }

  /**
   * A whole message: through the extensions when any are active, then to
   * the handler. `checked`: text already checked as UTF-8 as it arrived.
   */
  #deliver(opcode: number, rsv: number, data: Buffer, checked: boolean): void {
    const extensions = this.#extensions;
    if (extensions === undefined) {
      this.#emitMessage(opcode, data, checked);
      return;
    }
    // What follows waits in the reader until this message is out of the extensions.
    this.#incoming++;
    const message: ExtensionMessage = {
      rsv1: (rsv & 0x40) !== 0,
      rsv2: (rsv & 0x20) !== 0,
      rsv3: (rsv & 0x10) !== 0,
      opcode,
      data,
    };
    extensions.incoming(message, (error, result) => {
      this.#incoming--;
      if (this.#state === CLOSED) return;
      if (error || !result) {
        if (isTooLarge(error)) this.#protocolError(MESSAGE_TOO_BIG, (error as Error).message);
        else this.#protocolError(INVALID_PAYLOAD, `Could not decode a message: ${error?.message ?? 'no data'}`);
        return;
      }
      // permessage-deflate checks nothing of its own; a custom extension might inflate too.
      if (result.data.length > this.#maxLength) {
        this.#protocolError(MESSAGE_TOO_BIG, `A message over maxLength (${this.#maxLength} bytes)`);
        return;
      }
      this.#emitMessage(opcode, result.data, false);
      // Called back at once (inside #parse), its loop goes on; later, parsing resumes here.
      if (this.#parsing || this.#state === CLOSED) return;
      this.#parse();
      if (this.#held && this.#state !== CLOSED && (this.#incoming === 0 || this.#reader.length <= MAX_UNPARSED)) {
        this.#held = false;
        this.#handler.resume?.(this.#owner);
      }
    });
  }

  #emitMessage(opcode: number, data: Buffer, checked: boolean): void {
    if (this.#state === CLOSED) return;
    if (opcode === OPCODE_BINARY) {
      this.#handler.message(this.#owner, data);
      return;
    }
    // §8.1: invalid UTF-8 in a text message fails the connection.
    if (!checked && !isUtf8(data)) {
      this.#protocolError(INVALID_PAYLOAD, 'Invalid UTF-8 in a text message');
      return;
    }
    let text: string;
    try {
      text = data.toString('utf8');
    } catch {
      // Past the longest string JavaScript can hold (only with a maxLength that large).
      this.#protocolError(MESSAGE_TOO_BIG, 'A text message too long for a JavaScript string');
      return;
    }
    this.#handler.message(this.#owner, text);
  }

  /** @see https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1 */
  #receiveClose(payload: Buffer): void {
    // A close frame's body is empty, or a 2-byte code then a UTF-8 reason.
    if (payload.length === 1) {
      this.#protocolError(PROTOCOL_ERROR, 'A close frame with a 1-byte body');
      return;
    }
    let code = NO_STATUS_RECEIVED;
    let reason = '';
    if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      // §7.4: a code outside those an endpoint may send is a protocol error.
      if (!isSendableCode(code)) {
        this.#protocolError(PROTOCOL_ERROR, `Invalid close code ${code}`);
        return;
      }
      const bytes = payload.subarray(2);
      if (!isUtf8(bytes)) {
        this.#protocolError(INVALID_PAYLOAD, 'Invalid UTF-8 in a close reason');
        return;
      }
      reason = bytes.toString('utf8');
    }
    const answer = this.#state === OPEN;
    this.#state = CLOSED;
    // §5.5.1: "If an endpoint receives a Close frame and did not previously
    // send a Close frame, the endpoint MUST send a Close frame in response."
    // It echoes the code and reason (as ws does); an empty close frame is
    // answered with an empty one.
    if (answer) this.#queueOrWrite(encodeClose(code === NO_STATUS_RECEIVED ? undefined : code, reason, this.#client));
    this.#release();
    this.#handler.closing(this.#owner, code, reason);
  }

  #protocolError(code: number, reason: string): false {
    if (this.fail(code, reason)) this.#handler.failed(this.#owner, code, reason);
    return false;
  }

  // ---- bytes out ----------------------------------------------------------

  /** Sends a text message of `size` UTF-8 bytes. */
  text(data: string, size: number): void {
    this.#send(OPCODE_TEXT, data, size);
  }

  /** Sends a binary message. The buffer must not change until it is written. */
  binary(data: Buffer): void {
    this.#send(OPCODE_BINARY, data, data.length);
  }

  #send(opcode: number, data: string | Buffer, size: number): void {
    if (this.#state !== OPEN) return;
    const extensions = this.#extensions;
    if (extensions === undefined || size < extensions.threshold) {
      const frames = encodeMessage(data, this.#client, size, opcode);
      if (this.#outgoing === undefined) this.#writeFrames(frames, size);
      else this.#outgoing.push({ frames, size });
      return;
    }
    const slot: { frames: Buffer[] | undefined; size: number } = { frames: undefined, size };
    this.#outgoing ??= [];
    this.#outgoing.push(slot);
    const message: ExtensionMessage = {
      rsv1: false,
      rsv2: false,
      rsv3: false,
      opcode,
      data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
    };
    extensions.outgoing(message, (error, result) => {
      if (this.#outgoing === undefined) return;
      if (error || !result) {
        this.#outgoing = undefined;
        this.#protocolError(INTERNAL_ERROR, `An extension could not process a message: ${error?.message ?? 'no data'}`);
        return;
      }
      const rsv = (result.rsv1 ? RSV1 : 0) | (result.rsv2 ? 0x20 : 0) | (result.rsv3 ? 0x10 : 0);
      slot.frames = encodeMessage(result.data, this.#client, result.data.length, opcode, rsv);
      this.#flushOutgoing();
    });
  }

  /** Sends a ping. */
  ping(payload: Buffer): void {
    if (this.#state === OPEN) this.#write(encodeControl(OPCODE_PING, payload, this.#client), 0);
  }

  /**
   * Starts the closing handshake: a close frame with `code` and `reason`, or
   * an empty one when `code` is undefined (RFC 6455 §7.4.1: 1005 MUST NOT be
   * sent; the peer reports 1005 for an empty frame). After pending messages.
   */
  close(code: number | undefined, reason = ''): void {
    if (this.#state !== OPEN) return;
    this.#state = CLOSING;
    this.#queueOrWrite(encodeClose(code, reason, this.#client));
  }

  /**
   * Fails the connection: sends a close frame with `code` if none went out
   * yet (messages still in the extensions are dropped), then ignores
   * everything. Returns false when it was already closed.
   */
  fail(code: number, reason: string): boolean {
    if (this.#state === CLOSED) return false;
    const send = this.#state === OPEN;
    this.#state = CLOSED;
    this.#outgoing = undefined;
    if (send) this.#write(encodeClose(code, fitReason(reason), this.#client), 0);
    this.#release();
    return true;
  }

  /** The transport is gone: drops everything and sends nothing. */
  abort(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#outgoing = undefined;
    this.#release();
  }

  /** Drops input not parsed and the extensions' sessions. */
  #release(): void {
    this.#reader.clear();
    this.#resetMessage();
    this.#extensions?.close();
  }

  #queueOrWrite(frame: Buffer): void {
    if (this.#outgoing === undefined) this.#write(frame, 0);
    else this.#outgoing.push({ frames: [frame], size: 0 });
  }

  #flushOutgoing(): void {
    const queue = this.#outgoing;
    while (queue && queue.length > 0 && (queue[0] as { frames: Buffer[] | undefined }).frames !== undefined) {
      const { frames, size } = queue.shift() as { frames: Buffer[]; size: number };
      this.#writeFrames(frames, size);
    }
    if (queue && queue.length === 0 && this.#outgoing === queue) this.#outgoing = undefined;
  }

  #writeFrames(frames: Buffer[], size: number): void {
    const last = frames.length - 1;
    for (let i = 0; i < last; i++) this.#handler.write(this.#owner, frames[i] as Buffer, 0);
    this.#handler.write(this.#owner, frames[last] as Buffer, size);
  }

  #write(frame: Buffer, size: number): void {
    this.#handler.write(this.#owner, frame, size);
  }
}
