// What a channel needs of a member: the narrow interface a stream implements
// to be registered, so that the channel knows no endpoint class (and the
// endpoint no channel). A pure leaf: types and one symbol, no imports.
//
// A member hands the channel its feed through a symbol-keyed method, kept
// off the string-keyed public face of the class:
//
//   const feed = member[channelFeed]()   undefined: not a member kind the channel knows
//   feed.deliver(chunk, limit)           one turn's bytes, encoded once for all; over
//                                        `limit` bytes waiting, the member is dropped
//   feed.beforeEnd(hook)                 hook() runs as the member ends, on every path
//   feed.removeBeforeEnd(hook)
//   feed.beforeWrite(hook)               hook() runs before the member's own write (its
//                                        send(), a ping): the channel flushes first, so
//                                        its pending events keep their place
//   feed.removeBeforeWrite(hook)
//
// References:
// - better-sse's Channel (register/broadcast), the API people know: https://matthewwid.github.io/better-sse/guides/channels

/** The key of the method through which a stream gives a channel its {@link ChannelFeed}. */
export const channelFeed: unique symbol = Symbol('isosocket.channelFeed');

/** What became of a chunk handed to {@link ChannelFeed.deliver}. */
export type Delivery = 'written' | 'queued' | 'overflow' | 'closed';

/** The write path a member opens to a channel. */
export interface ChannelFeed {
  /** Whether it can still be written. */
  readonly writable: boolean;
  /**
   * Writes a chunk now, or queues it (by reference) behind what waits; a
   * member whose unsent bytes would pass `limit` is dropped (its connection
   * closed) and `'overflow'` returned.
   */
  deliver(chunk: Buffer, limit: number): Delivery;
  /** Runs `hook` just before the member ends, on every close path. */
  beforeEnd(hook: () => void): void;
  /** Removes a hook added with beforeEnd(). */
  removeBeforeEnd(hook: () => void): void;
  /** Runs `hook` before each of the member's own writes (not a channel's deliver()). */
  beforeWrite(hook: () => void): void;
  /** Removes a hook added with beforeWrite(). */
  removeBeforeWrite(hook: () => void): void;
}

/**
 * The key of a server WebSocket's one hook for channels: write bytes that
 * are already a whole frame (or several), framed once for every member.
 */
export const writeFramed: unique symbol = Symbol('isosocket.writeFramed');

/** What a channel uses of a WebSocket member: its public face, and the hook. */
export interface FramedMember {
  readonly readyState: number;
  readonly bufferedAmount: number;
  /** The negotiated extensions: which frames it can take. */
  readonly extensions: string;
  send(data: string | Buffer): unknown;
  close(code?: number, reason?: string): unknown;
  addEventListener(type: 'close', listener: () => void): void;
  removeEventListener(type: 'close', listener: () => void): void;
  /**
   * @internal Writes `bytes` (whole server frames) as `size` bytes of
   * application data; false, and nothing written, when that would not keep
   * its place behind the socket's own messages (then the channel sends the
   * messages as any other).
   */
  [writeFramed](bytes: Buffer, size: number): boolean;
}
