// A channel: one feed for many members, EventSource streams and server
// WebSockets alike. broadcast() encodes an event once per kind: one SSE
// Buffer, one WebSocket frame (server frames are unmasked: the same bytes for
// every socket), one compressed frame for the sockets whose permessage-deflate
// has no server context takeover (./frames.ts); the events of one event-loop
// turn go to every member as one write. Sockets with context takeover frame
// and compress each message themselves. The channel gives ids, keeps recent
// events, and replays what a reconnecting client missed (its Last-Event-ID,
// or register()'s lastEventId) before live events, in order. A store (e.g.
// RedisChannelStore) shares the feed, its ids and its history between
// processes.
//
// Members are known by the narrow interfaces of ./member.ts (a stream's
// feed, a socket's one hook for frames), not by their classes.
//
// Why the batching: a profile of one broadcast per turn to 1,000 clients
// (bench/, `node --cpu-prof`) shows 69% of the server's time in the kernel's
// write, one per event per client; writing a turn's events as one chunk makes
// that one per turn per client.
//
// References:
// - HTML, server-sent events, "Last-Event-ID" and reconnection: https://html.spec.whatwg.org/multipage/server-sent-events.html
// - DOM Standard, EventTarget: https://dom.spec.whatwg.org/#interface-eventtarget
// - better-sse's Channel (register/broadcast), the API people know: https://matthewwid.github.io/better-sse/guides/channels

import { EventHandlers } from '../dom/listeners.js';
import { ErrorEvent, type EventHandler, type Listener } from '../events.js';
import { validateOptionKeys } from '../options.js';
import { checkEvent, checkId, eventData, formatEvent, type Serialize } from '../sse/encode.js';
import type { EventSource } from '../sse/endpoint.js';
import type { WebSocket } from '../websocket/server.js';
import { COMPRESS_AT_LEAST, deflatedFrame, type FrameRoute, frameRoute, plainFrame } from './frames.js';
import { EventHistory, type HistoryEntry, isStreamId, StreamIdClock } from './history.js';
import { type ChannelFeed, channelFeed, type FramedMember, writeFramed } from './member.js';

/**
 * What a channel holds: server-side EventSource streams and server
 * WebSockets (HTTP/1.1 or HTTP/2). (Types only: at run time the channel
 * knows them by ./member.ts's interfaces, not by their classes.)
 */
export type ChannelMember = EventSource | WebSocket;

/** What a WebSocket member receives for an event: text or bytes. */
export type ChannelMessage = string | Buffer;

/** Builds what a WebSocket member receives for an event (the channel option `toMessage`). */
export type ToMessage = (
  data: string,
  meta: { readonly id: string; readonly event: string | undefined },
) => ChannelMessage;

/** Options of {@link Channel.register}. */
export interface RegisterOptions {
  /**
   * Resume after this id: the events after it are sent first, then live
   * events. Default: an EventSource's own `Last-Event-ID`; none for a WebSocket.
   */
  lastEventId?: string;
}

/** An event as a {@link ChannelStore} keeps it. */
export interface StoredEvent {
  /** A `<ms>-<seq>` id that every process sharing the store can resume from. */
  readonly id: string;
  readonly event?: string | undefined;
  readonly data: string;
}

/** What a store reports to its channel. */
export interface ChannelStoreSink {
  /** An entry read from the store, in store order; `live` is false for the recent ones read at start (history only). */
  entry(event: StoredEvent, live: boolean): void;
  /** The store cannot be reached (reported once per outage by the channel). */
  error(error: unknown): void;
  /** The store can be reached again. */
  recovered(): void;
}

/**
 * Where a channel shares its events between processes: it appends events,
 * reads them all back in one order (its own included) and answers "what came
 * after this id". {@link RedisChannelStore} is one, on a Redis Stream.
 */
export interface ChannelStore {
  /** Names the store in error messages. */
  readonly description: string;
  /** Whether it can be reached now. */
  readonly ready: boolean;
  /** Starts reading: first up to `recent` existing entries (not live), then every new one. */
  open(sink: ChannelStoreSink, recent: number): void;
  /** Appends an event; resolves with its id. It reaches streams when read back. */
  append(event: string | undefined, data: string): Promise<string>;
  /** The entries after `id`, oldest first. */
  range(afterId: string): Promise<StoredEvent[]>;
  /** Stops reading and lets go of connections it made. */
  close(): Promise<void>;
}

/** Options of {@link Channel}. */
export interface ChannelOptions {
  /** How many recent events to keep for clients that reconnect. Default 1000; 0 keeps none. */
  history?: number;
  /** Seconds an event is kept for resuming, at most. Default: no limit (only `history` counts). */
  historyAge?: number;
  /**
   * Bytes a member may have waiting (unsent) before it is dropped: an event
   * stream's connection is closed, a WebSocket closed with 1013 (Try Again
   * Later); `dropped` counts it and an `overflow` event names it. The client
   * reconnects and resumes from history. Default 1 MiB.
   */
  maxBuffered?: number;
  /**
   * Builds what a WebSocket member receives for an event, e.g.
   * `(data, { id }) => JSON.stringify({ id, data })` so that a client can
   * learn ids and resume. Default: the event's data itself.
   */
  toMessage?: ToMessage;
  /** Turns what broadcast() is given into event data, e.g. `JSON.stringify`. Without it, data must be a string. */
  serialize?: Serialize;
  /** Shares the channel between processes, e.g. `await RedisChannelStore.connect({ url, key })`. */
  store?: ChannelStore;
}

/** The options of a channel (its first name, kept). */
export type EventSourceChannelOptions = ChannelOptions;

/** Options of {@link Channel.broadcast}. */
export interface BroadcastOptions {
  /** The event type; listeners use addEventListener(event). No CR or LF. */
  event?: string;
  /** The event id; by default the channel gives one (`<ms>-<seq>`). Not with a store. */
  id?: string | number;
}

/**
 * Dispatched when a member is dropped for having more than `maxBuffered` bytes
 * waiting (a client that does not read).
 *
 * @see ChannelOptions.maxBuffered
 */
export class OverflowEvent extends Event {
  /** The stream or WebSocket that was dropped. */
  readonly source: ChannelMember;

  constructor(type: string, source: ChannelMember) {
    super(type);
    this.source = source;
  }
}

/**
 * Dispatched for every event the channel sends out (after its members were
 * given it), from this process or, with a store, from any: what a subscriber
 * that is not a member can relay.
 *
 * @see https://html.spec.whatwg.org/multipage/comms.html#messageevent
 */
export class ChannelMessageEvent extends MessageEvent<string> {
  /** The event name it was published with, `'message'` when none. */
  readonly event: string;

  constructor(type: string, init: { data: string; lastEventId: string; event?: string | undefined }) {
    super(type, { data: init.data, lastEventId: init.lastEventId });
    this.event = init.event ?? 'message';
  }
}

/** The events a channel dispatches. */
export interface ChannelEventMap {
  /** An event went out to the members (its data, name and id). */
  message: ChannelMessageEvent;
  /** The store cannot be reached: events reach this process's members only, until it is back. */
  error: ErrorEvent;
  /** A member was dropped for being too far behind. */
  overflow: OverflowEvent;
}

/** The events a channel dispatches (its first name, kept). */
export type EventSourceChannelEventMap = ChannelEventMap;

/**
 * One event as the channel keeps it: its SSE block, and what WebSocket
 * members get, each encoded once, when first needed, for every member.
 */
class Entry implements HistoryEntry {
  readonly id: string;
  readonly block: Buffer;
  readonly at: number;
  readonly data: string;
  readonly event: string | undefined;
  /** toMessage()'s answer, its size in bytes, its plain frame, its compressed frames by window bits. */
  message: ChannelMessage | null | undefined;
  size = 0;
  frame: Buffer | undefined;
  deflated: Map<number, Buffer> | undefined;

  constructor(id: string, event: string | undefined, data: string, at: number) {
    this.id = id;
    this.event = event;
    this.data = data;
    this.at = at;
    this.block = Buffer.from(formatEvent(data, event === undefined ? { id } : { event, id }));
  }
}

/** An event stream in the channel. */
interface StreamMember {
  readonly kind: 'stream';
  readonly writer: ChannelFeed;
  /** Runs as the stream ends (any close path): flush what is pending to it, then let it go. */
  readonly onend: () => void;
  /** Runs before the stream's own writes (its send(), a ping): flush what is pending, so it keeps its place. */
  readonly onwrite: () => void;
  /** While the store answers a resume: the live entries held back until then. */
  held: Entry[] | null;
}

/** A server WebSocket in the channel. */
interface SocketMember {
  readonly kind: 'socket';
  readonly socket: FramedMember;
  /** Known once it is open (its extensions are negotiated by then). */
  route: FrameRoute | undefined;
  /** Its close listener: it leaves the channel. */
  readonly onend: () => void;
  held: Entry[] | null;
}

type Member = StreamMember | SocketMember;

/** The close code a WebSocket member gets when it is too far behind (RFC 6455 §7.4.1, IANA: Try Again Later). */
export const OVERFLOW_CLOSE_CODE = 1013;
/** The close code WebSocket members get when the channel closes (Going Away). */
const CHANNEL_CLOSED_CODE = 1001;

const OPTION_KEYS = ['history', 'historyAge', 'maxBuffered', 'serialize', 'store', 'toMessage'] as const;
const REGISTER_KEYS = ['lastEventId'] as const;
const BROADCAST_KEYS = ['event', 'id'] as const;
const DEFAULT_HISTORY = 1000;
/** Bytes a stream may have waiting before the channel drops it (SECURITY.md, limits). */
export const DEFAULT_MAX_BUFFERED = 1024 * 1024;
/** A flush that takes this long (ms) makes the next one wait as long again... */
const SLOW_FLUSH_MS = 1;
/** ...but never longer than this (ms). */
const MAX_FLUSH_DELAY_MS = 100;

/**
 * One feed for many members, EventSource streams and server WebSockets: encode
 * once, write once per turn, ids, history and resume from `Last-Event-ID`, and
 * with a store, all of that across processes. `EventSource.Channel` is the
 * same class.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 * @example
 * const channel = new Channel({ history: 1000, serialize: JSON.stringify });
 * http.createServer((request, response) => {
 *   if (!EventSource.isEventSource(request)) return response.writeHead(404).end();
 *   channel.register(new EventSource(request, response));   // replays what it missed
 * }).on('upgrade', (request, socket, head) => {
 *   const url = new URL(request.url ?? '/', 'http://localhost');
 *   const lastEventId = url.searchParams.get('lastEventId') ?? '';
 *   channel.register(new WebSocket(request, socket, head), { lastEventId });
 * }).listen(8080);
 * channel.broadcast({ price: 42 }, { event: 'tick' });
 */
export class Channel extends EventTarget {
  readonly #members = new Map<ChannelMember, Member>();
  readonly #history: EventHistory<Entry>;
  readonly #clock = new StreamIdClock();
  readonly #serialize: Serialize | undefined;
  readonly #toMessage: ToMessage | undefined;
  readonly #maxBuffered: number;
  readonly #store: ChannelStore | undefined;
  readonly #handlers = new EventHandlers(this);
  #batch: Entry[] = [];
  #batchBytes = 0;
  /** The pending flush: an immediate, or a timeout after a slow flush. */
  #scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  /** performance.now() before which the next flush waits (see flush()). */
  #nextFlushAt = 0;
  #dropped = 0;
  #lastEventId = '';
  #storeDown = false;
  #closed = false;
  readonly #onScheduled = (): void => {
    this.#scheduled = undefined;
    this.flush();
  };

  constructor(options?: ChannelOptions) {
    super();
    validateOptionKeys(options, OPTION_KEYS);
    const history = options?.history ?? DEFAULT_HISTORY;
    if (!Number.isSafeInteger(history) || history < 0) {
      throw new TypeError('history must be a non-negative whole number of events');
    }
    const age = options?.historyAge ?? Number.POSITIVE_INFINITY;
    if (typeof age !== 'number' || Number.isNaN(age) || age <= 0) {
      throw new TypeError('historyAge must be a positive number of seconds');
    }
    const maxBuffered = options?.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    if (typeof maxBuffered !== 'number' || Number.isNaN(maxBuffered) || maxBuffered <= 0) {
      throw new TypeError('maxBuffered must be a positive number of bytes');
    }
    const serialize = options?.serialize;
    if (serialize !== undefined && typeof serialize !== 'function') {
      throw new TypeError('serialize must be a function that returns a string, e.g. JSON.stringify');
    }
    const toMessage = options?.toMessage;
    if (toMessage !== undefined && typeof toMessage !== 'function') {
      throw new TypeError('toMessage must be a function that returns a string or a Buffer');
    }
    this.#toMessage = toMessage;
    const store = options?.store;
    if (store !== undefined && (typeof store?.append !== 'function' || typeof store.open !== 'function')) {
      throw new TypeError('store must be a ChannelStore, e.g. await RedisChannelStore.connect({ url, key })');
    }
    this.#history = new EventHistory<Entry>(history, age * 1000);
    this.#maxBuffered = maxBuffered;
    this.#serialize = serialize;
    this.#store = store;
    store?.open(
      {
        entry: (stored, live) => this.#fromStore(stored, live),
        error: (error) => this.#storeFailed(error),
        recovered: () => {
          this.#storeDown = false;
        },
      },
      history,
    );
  }

  /** How many members are registered. */
  get size(): number {
    return this.#members.size;
  }

  /** How many members were dropped for having more than `maxBuffered` bytes waiting. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The id of the newest event published or read from the store, or `''`. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  get onerror(): EventHandler<ErrorEvent> {
    return this.#handlers.get('error');
  }
  set onerror(value: EventHandler<ErrorEvent>) {
    this.#handlers.set('error', value);
  }
  get onmessage(): EventHandler<ChannelMessageEvent> {
    return this.#handlers.get('message');
  }
  set onmessage(value: EventHandler<ChannelMessageEvent>) {
    this.#handlers.set('message', value);
  }
  get onoverflow(): EventHandler<OverflowEvent> {
    return this.#handlers.get('overflow');
  }
  set onoverflow(value: EventHandler<OverflowEvent>) {
    this.#handlers.set('overflow', value);
  }

  override addEventListener<K extends keyof ChannelEventMap>(
    type: K,
    listener: Listener<ChannelEventMap[K]> | null,
    options?: boolean | { once?: boolean; signal?: AbortSignal; capture?: boolean },
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<Event> | null,
    options?: boolean | { once?: boolean; signal?: AbortSignal; capture?: boolean },
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<Event> | null,
    options?: boolean | { once?: boolean; signal?: AbortSignal; capture?: boolean },
  ): void {
    if (listener) super.addEventListener(type, listener, options);
  }

  /**
   * Adds a member: a server-side EventSource, or a server WebSocket (HTTP/1.1
   * or HTTP/2). With a `lastEventId` (an EventSource's own `Last-Event-ID` by
   * default), the events after that id are sent first (from history, or from
   * the store when history no longer has it), then live events: in order,
   * none twice, none missed. A member's own send() keeps its place among
   * them. It leaves the channel when it closes.
   */
  register(member: ChannelMember, options?: RegisterOptions): void {
    validateOptionKeys(options, REGISTER_KEYS);
    const given = options?.lastEventId;
    if (given !== undefined && typeof given !== 'string') throw new TypeError('lastEventId must be a string');
    const source = member as Partial<FramedMember> & { [channelFeed]?: () => ChannelFeed | undefined };
    let record: Member;
    let lastId: string;
    if (typeof source?.[channelFeed] === 'function') {
      const writer = source[channelFeed]();
      if (!writer) throw new TypeError(REGISTER_TYPE_ERROR);
      if (this.#closed) throw new DOMException('The channel is closed', 'InvalidStateError');
      if (this.#members.has(member) || !writer.writable) return;
      const stream: StreamMember = {
        kind: 'stream',
        writer,
        held: null,
        onend: () => {
          this.flush();
          this.unregister(member);
        },
        onwrite: () => this.flush(),
      };
      writer.beforeEnd(stream.onend);
      writer.beforeWrite(stream.onwrite);
      record = stream;
      lastId = given ?? (member as EventSource).lastEventId;
    } else if (typeof source?.[writeFramed] === 'function') {
      if (this.#closed) throw new DOMException('The channel is closed', 'InvalidStateError');
      const socket = member as unknown as FramedMember;
      // CLOSING or CLOSED: it takes nothing more.
      if (this.#members.has(member) || socket.readyState >= 2) return;
      const onend = (): void => {
        this.unregister(member);
      };
      socket.addEventListener('close', onend);
      record = { kind: 'socket', socket, route: undefined, held: null, onend };
      lastId = given ?? '';
    } else {
      throw new TypeError(REGISTER_TYPE_ERROR);
    }
    // What is pending goes to the others first, so that history now holds
    // exactly what the other members have been given.
    this.flush();
    this.#members.set(member, record);
    if (lastId !== '') this.#resume(member, record, lastId);
  }

  /** Removes a member without closing it; false when it was not registered. */
  unregister(member: ChannelMember): boolean {
    const record = this.#members.get(member);
    if (!record) return false;
    this.#members.delete(member);
    if (record.kind === 'stream') {
      record.writer.removeBeforeEnd(record.onend);
      record.writer.removeBeforeWrite(record.onwrite);
    } else record.socket.removeEventListener('close', record.onend);
    return true;
  }

  /**
   * Publishes one event to every member. It is encoded once per kind; the
   * events of one event-loop turn reach each member as one write (call
   * flush() to write now).
   * Data must be a string unless the channel has `serialize`.
   *
   * @returns the event's id: given, or made by the channel, or (with a store)
   * the store's, once stored. Never rejects: when the store cannot be reached
   * the event goes to this process's members with an id of its own, and the
   * channel dispatches `error`.
   */
  broadcast(data: unknown, options?: BroadcastOptions): Promise<string> {
    if (this.#closed) throw new DOMException('The channel is closed', 'InvalidStateError');
    validateOptionKeys(options, BROADCAST_KEYS);
    const text = eventData(data, this.#serialize);
    const event = options?.event === undefined ? undefined : checkEvent(options.event);
    if (this.#store) {
      if (options?.id !== undefined) {
        throw new TypeError(
          'A channel with a store takes no id: the store gives ids that every process can resume from',
        );
      }
      return this.#append(this.#store, event, text);
    }
    let id: string;
    if (options?.id === undefined) {
      id = this.#clock.next(Date.now());
    } else {
      id = checkId(options.id);
      this.#clock.observe(id);
    }
    this.#publish(id, event, text);
    return Promise.resolve(id);
  }

  /** Writes the events waiting for the end of this turn to every member now. */
  flush(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    const started = performance.now();
    this.#batch = [];
    let chunk: Buffer | undefined;
    const frames = new TurnFrames(this.#messageOf, batch);
    const limit = this.#maxBuffered;
    let dropped: ChannelMember[] | undefined;
    for (const [member, record] of this.#members) {
      if (record.held) {
        record.held.push(...batch);
        continue;
      }
      let overflow: boolean;
      if (record.kind === 'stream') {
        chunk ??= batch.length === 1 ? (batch[0] as Entry).block : concat(batch, this.#batchBytes);
        overflow = record.writer.deliver(chunk, limit) === 'overflow';
      } else {
        overflow = !this.#sendFrames(record, frames);
      }
      if (overflow) {
        dropped ??= [];
        dropped.push(member);
      }
    }
    this.#batchBytes = 0;
    const took = performance.now() - started;
    this.#nextFlushAt = took < SLOW_FLUSH_MS ? 0 : started + took + Math.min(took, MAX_FLUSH_DELAY_MS);
    // Listeners run after the loop, so that they see (and may change) a settled set.
    if (dropped) for (const member of dropped) this.#drop(member);
    for (const entry of batch) {
      this.dispatchEvent(
        new ChannelMessageEvent('message', { data: entry.data, lastEventId: entry.id, event: entry.event }),
      );
    }
  }

  /**
   * What a WebSocket member receives for `entry`, made once; null when
   * toMessage threw or returned neither a string nor a Buffer (e.g. for data
   * another process wrote to the store): that event goes to no socket, and
   * the channel dispatches `error` (a flush never throws).
   */
  readonly #messageOf = (entry: Entry): ChannelMessage | null => {
    if (entry.message === undefined) {
      let made: unknown;
      let failure: unknown;
      try {
        made = this.#toMessage ? this.#toMessage(entry.data, { id: entry.id, event: entry.event }) : entry.data;
      } catch (error) {
        failure = error;
      }
      if (failure === undefined && (typeof made === 'string' || Buffer.isBuffer(made))) {
        entry.message = made;
        entry.size = typeof made === 'string' ? Buffer.byteLength(made) : made.length;
      } else {
        entry.message = null;
        const reason =
          failure === undefined
            ? `it returned ${typeof made}, not a string or a Buffer`
            : `it threw ${failure instanceof Error ? failure.message : String(failure)}`;
        const message = `toMessage failed for event ${entry.id} (${reason}): it was sent to no WebSocket`;
        queueMicrotask(() => this.dispatchEvent(new ErrorEvent('error', { message, error: failure })));
      }
    }
    return entry.message;
  };

  /**
   * Gives a WebSocket member the turn's events: the shared frames when its
   * extensions allow and its own messages are not waiting, else each
   * message through its own send(). False when it is over `maxBuffered`
   * (it is then dropped).
   */
  #sendFrames(record: SocketMember, frames: TurnFrames): boolean {
    const socket = record.socket;
    const state = socket.readyState;
    if (state !== 1 && state !== 0) return true;
    const entries = frames.entries;
    if (entries.length === 0) return true;
    const size = frames.size;
    if (socket.bufferedAmount + size > this.#maxBuffered) return false;
    if (state === 1) {
      record.route ??= frameRoute(socket.extensions);
      const bytes = frames.bytes(record.route);
      if (bytes !== undefined && socket[writeFramed](bytes, size)) return true;
    }
    for (const entry of entries) socket.send(entry.message as ChannelMessage);
    return true;
  }

  /**
   * Closes every registered member (their clients reconnect, e.g. to another
   * process; WebSockets with 1001) and stops the store. broadcast() and
   * register() throw after it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    // Either kind; each clear function ignores the other's handle.
    clearTimeout(this.#scheduled as NodeJS.Timeout);
    clearImmediate(this.#scheduled as NodeJS.Immediate);
    this.#scheduled = undefined;
    const members = [...this.#members];
    this.#members.clear();
    for (const [member, record] of members) {
      if (record.kind === 'stream') {
        record.writer.removeBeforeEnd(record.onend);
        record.writer.removeBeforeWrite(record.onwrite);
        member.close();
      } else {
        record.socket.removeEventListener('close', record.onend);
        record.socket.close(CHANNEL_CLOSED_CODE, 'The channel closed');
      }
    }
    await this.#store?.close();
  }

  #publish(id: string, event: string | undefined, text: string): void {
    const entry = new Entry(id, event, text, Date.now());
    this.#history.push(entry);
    this.#lastEventId = id;
    this.#enqueue(entry);
  }

  /**
   * Queues an entry for the next flush: at the end of this turn, or, when the
   * last flush was slow (the members' writes took the CPU), once as long again
   * has passed, so that a saturated channel writes more events per write
   * instead of falling behind one write per event per member.
   */
  #enqueue(entry: Entry): void {
    if (this.#closed) return;
    this.#batch.push(entry);
    this.#batchBytes += entry.block.length;
    if (this.#scheduled) return;
    const wait = this.#nextFlushAt - performance.now();
    this.#scheduled = wait > 0 ? setTimeout(this.#onScheduled, wait) : setImmediate(this.#onScheduled);
  }

  #resume(source: ChannelMember, member: Member, lastId: string): void {
    // (member: the record; source: the stream or socket it is for.)
    const now = Date.now();
    const known = this.#history.after(lastId, now);
    if (known) {
      this.#replay(source, member, known);
      return;
    }
    const store = this.#store;
    if (store?.ready && isStreamId(lastId)) {
      // Older than this process's history: ask the store, and hold live
      // events for this stream until its answer is written.
      member.held = [];
      store.range(lastId).then(
        (stored) => this.#resumed(source, member, this.#entriesOf(stored)),
        (error: unknown) => {
          this.#storeFailed(error);
          this.#resumed(source, member, this.#history.newerThan(lastId, Date.now()));
        },
      );
      return;
    }
    // An id this channel no longer holds: whatever sorts after it.
    this.#replay(source, member, this.#history.newerThan(lastId, now));
  }

  #resumed(source: ChannelMember, member: Member, entries: Entry[]): void {
    if (this.#members.get(source) !== member) return;
    const held = member.held ?? [];
    member.held = null;
    const ids = new Set(entries.map((entry) => entry.id));
    for (const entry of held) if (!ids.has(entry.id)) entries.push(entry);
    this.#replay(source, member, entries);
  }

  #replay(source: ChannelMember, member: Member, entries: Entry[]): void {
    if (entries.length === 0) return;
    let ok: boolean;
    if (member.kind === 'stream') {
      const bytes = entries.reduce((sum, entry) => sum + entry.block.length, 0);
      ok = member.writer.deliver(concat(entries, bytes), this.#maxBuffered) !== 'overflow';
    } else {
      ok = this.#sendFrames(member, new TurnFrames(this.#messageOf, entries));
    }
    if (!ok) this.#drop(source);
  }

  #drop(source: ChannelMember): void {
    const record = this.#members.get(source);
    if (!record || !this.unregister(source)) return;
    // An event stream was already destroyed by its writer; a socket gets 1013.
    if (record.kind === 'socket') record.socket.close(OVERFLOW_CLOSE_CODE, 'Too far behind the channel');
    this.#dropped += 1;
    this.dispatchEvent(new OverflowEvent('overflow', source));
  }

  #append(store: ChannelStore, event: string | undefined, text: string): Promise<string> {
    const here = (error: unknown): string => {
      this.#storeFailed(error);
      const id = this.#clock.next(Date.now());
      this.#publish(id, event, text);
      return id;
    };
    if (!store.ready) return Promise.resolve(here(new Error('not connected')));
    return store.append(event, text).catch(here);
  }

  #fromStore(stored: StoredEvent, live: boolean): void {
    this.#clock.observe(stored.id);
    const [entry] = this.#entriesOf([stored]);
    if (!entry) return;
    this.#history.push(entry);
    this.#lastEventId = entry.id;
    if (!live || this.#closed) return;
    this.#enqueue(entry);
  }

  /** Encodes stored events; one whose event name or id could inject a field is skipped. */
  #entriesOf(stored: readonly StoredEvent[]): Entry[] {
    const entries: Entry[] = [];
    const at = Date.now();
    for (const { id, event, data } of stored) {
      try {
        entries.push(new Entry(id, event, String(data), at));
      } catch {
        // Written by someone else, with CR or LF in its name or id: never sent.
      }
    }
    return entries;
  }

  #storeFailed(error: unknown): void {
    if (this.#storeDown || this.#closed) return;
    this.#storeDown = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.dispatchEvent(
      new ErrorEvent('error', {
        message: `${this.#store?.description ?? 'The store'} cannot be reached (${reason}): events reach this process's streams only until it is back`,
        error,
      }),
    );
  }
}

/** The first name of {@link Channel}, kept: the same class. */
export const EventSourceChannel = Channel;
/** The first name of {@link Channel}, kept. */
export type EventSourceChannel = Channel;

const REGISTER_TYPE_ERROR =
  'register() takes a server-side EventSource (new EventSource(request, response)) or a server WebSocket (new WebSocket(request, socket, head))';

function concat(entries: readonly HistoryEntry[], bytes: number): Buffer {
  const blocks: Buffer[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) blocks[i] = (entries[i] as HistoryEntry).block;
  return Buffer.concat(blocks, bytes);
}

/**
 * The WebSocket bytes of a turn's events, made when the first member needs
 * them and shared by the rest: the plain frames, and the compressed ones per
 * server window. Each event's frame is kept on its entry, for replays.
 */
class TurnFrames {
  readonly #messageOf: (entry: Entry) => ChannelMessage | null;
  readonly #all: readonly Entry[];
  #entries: readonly Entry[] | undefined;
  #plain: Buffer | undefined;
  #deflated: Map<number, Buffer> | undefined;
  #size = -1;

  constructor(messageOf: (entry: Entry) => ChannelMessage | null, entries: readonly Entry[]) {
    this.#messageOf = messageOf;
    this.#all = entries;
  }

  /** The turn's entries that have a message (toMessage made one). */
  get entries(): readonly Entry[] {
    if (this.#entries === undefined) {
      const all = this.#all;
      let failed = false;
      for (const entry of all) if (this.#messageOf(entry) === null) failed = true;
      this.#entries = failed ? all.filter((entry) => entry.message !== null) : all;
    }
    return this.#entries;
  }

  /** The application bytes of the turn's messages. */
  get size(): number {
    if (this.#size < 0) {
      let size = 0;
      for (const entry of this.entries) size += entry.size;
      this.#size = size;
    }
    return this.#size;
  }

  /** The turn's frames for a route: plain, compressed with a `bits` window, or none (it sends its own). */
  bytes(route: FrameRoute): Buffer | undefined {
    if (route === 'own') return undefined;
    if (route === 'takeover') {
      const small = this.size < COMPRESS_AT_LEAST || this.entries.every((entry) => entry.size < COMPRESS_AT_LEAST);
      return small ? this.bytes('plain') : undefined;
    }
    if (route === 'plain') {
      this.#plain ??= this.#join((entry) => this.#frame(entry));
      return this.#plain;
    }
    this.#deflated ??= new Map();
    let bytes = this.#deflated.get(route);
    if (bytes === undefined) {
      bytes = this.#join((entry) => {
        entry.deflated ??= new Map();
        let frame = entry.deflated.get(route);
        if (frame === undefined) {
          frame = deflatedFrame(entry.message as ChannelMessage, route, () => this.#frame(entry));
          entry.deflated.set(route, frame);
        }
        return frame;
      });
      this.#deflated.set(route, bytes);
    }
    return bytes;
  }

  #frame(entry: Entry): Buffer {
    entry.frame ??= plainFrame(entry.message as ChannelMessage);
    return entry.frame;
  }

  #join(frameOf: (entry: Entry) => Buffer): Buffer {
    const entries = this.entries;
    if (entries.length === 1) return frameOf(entries[0] as Entry);
    const frames = entries.map(frameOf);
    return Buffer.concat(frames);
  }
}
