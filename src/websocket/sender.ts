// A WebSocket's send path: the queue of messages waiting for open or behind
// a Blob being read, bufferedAmount as the spec defines it, and the writes to
// the transport (the first of a tick goes straight out, the rest of the tick
// leave corked, in one write). One per connection, made when it first sends.
//
// Calling contract:
//
//   const sender = new Sender(owner, handler)
//   sender.accept(payload)           send() took a message: bufferedAmount grows by its size
//   sender.enqueue(payload)          it waits (CONNECTING, or behind a Blob); pump() sends
//   sender.pump()                    frames queued messages in order, reading Blobs
//                                    first; handler.frame() for each, handler.flushed()
//                                    once the queue is empty
//   sender.write(socket, bytes, completes)   bytes for the transport; `completes` is the
//                                    size of the message they end (0: none): once
//                                    handed to the OS, bufferedAmount drops by it
//   sender.drained()                 the transport's 'drain': everything written so far
//                                    was handed to the OS
//   sender.drop()                    the connection is gone: the queue goes, and
//                                    callbacks still waiting get an Error
//   sender.callback(fn)              after accept(): fn() once the message was handed
//                                    to the OS (ws's send(data, cb)), fn(error) if the
//                                    connection closes first. Counted in bytes: an
//                                    empty message calls back with the one before it.
//
// Every operation is amortised O(1) whatever the queue length (./fifo.ts):
// the queue and the sizes of written messages are read from a moving head.
// bufferedAmount stays exact, counted in application bytes (not frame
// bytes), from the write callbacks; at 'drain' the transport is empty, so
// the sizes still waiting for their callbacks are settled at once (Node runs
// a write's callback after 'drain'), and a 'drain' listener sees the
// decreased value.
//
// Measurements and the reasons behind the choices: docs/decisions/send-path-and-backpressure.md
//
// References:
// - WHATWG WebSockets, send() and bufferedAmount:
//   https://websockets.spec.whatwg.org/#dom-websocket-send
// - nodejs/undici lib/web/websocket/sender.js (the send queue in a room of its own)
// - Node.js lib/internal/streams/writable.js (afterWrite: 'drain' before the callbacks)

import type { Duplex } from 'node:stream';
import type { Payload } from '../dom/data.js';
import { Fifo } from './fifo.js';

/** A message ready to frame: text or bytes (a Blob is read first). */
export type FramePayload = Exclude<Payload, { kind: 'blob' }>;

/** What a sender reports to, with its owner passed back (no closures per connection). */
export interface SenderHandler<O> {
  /** Frame `payload` now: the queue reached it. */
  frame(owner: O, payload: FramePayload): void;
  /** The queue emptied. */
  flushed(owner: O): void;
  /** A Blob passed to send() could not be read; the queue is dropped. */
  failed(owner: O, error: unknown): void;
}

/** Writes so far in this tick. */
const IDLE = 0;
/** The first write of the tick went straight out. */
const FIRST_OUT = 1;
/** Later writes of the tick are corked until it ends. */
const CORKED = 2;

/** ws's send callback: no argument once the message was handed to the OS, an Error if it never was. */
export type SendCallback = (error?: Error) => void;

/** The send queue and bufferedAmount of one WebSocket. */
export class Sender<O> {
  readonly #owner: O;
  readonly #handler: SenderHandler<O>;
  #bufferedAmount = 0;
  /** Messages waiting for open, or behind a Blob being read. */
  #queue: Fifo<Payload> | undefined;
  #pumping = false;
  #tick = IDLE;
  /** Sizes of messages whose last bytes were written and not yet handed to the OS, oldest first. */
  #sizes: Fifo<number> | undefined;
  /** Write callbacks still to come whose sizes 'drain' already settled. */
  #settled = 0;
  #onWritten: ((error?: Error | null) => void) | undefined;
  /** Application bytes accepted so far, and handed to the OS so far (for callbacks). */
  #acceptedBytes = 0;
  #handedBytes = 0;
  /** send() callbacks, with the count of accepted bytes their message ends at. */
  #callbacks: Fifo<[number, SendCallback]> | undefined;

  constructor(owner: O, handler: SenderHandler<O>) {
    this.#owner = owner;
    this.#handler = handler;
  }

  /** Bytes of application data accepted by send() and not yet handed to the OS. */
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /** Whether messages are waiting in the queue. */
  get queued(): boolean {
    return this.#queue !== undefined;
  }

  /** send() accepted `payload`: "increase the bufferedAmount attribute by" its size. */
  accept(payload: Payload): void {
    this.#bufferedAmount += payload.size;
    this.#acceptedBytes += payload.size;
  }

  /** The message accepted last calls `callback` once handed to the OS (or with an Error if never). */
  callback(callback: SendCallback): void {
    this.#callbacks ??= new Fifo();
    this.#callbacks.push([this.#acceptedBytes, callback]);
    if (this.#acceptedBytes <= this.#handedBytes) this.#callBack();
  }

  /** Runs the callbacks of messages now handed to the OS, oldest first. */
  #callBack(): void {
    const callbacks = this.#callbacks;
    if (callbacks === undefined) return;
    for (let head = callbacks.peek(); head !== undefined && head[0] <= this.#handedBytes; head = callbacks.peek()) {
      callbacks.shift();
      process.nextTick(head[1]);
    }
  }

  /** Queues `payload` behind the messages already waiting. */
  enqueue(payload: Payload): void {
    this.#queue ??= new Fifo();
    this.#queue.push(payload);
  }

  /** Drops the queue (the connection closed, or closes before open). */
  drop(): void {
    this.#queue = undefined;
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks === undefined) return;
    for (let head = callbacks.shift(); head !== undefined; head = callbacks.shift()) {
      process.nextTick(head[1], new Error('The WebSocket closed before the message was sent'));
    }
  }

  /** Frames the queued messages in order; a Blob is read first, and the rest wait for it. */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    this.#step();
  }

  #step(): void {
    const queue = this.#queue;
    while (queue !== undefined && this.#queue === queue) {
      const head = queue.peek();
      if (head === undefined) break;
      if (head.kind === 'blob') {
        const size = head.size;
        head.data.arrayBuffer().then(
          (buffer) => {
            if (this.#queue !== queue) {
              this.#pumping = false;
              return;
            }
            queue.shift();
            this.#handler.frame(this.#owner, { kind: 'binary', data: Buffer.from(buffer), size });
            this.#step();
          },
          (error: unknown) => {
            this.#pumping = false;
            if (this.#queue !== queue) return;
            this.#queue = undefined;
            this.#handler.failed(this.#owner, error);
          },
        );
        return;
      }
      queue.shift();
      this.#handler.frame(this.#owner, head);
    }
    this.#pumping = false;
    if (queue !== undefined && this.#queue === queue) {
      this.#queue = undefined;
      this.#handler.flushed(this.#owner);
    }
  }

  /**
   * Writes `data` to `socket`; `completes` is the size of the message it
   * ends, else 0. Returns socket.write()'s answer (false: over the
   * high-water mark).
   */
  write(socket: Duplex, data: Buffer, completes: number): boolean {
    this.#corkForThisTick(socket);
    if (completes === 0) {
      // A large frame's header, its payload still to come (or a control
      // frame): corked at once, so that header and payload leave in one
      // writev rather than two system calls (the 64 KiB echo: 164 -> 101 us
      // of server CPU per message, docs/performance.md).
      this.#corkForThisTick(socket);
      return socket.write(data);
    }
    this.#sizes ??= new Fifo();
    this.#sizes.push(completes);
    this.#onWritten ??= (error) => this.#written(error);
    return socket.write(data, this.#onWritten);
  }

  /** A message's last byte reached the OS: it no longer counts in bufferedAmount. */
  #written(error?: Error | null): void {
    if (this.#settled > 0) {
      this.#settled--;
      return;
    }
    const size = this.#sizes?.shift() ?? 0;
    this.#bufferedAmount -= size;
    // A failed write was not handed to the OS: its callback errs at drop().
    if (error) return;
    this.#handedBytes += size;
    this.#callBack();
  }

  /**
   * The transport emptied ('drain'): every byte written so far was handed to
   * the OS, so the messages still waiting for their write callbacks (which
   * Node runs after 'drain') stop counting now.
   */
  drained(): void {
    const sizes = this.#sizes;
    if (sizes === undefined) return;
    for (let size = sizes.shift(); size !== undefined; size = sizes.shift()) {
      this.#bufferedAmount -= size;
      this.#handedBytes += size;
      this.#settled++;
    }
    this.#callBack();
  }

  /**
   * Called before each write: the first frame of a tick goes straight out
   * (no added latency); the frames after it in the same tick are corked and
   * leave together in one write when the tick ends.
   */
  #corkForThisTick(socket: Duplex): void {
    if (this.#tick === IDLE) {
      this.#tick = FIRST_OUT;
      process.nextTick(Sender.#endTick, this, socket);
    } else if (this.#tick === FIRST_OUT) {
      this.#tick = CORKED;
      socket.cork();
    }
  }

  static #endTick(sender: Sender<unknown>, socket: Duplex): void {
    if (sender.#tick === CORKED) socket.uncork();
    sender.#tick = IDLE;
  }
}
