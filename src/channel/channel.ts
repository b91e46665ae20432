// A channel: one feed of server-sent events for many EventSource streams.
// broadcast() encodes an event once, into one Buffer; the events of one
// event-loop turn go to every stream as one write of one shared Buffer. The
// channel gives ids, keeps recent events, and replays what a reconnecting
// client missed (its Last-Event-ID) before live events, in order. A store
// (e.g. RedisChannelStore) shares the feed, its ids and its history between
// processes.
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
import { EventHistory, type HistoryEntry, isStreamId, StreamIdClock } from './history.js';
import { type ChannelFeed, channelFeed } from './member.js';

/**
 * What a channel holds: server-side EventSource streams. (Types only: at run
 * time the channel asks a member for its feed, src/channel/member.ts, and
 * knows no endpoint class.)
 */
export type ChannelMember = EventSource;

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

/** Options of {@link EventSourceChannel}. */
export interface EventSourceChannelOptions {
  /** How many recent events to keep for clients that reconnect. Default 1000; 0 keeps none. */
  history?: number;
  /** Seconds an event is kept for resuming, at most. Default: no limit (only `history` counts). */
  historyAge?: number;
  /**
   * Bytes a stream may have waiting (unsent) before it is dropped: its
   * connection is closed, `dropped` counts it and an `overflow` event names
   * it. The client reconnects and resumes from history. Default 1 MiB.
   */
  maxBuffered?: number;
  /** Turns what broadcast() is given into event data, e.g. `JSON.stringify`. Without it, data must be a string. */
  serialize?: Serialize;
  /** Shares the channel between processes, e.g. `await RedisChannelStore.connect({ url, key })`. */
  store?: ChannelStore;
}

/** Options of {@link EventSourceChannel.broadcast}. */
export interface BroadcastOptions {
  /** The event type; listeners use addEventListener(event). No CR or LF. */
  event?: string;
  /** The event id; by default the channel gives one (`<ms>-<seq>`). Not with a store. */
  id?: string | number;
}

/**
 * Dispatched when a stream is dropped for having more than `maxBuffered` bytes
 * waiting (a client that does not read).
 *
 * @see EventSourceChannelOptions.maxBuffered
 */
export class OverflowEvent extends Event {
  /** The stream that was dropped. */
  readonly source: ChannelMember;

  constructor(type: string, source: ChannelMember) {
    super(type);
    this.source = source;
  }
}

/**
 * Dispatched for every event the channel sends out (after its streams were
 * given it), from this process or, with a store, from any: what a subscriber
 * that is not an EventSource (e.g. WebSockets) can relay.
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
export interface EventSourceChannelEventMap {
  /** An event went out to the streams (its data, name and id). */
  message: ChannelMessageEvent;
  /** The store cannot be reached: events reach this process's streams only, until it is back. */
  error: ErrorEvent;
  /** A stream was dropped for being too far behind. */
  overflow: OverflowEvent;
}

/** An event waiting for the next flush, with what its message event carries. */
interface Pending {
  readonly entry: HistoryEntry;
  readonly data: string;
  readonly event: string | undefined;
}

interface Member {
  readonly writer: ChannelFeed;
  /** Runs as the stream ends (any close path): flush what is pending to it, then let it go. */
  readonly onend: () => void;
  /** While the store answers a resume: the live entries held back until then. */
  held: HistoryEntry[] | null;
}

const OPTION_KEYS = ['history', 'historyAge', 'maxBuffered', 'serialize', 'store'] as const;
const BROADCAST_KEYS = ['event', 'id'] as const;
const DEFAULT_HISTORY = 1000;
/** Bytes a stream may have waiting before the channel drops it (SECURITY.md, limits). */
export const DEFAULT_MAX_BUFFERED = 1024 * 1024;
/** A flush that takes this long (ms) makes the next one wait as long again... */
const SLOW_FLUSH_MS = 1;
/** ...but never longer than this (ms). */
const MAX_FLUSH_DELAY_MS = 100;

/**
 * One feed of server-sent events for many streams: encode once, write once per
 * turn, ids, history and resume from `Last-Event-ID`, and with a store, all of
 * that across processes.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 * @example
 * const channel = new EventSource.Channel({ history: 1000, serialize: JSON.stringify });
 * http.createServer((request, response) => {
 *   if (!EventSource.isEventSource(request)) return response.writeHead(404).end();
 *   channel.register(new EventSource(request, response));   // replays what it missed
 * }).listen(8080);
 * channel.broadcast({ price: 42 }, { event: 'tick' });
 */
export class EventSourceChannel extends EventTarget {
  readonly #members = new Map<ChannelMember, Member>();
  readonly #history: EventHistory;
  readonly #clock = new StreamIdClock();
  readonly #serialize: Serialize | undefined;
  readonly #maxBuffered: number;
  readonly #store: ChannelStore | undefined;
  readonly #handlers = new EventHandlers(this);
  #batch: Pending[] = [];
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

  constructor(options?: EventSourceChannelOptions) {
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
    const store = options?.store;
    if (store !== undefined && (typeof store?.append !== 'function' || typeof store.open !== 'function')) {
      throw new TypeError('store must be a ChannelStore, e.g. await RedisChannelStore.connect({ url, key })');
    }
    this.#history = new EventHistory(history, age * 1000);
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

  /** How many streams are registered. */
  get size(): number {
    return this.#members.size;
  }

  /** How many streams were dropped for having more than `maxBuffered` bytes waiting. */
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

  override addEventListener<K extends keyof EventSourceChannelEventMap>(
    type: K,
    listener: Listener<EventSourceChannelEventMap[K]> | null,
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
   * Adds a stream. When its request carried `Last-Event-ID`, the events after
   * that id are written first (from history, or from the store when history
   * no longer has it), then live events: in order, none twice, none missed.
   * It leaves the channel when it closes.
   */
  register(source: ChannelMember): void {
    const writer = typeof source?.[channelFeed] === 'function' ? source[channelFeed]() : undefined;
    if (!writer) {
      throw new TypeError('register() takes a server-side EventSource: new EventSource(request, response)');
    }
    if (this.#closed) throw new DOMException('The channel is closed', 'InvalidStateError');
    if (this.#members.has(source) || !writer.writable) return;
    // What is pending goes to the others first, so that history now holds
    // exactly what the other streams have been given.
    this.flush();
    const member: Member = {
      writer,
      held: null,
      onend: () => {
        this.flush();
        this.unregister(source);
      },
    };
    writer.beforeEnd(member.onend);
    this.#members.set(source, member);
    if (source.lastEventId !== '') this.#resume(source, member, source.lastEventId);
  }

  /** Removes a stream without closing it; false when it was not registered. */
  unregister(source: ChannelMember): boolean {
    const member = this.#members.get(source);
    if (!member) return false;
    this.#members.delete(source);
    member.writer.removeBeforeEnd(member.onend);
    return true;
  }

  /**
   * Publishes one event to every stream. It is encoded once; the events of one
   * event-loop turn reach each stream as one write (call flush() to write now).
   * Data must be a string unless the channel has `serialize`.
   *
   * @returns the event's id: given, or made by the channel, or (with a store)
   * the store's, once stored. Never rejects: when the store cannot be reached
   * the event goes to this process's streams with an id of its own, and the
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

  /** Writes the events waiting for the end of this turn to every stream now. */
  flush(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    const started = performance.now();
    this.#batch = [];
    const entries = batch.map((pending) => pending.entry);
    const chunk = entries.length === 1 ? (entries[0] as HistoryEntry).block : concat(entries, this.#batchBytes);
    this.#batchBytes = 0;
    const limit = this.#maxBuffered;
    let dropped: ChannelMember[] | undefined;
    for (const [source, member] of this.#members) {
      if (member.held) {
        member.held.push(...entries);
      } else if (member.writer.deliver(chunk, limit) === 'overflow') {
        dropped ??= [];
        dropped.push(source);
      }
    }
    const took = performance.now() - started;
    this.#nextFlushAt = took < SLOW_FLUSH_MS ? 0 : started + took + Math.min(took, MAX_FLUSH_DELAY_MS);
    // Listeners run after the loop, so that they see (and may change) a settled set.
    if (dropped) for (const source of dropped) this.#drop(source);
    for (const { entry, data, event } of batch) {
      this.dispatchEvent(new ChannelMessageEvent('message', { data, lastEventId: entry.id, event }));
    }
  }

  /**
   * Closes every registered stream (their clients reconnect, e.g. to another
   * process) and stops the store. broadcast() and register() throw after it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    // Either kind; each clear function ignores the other's handle.
    clearTimeout(this.#scheduled as NodeJS.Timeout);
    clearImmediate(this.#scheduled as NodeJS.Immediate);
    this.#scheduled = undefined;
    for (const source of [...this.#members.keys()]) source.close();
    this.#members.clear();
    await this.#store?.close();
  }

  #publish(id: string, event: string | undefined, text: string): void {
    const entry: HistoryEntry = {
      id,
      block: Buffer.from(formatEvent(text, event === undefined ? { id } : { event, id })),
      at: Date.now(),
    };
    this.#history.push(entry);
    this.#lastEventId = id;
    this.#enqueue({ entry, data: text, event });
  }

  /**
   * Queues an entry for the next flush: at the end of this turn, or, when the
   * last flush was slow (the streams' writes took the CPU), once as long again
   * has passed, so that a saturated channel writes more events per write
   * instead of falling behind one write per event per stream.
   */
  #enqueue(pending: Pending): void {
    if (this.#closed) return;
    this.#batch.push(pending);
    this.#batchBytes += pending.entry.block.length;
    if (this.#scheduled) return;
    const wait = this.#nextFlushAt - performance.now();
    this.#scheduled = wait > 0 ? setTimeout(this.#onScheduled, wait) : setImmediate(this.#onScheduled);
  }

  #resume(source: ChannelMember, member: Member, lastId: string): void {
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

  #resumed(source: ChannelMember, member: Member, entries: HistoryEntry[]): void {
    if (this.#members.get(source) !== member) return;
    const held = member.held ?? [];
    member.held = null;
    const ids = new Set(entries.map((entry) => entry.id));
    for (const entry of held) if (!ids.has(entry.id)) entries.push(entry);
    this.#replay(source, member, entries);
  }

  #replay(source: ChannelMember, member: Member, entries: HistoryEntry[]): void {
    if (entries.length === 0) return;
    const bytes = entries.reduce((sum, entry) => sum + entry.block.length, 0);
    if (member.writer.deliver(concat(entries, bytes), this.#maxBuffered) === 'overflow') this.#drop(source);
  }

  #drop(source: ChannelMember): void {
    if (!this.unregister(source)) return;
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
    this.#enqueue({ entry, data: String(stored.data), event: stored.event });
  }

  /** Encodes stored events; one whose event name or id could inject a field is skipped. */
  #entriesOf(stored: readonly StoredEvent[]): HistoryEntry[] {
    const entries: HistoryEntry[] = [];
    const at = Date.now();
    for (const { id, event, data } of stored) {
      try {
        const block = Buffer.from(formatEvent(String(data), event === undefined ? { id } : { event, id }));
        entries.push({ id, block, at });
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

function concat(entries: readonly HistoryEntry[], bytes: number): Buffer {
  const blocks: Buffer[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) blocks[i] = (entries[i] as HistoryEntry).block;
  return Buffer.concat(blocks, bytes);
}
