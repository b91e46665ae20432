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
}
