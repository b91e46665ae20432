// permessage-deflate's per-message work, done by isosocket: the
// `permessage-deflate` package still negotiates (its sessions choose the
// parameters), and this codec compresses and decompresses with them, in
// place of the package's session and websocket-extensions' pipeline.
//
// Why: a zlib stream runs each write and each flush as a job in the thread
// pool, and the package's session makes three jobs of an incoming message
// (data, tail, flush) and two of an outgoing one, behind websocket-extensions'
// queues: for a message of a few KiB those hops cost many times the
// compression itself (measured in docs/decisions/deflate.md). Here a message
// of at most SYNC_LIMIT bytes is compressed or decompressed synchronously, in
// one call per flush on the zlib handle the stream already holds (the loop
// zlib.deflateRawSync runs, without closing the stream after it: the
// handle's writeSync and _writeState are Node internals, present in Node 20+,
// Bun and Deno, and checked for before use). A larger message goes to the
// thread pool as one job (every write a sync flush), off the event loop. An
// inflation that grows past SYNC_OUTPUT_LIMIT bytes of output goes on in the
// thread pool from where it was, so no message holds the loop for long,
// however well it compresses; past maxLength it fails with
// MessageTooLargeError (1009), before more output is made.
//
// Contexts: with context takeover, a connection keeps one inflater and one
// deflater for its life (as ws and the package do). Without it, no context
// outlives a message, so synchronous work borrows a process-wide context for
// the parameters (reset after each message), and a connection holds no zlib
// memory at all between messages.
//
// Calling contract: one Codec per connection. processIncomingMessage and
// processOutgoingMessage take messages in order and call back in the same
// order, each exactly once, synchronously when the work was synchronous.
// close() releases the contexts once the messages already given are out
// (as websocket-extensions' pipeline closes): each still calls back, so
// that the per-process job limit (extensions.ts) is never left holding a
// slot. A message given after close() is an error at once.
//
// References:
// - RFC 7692 §7.2.1 (compression: a sync flush, its 00 00 ff ff removed),
//   §7.2.2 (decompression: the tail appended): https://www.rfc-editor.org/rfc/rfc7692
// - RFC 6455 §7.4.1: 1009, a message too big to process
// - Node.js lib/zlib.js, processChunkSync (the handle's writeSync loop) and
//   zlibBufferSync
// - faye/permessage-deflate-node lib/session.js (the session fields read here)

import zlib from 'node:zlib';
import { isBoundedNodeZlib, MessageTooLargeError } from './deflate.js';

/** Messages up to this many bytes (the input: plain going out, compressed coming in) are worked synchronously. */
export const SYNC_LIMIT = 16 * 1024;
/** A synchronous inflation that has produced this much output goes on in the thread pool. */
export const SYNC_OUTPUT_LIMIT = 1024 * 1024;

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const { Z_SYNC_FLUSH } = zlib.constants;

/** A message as websocket-extensions passes it. */
export interface CodecMessage {
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  data: Buffer;
}

type Callback = (error: Error | null, message: CodecMessage | null) => void;

/** What the codec needs of a negotiated permessage-deflate session. */
export interface CodecParameters {
  /** Our compressor keeps its context between messages. */
  readonly ownContextTakeover: boolean;
  /** The peer's does, so our decompressor keeps its context too. */
  readonly peerContextTakeover: boolean;
  readonly ownWindowBits: number;
  readonly peerWindowBits: number;
  readonly level: number;
  readonly memLevel: number;
  readonly strategy: number;
  /** Largest message, inflated. */
  readonly maxLength: number;
}

/** The zlib handle's synchronous write, as lib/zlib.js's processChunkSync calls it. */
interface Handle {
  writeSync(
    flush: number,
    input: Buffer,
    inOffset: number,
    inLength: number,
    output: Buffer,
    outOffset: number,
    outLength: number,
  ): void;
}

type Stream = zlib.InflateRaw | zlib.DeflateRaw;

/** The stream's handle and the two-word state its writes report into, when this runtime has them. */
function handleOf(stream: Stream): { handle: Handle; state: Uint32Array } | undefined {
  const inner = stream as unknown as { _handle?: Partial<Handle> | null; _writeState?: unknown };
  if (typeof inner._handle?.writeSync !== 'function' || !(inner._writeState instanceof Uint32Array)) return undefined;
  return { handle: inner._handle as Handle, state: inner._writeState };
}

function makeStream(inflate: boolean, params: CodecParameters): Stream {
  // Every write a sync flush: a message in the thread pool is one job, not a write and a flush.
  const stream = inflate
    ? zlib.createInflateRaw({ windowBits: Math.max(params.peerWindowBits, 9), flush: Z_SYNC_FLUSH })
    : zlib.createDeflateRaw({
        flush: Z_SYNC_FLUSH,
        windowBits: Math.max(params.ownWindowBits, 9),
        level: params.level,
        memLevel: params.memLevel,
        strategy: params.strategy,
      });
  // Errors are read where they happen; none may reach the process.
  stream.on('error', () => {});
  return stream;
}

// Without context takeover: one idle context per parameter set for the
// process, lent to synchronous work (which cannot interleave) and reset.
const spare = new Map<string, Stream>();

function keyOf(inflate: boolean, params: CodecParameters): string {
  return inflate
    ? `i${params.peerWindowBits}`
    : `d${params.ownWindowBits}:${params.level}:${params.memLevel}:${params.strategy}`;
}

// Output of synchronous work lands here first, then is copied out at its size.
let scratch: Buffer | undefined;

/** Output collected from one message. */
class Output {
  readonly chunks: Buffer[] = [];
  length = 0;

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  join(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.length);
  }
}

/** Where a synchronous run stopped: done, or the unread input left for the thread pool. */
type Stop = { done: true } | { done: false; rest: Buffer[] };

/**
 * Runs `inputs` through the handle synchronously with Z_SYNC_FLUSH, adding
 * the output to `out`. Throws what zlib reported (the stream is destroyed
 * then). Stops early, with the input not yet read, once `budget` bytes of
 * output are made and more is coming; throws MessageTooLargeError past `limit`.
 */
function runSync(stream: Stream, inputs: Buffer[], out: Output, limit: number, budget: number): Stop {
  const found = handleOf(stream) as { handle: Handle; state: Uint32Array };
  const { handle, state } = found;
  scratch ??= Buffer.allocUnsafeSlow(128 * 1024);
  const buffer = scratch;
  for (let index = 0; index < inputs.length; index++) {
    const input = inputs[index] as Buffer;
    let offset = 0;
    let available = input.length;
    for (;;) {
      handle.writeSync(Z_SYNC_FLUSH, input, offset, available, buffer, 0, buffer.length);
      if (stream.destroyed) throw stream.errored ?? new Error('zlib failed');
      const outLeft = state[0] as number;
      const inLeft = state[1] as number;
      offset += available - inLeft;
      available = inLeft;
      const made = buffer.length - outLeft;
      if (made > 0) {
        if (out.length + made > limit) throw tooLarge(limit);
        // A copy at its size: the scratch buffer is used again at once.
        out.add(Buffer.from(buffer.subarray(0, made)));
      }
      if (outLeft !== 0) break;
      // The buffer filled: more output may be waiting.
      if (out.length >= budget) {
        return { done: false, rest: [input.subarray(offset), ...inputs.slice(index + 1)] };
      }
    }
  }
  return { done: true };
}

/** As websocket-extensions reports an extension's error: prefixed with its name. */
function named(error: Error): Error {
  error.message = `permessage-deflate: ${error.message}`;
  return error;
}

function tooLarge(limit: number): MessageTooLargeError {
  return new MessageTooLargeError(`A compressed message inflated past maxLength (${limit} bytes)`);
}

/**
 * Runs `inputs` through the stream in the thread pool, as one write (each
 * write is a sync flush: makeStream), adding the output to `out`; calls back
 * once, with an error (MessageTooLargeError past `limit`, the stream
 * destroyed) or without.
 */
function runAsync(stream: Stream, inputs: Buffer[], out: Output, limit: number, callback: (error?: Error) => void) {
  let finished = false;
  const onData = (chunk: Buffer) => {
    if (finished) return;
    if (out.length + chunk.length > limit) {
      // Stop inflating now: the rest of a bomb is never produced.
      stream.destroy();
      finish(tooLarge(limit));
      return;
    }
    out.add(chunk);
  };
  const finish = (error?: Error | null) => {
    if (finished) return;
    // Output the stream holds unread, if any, is this message's too.
    if (!error && !stream.destroyed) {
      for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) {
        onData(chunk);
        if (finished) return;
      }
    }
    finished = true;
    stream.off('data', onData);
    stream.off('error', finish);
    callback(error ?? (stream.destroyed ? (stream.errored ?? new Error('zlib stream closed')) : undefined));
  };
  stream.on('data', onData);
  stream.on('error', finish);
  stream.write(inputs.length === 1 ? (inputs[0] as Buffer) : Buffer.concat(inputs), finish);
}

/** One direction of a connection: its context (if kept), its queue. */
class Direction {
  readonly #inflate: boolean;
  readonly #params: CodecParameters;
  readonly #takeover: boolean;
  #kept: Stream | undefined;
  #busy = false;
  #closed = false;
  readonly #queue: Array<[CodecMessage, Callback]> = [];

  constructor(inflate: boolean, params: CodecParameters) {
    this.#inflate = inflate;
    this.#params = params;
    this.#takeover = inflate ? params.peerContextTakeover : params.ownContextTakeover;
  }

  process(message: CodecMessage, callback: Callback): void {
    if (this.#closed) callback(named(new Error('the connection is closed')), null);
    else if (this.#busy || this.#queue.length > 0) this.#queue.push([message, callback]);
    else this.#run(message, callback);
  }

  close(): void {
    this.#closed = true;
    if (!this.#busy && this.#queue.length === 0) this.#end();
  }

  /** Closed and idle: the kept context goes. */
  #end(): void {
    this.#kept?.close();
    this.#kept = undefined;
  }

  #run(message: CodecMessage, callback: Callback): void {
    const inflate = this.#inflate;
    const data = message.data;
    if (inflate && !message.rsv1) {
      callback(null, message);
      return;
    }
    const inputs = inflate ? [data, TAIL] : [data];
    const limit = inflate ? this.#params.maxLength : Number.MAX_SAFE_INTEGER;
    const out = new Output();
    const stream = this.#acquire();
    if (data.length <= SYNC_LIMIT && handleOf(stream) !== undefined) {
      let stop: Stop;
      try {
        stop = runSync(stream, inputs, out, limit, inflate ? SYNC_OUTPUT_LIMIT : Number.MAX_SAFE_INTEGER);
      } catch (error) {
        this.#release(stream, true);
        callback(named(error as Error), null);
        return;
      }
      if (stop.done) {
        this.#release(stream, false);
        callback(null, this.#result(message, out));
        return;
      }
      this.#async(stream, stop.rest, out, limit, message, callback);
      return;
    }
    this.#async(stream, inputs, out, limit, message, callback);
  }

  #async(stream: Stream, inputs: Buffer[], out: Output, limit: number, message: CodecMessage, callback: Callback) {
    this.#busy = true;
    runAsync(stream, inputs, out, limit, (error) => {
      this.#busy = false;
      this.#release(stream, error !== undefined);
      callback(error ? named(error) : null, error ? null : this.#result(message, out));
      // The messages that waited; then, if closed meanwhile, the end.
      while (!this.#busy && this.#queue.length > 0) {
        const [next, nextCallback] = this.#queue.shift() as [CodecMessage, Callback];
        this.#run(next, nextCallback);
      }
      if (this.#closed && !this.#busy) this.#end();
    });
  }

  #result(message: CodecMessage, out: Output): CodecMessage {
    if (this.#inflate) {
      message.data = out.join();
    } else {
      // RFC 7692 §7.2.1: remove the sync flush's 00 00 ff ff.
      const data = out.join();
      message.data = data.subarray(0, data.length - 4);
      message.rsv1 = true;
    }
    return message;
  }

  /** The context for this message: kept, lent (synchronous work), or made for it. */
  #acquire(): Stream {
    if (this.#takeover) {
      this.#kept ??= makeStream(this.#inflate, this.#params);
      return this.#kept;
    }
    const key = keyOf(this.#inflate, this.#params);
    const lent = spare.get(key);
    if (lent !== undefined) {
      spare.delete(key);
      return lent;
    }
    return makeStream(this.#inflate, this.#params);
  }

  /** After a message: a kept context stays (closed if it failed); any other is reset and kept spare, or closed. */
  #release(stream: Stream, failed: boolean): void {
    if (this.#takeover) {
      if (failed) {
        stream.close();
        if (this.#kept === stream) this.#kept = undefined;
      }
      return;
    }
    const key = keyOf(this.#inflate, this.#params);
    if (failed || stream.destroyed || spare.has(key) || handleOf(stream) === undefined) {
      stream.close();
      return;
    }
    stream.reset();
    spare.set(key, stream);
  }
}

/**
 * permessage-deflate for one connection, with the parameters its
 * negotiation chose: websocket-extensions' pipeline shape
 * (processIncomingMessage, processOutgoingMessage, close).
 */
export class Codec {
  readonly #in: Direction;
  readonly #out: Direction;

  constructor(params: CodecParameters) {
    this.#in = new Direction(true, params);
    this.#out = new Direction(false, params);
  }

  processIncomingMessage(message: CodecMessage, callback: Callback): void {
    this.#in.process(message, callback);
  }

  processOutgoingMessage(message: CodecMessage, callback: Callback): void {
    this.#out.process(message, callback);
  }

  close(callback?: () => void): void {
    this.#in.close();
    this.#out.close();
    callback?.();
  }
}

/** The fields of permessage-deflate 0.1's Session read here, once negotiated. */
interface DeflateSession {
  _ownContextTakeover?: unknown;
  _peerContextTakeover?: unknown;
  _ownWindowBits?: unknown;
  _peerWindowBits?: unknown;
  _level?: unknown;
  _memLevel?: unknown;
  _strategy?: unknown;
  _zlib?: unknown;
}

/**
 * A Codec for a negotiation whose one active extension is permessage-deflate
 * on Node's own zlib (bounded by deflate.ts: `isBoundedNodeZlib`), with the
 * parameters its session chose; undefined for anything else (other
 * extensions, an application's own zlib, a session of another shape), which
 * keeps websocket-extensions' pipeline.
 */
export function codecFor(extensions: unknown, maxLength: number): Codec | undefined {
  const sessions = (extensions as { _sessions?: unknown })._sessions;
  if (!Array.isArray(sessions) || sessions.length !== 1) return undefined;
  const [plugin, session] = sessions[0] as [{ name?: unknown }, DeflateSession];
  if (plugin?.name !== 'permessage-deflate' || !isBoundedNodeZlib(session?._zlib)) return undefined;
  const {
    _ownContextTakeover: ownContextTakeover,
    _peerContextTakeover: peerContextTakeover,
    _ownWindowBits: ownWindowBits,
    _peerWindowBits: peerWindowBits,
    _level: level,
    _memLevel: memLevel,
    _strategy: strategy,
  } = session;
  if (
    typeof ownContextTakeover !== 'boolean' ||
    typeof peerContextTakeover !== 'boolean' ||
    typeof ownWindowBits !== 'number' ||
    typeof peerWindowBits !== 'number' ||
    typeof level !== 'number' ||
    typeof memLevel !== 'number' ||
    typeof strategy !== 'number'
  ) {
    return undefined;
  }
  return new Codec({
    ownContextTakeover,
    peerContextTakeover,
    ownWindowBits,
    peerWindowBits,
    level,
    memLevel,
    strategy,
    maxLength,
  });
}
