// isosocket in a child process (spec/fixtures/child.mjs, the built package),
// for the specs that claim "never crashes" or "bounded memory": the attack
// runs against the child, and the spec then probes it: still alive, still
// serving, peak RSS (read in the child, from the kernel) grown by less than
// a bound. Needs `npm run build` (npm test builds first).

import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { Test } from 'tap';
import { within } from './bounded.js';
import { until } from './peers.js';
import { ROOT } from './spawn.js';

/** One event a WebSocket or EventSource in the child dispatched. */
export interface ChildEvent {
  type: string;
  readyState: number;
  data?: string;
  dataLength?: number;
  lastEventId?: string;
  code?: number;
  reason?: string;
  wasClean?: boolean;
  message?: string;
  /** An EventSource error's HTTP status. */
  status?: number;
}

export interface Probe {
  /** The child's peak resident set size so far (VmHWM), in bytes. */
  peakRSS: number;
  rss: number;
  /** Every process warning the child printed (TimeoutOverflowWarning, MaxListenersExceeded...). */
  warnings: string[];
  /** process.getActiveResourcesInfo(): timers, sockets, servers still open. */
  handles: string[];
  /** WebSockets and EventSources in the child that are not CLOSED. */
  open: number;
}

type Message =
  | { op: 'ready'; peakRSS: number }
  | { op: 'listening'; port: number }
  | { op: 'upgrade'; id: string }
  | { op: 'event'; id: string; event: ChildEvent }
  | ({ op: 'probe' } & Probe);

/** Short form of an event for traces: `close:1006`, `message:hello`, `error`. */
export function describe(event: ChildEvent): string {
  if (event.type === 'close') return `close:${event.code}`;
  if (event.type === 'message') return `message:${event.data}`;
  return event.type;
}

/** The child, and what it reported. */
export class Child {
  readonly process: ChildProcess;
  readonly events = new Map<string, ChildEvent[]>();
  /** Server-side connections, in the order the child accepted them. */
  readonly upgrades: string[] = [];
  /** The peak RSS when the child was ready. */
  readonly ready: Promise<number>;
  stderr = '';
  #nextId = 0;
  #probes: Array<(probe: Probe) => void> = [];
  #listening: Array<(port: number) => void> = [];

  /** `execArgv`: Node flags for the child (e.g. `--max-old-space-size=512`); none by default. */
  constructor(t: Test, { execArgv = [] }: { execArgv?: string[] } = {}) {
    this.process = fork(join(ROOT, 'spec/fixtures/child.mjs'), [], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv,
    });
    this.process.stderr?.on('data', (chunk) => {
      this.stderr += chunk;
    });
    t.teardown(() => {
      if (this.process.exitCode === null) this.process.kill('SIGKILL');
    });
    this.ready = within(
      new Promise<number>((resolve) => {
        this.process.on('message', (message: Message) => {
          if (message.op === 'ready') resolve(message.peakRSS);
          else if (message.op === 'listening') this.#listening.shift()?.(message.port);
          else if (message.op === 'upgrade') {
            this.upgrades.push(message.id);
            this.#list(message.id);
          } else if (message.op === 'event') this.#list(message.id).push(message.event);
          else if (message.op === 'probe') this.#probes.shift()?.(message);
        });
      }),
      10_000,
      'the child to start (is dist/ built? run `npm run build`)',
    );
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null && this.process.connected;
  }

  /**
   * Starts the child's echoing WebSocket server; resolves with its port. With
   * `channel` (EventSource.Channel options), its event-stream requests join
   * one channel, whose events are reported under the id `channel`.
   */
  serve(options: Record<string, unknown> = {}, channel?: Record<string, unknown>): Promise<number> {
    const port = new Promise<number>((resolve) => this.#listening.push(resolve));
    this.process.send({ op: 'serve', options, channel });
    return within(port, 5000, 'the child to listen');
  }

  /**
   * Starts an HTTP/2 server in the child (cleartext, extended CONNECT
   * enabled, `settings` added) whose WebSocket streams echo; resolves with its port.
   */
  serveHttp2(options: Record<string, unknown> = {}, settings: Record<string, unknown> = {}): Promise<number> {
    const port = new Promise<number>((resolve) => this.#listening.push(resolve));
    this.process.send({ op: 'serveHttp2', options, settings });
    return within(port, 5000, 'the child to listen over HTTP/2');
  }

  /** Opens a WebSocket.Client in the child; returns its id. */
  connect(url: string, options: Record<string, unknown> = {}): string {
    const id = `c${this.#nextId++}`;
    this.#list(id);
    this.process.send({ op: 'connect', id, url, options });
    return id;
  }

  /** Opens an EventSource.Client in the child; returns its id. */
  source(url: string, init?: Record<string, unknown>, types: string[] = []): string {
    const id = `e${this.#nextId++}`;
    this.#list(id);
    this.process.send({ op: 'source', id, url, init, types });
    return id;
  }

  /** Broadcasts `count` events of `size` bytes on the channel, one per turn; ends with a `broadcast` event (data: the drop count). */
  broadcast(count: number, size: number): void {
    this.#list('channel');
    this.process.send({ op: 'broadcast', count, size });
  }

  send(id: string, data: string): void {
    this.process.send({ op: 'send', id, data });
  }

  close(id: string, code?: number, reason?: string): void {
    this.process.send({ op: 'close', id, code, reason });
  }

  /** Waits until the target's events satisfy the predicate, failing fast if the child dies. */
  async until(
    id: string,
    predicate: (events: ChildEvent[]) => boolean,
    what: string,
    ms = 10_000,
  ): Promise<ChildEvent[]> {
    const events = this.#list(id);
    try {
      await until(() => predicate(events) || !this.alive, ms);
    } catch {
      throw new Error(`${what}: not seen in ${ms} ms; events of ${id}: ${events.map(describe).join(', ')}`);
    }
    if (!this.alive) throw new Error(`the child died during "${what}": ${this.stderr}`);
    return events;
  }

  /** Resolves with the id of the next server-side connection the child accepts: call it before connecting. */
  async nextUpgrade(ms = 5000): Promise<string> {
    const count = this.upgrades.length;
    await within(
      until(() => this.upgrades.length > count || !this.alive, ms),
      ms + 100,
      'the child to accept an upgrade',
    );
    if (!this.alive) throw new Error(`the child died waiting for an upgrade: ${this.stderr}`);
    return this.upgrades[count] as string;
  }

  /** Asks the child for its memory, warnings and handles; `reset` starts a new peak (Linux). */
  probe({ reset = false } = {}): Promise<Probe> {
    if (!this.alive) return Promise.reject(new Error(`the child is gone: ${this.stderr}`));
    return within(
      new Promise<Probe>((resolve) => {
        this.#probes.push(resolve);
        this.process.send({ op: 'probe', reset });
      }),
      5000,
      'the probe to be answered',
    );
  }

  #list(id: string): ChildEvent[] {
    let list = this.events.get(id);
    if (!list) {
      list = [];
      this.events.set(id, list);
    }
    return list;
  }
}

/** Bytes as MiB with one decimal, for messages. */
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
