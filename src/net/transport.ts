// The client transport shared by WebSocket.Client and EventSource.Client:
// a TCP or TLS connection to the target, directly, tunnelled through an HTTP
// proxy with CONNECT, or through a SOCKS5 proxy (src/net/socks.ts), within a
// deadline the application can also abort.
//
// Calling contract (both clients):
//   const transport = resolveTransport(options);   // ./options.ts; a bad option is a TypeError
//   const attempt = new ConnectionAttempt(transport); // starts the handshakeTimeout timer
//   const socket = await connect(url, transport, attempt);
//   ... send the request, read the response head ...
//   attempt.finish();                               // the handshake is complete: timer stopped
// `attempt.signal` aborts when `handshakeTimeout` passes, when the
// application's `signal` aborts, or on `attempt.abort()`; `connect()` then
// rejects with an Error that says which. `resolveTransport` and the option
// types are ./options.ts's.
//
// References:
// - RFC 9110 §9.3.6, CONNECT: https://www.rfc-editor.org/rfc/rfc9110#section-9.3.6
// - RFC 6455 §4.1 (a client may use a proxy; TLS is inside the tunnel)
// - RFC 7617, Basic authentication (Proxy-Authorization)
// - RFC 1928 and RFC 1929, SOCKS5 and its username/password authentication;
//   curl's socks5:// (the client resolves the name) and socks5h:// (the proxy does)
// - ws `handshakeTimeout`; DOM Standard, AbortSignal: https://dom.spec.whatwg.org/#interface-AbortSignal

import dns from 'node:dns';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { isSocks, parseProxyOrigin, type ResolvedProxy, type ResolvedTransport } from './options.js';
import { proxyFromEnv } from './proxy-env.js';
import { SocksHandshake } from './socks.js';
import { endpointOf } from './url.js';

/** Largest proxy response head we read before giving up (bytes). */
export const MAX_PROXY_RESPONSE_HEAD = 16 * 1024;

/** The port of a SOCKS5 proxy URL that names none (RFC 1928 §3: "conventionally located on TCP port 1080"). */
export const DEFAULT_SOCKS_PORT = 1080;

/** An Error for an abort reason: the reason itself when it is one. */
export function abortError(reason: unknown): Error {
  return reason instanceof Error ? reason : new DOMException(String(reason ?? 'Aborted'), 'AbortError');
}

/**
 * One attempt to open a connection, from the first TCP packet to the end of
 * the opening handshake (a WebSocket's 101, an event stream's response head).
 * Its `signal` aborts when `handshakeTimeout` passes (reason: a `TimeoutError`
 * DOMException), when the application's `signal` aborts (its reason), or on
 * `abort()`. Every timer and listener is let go by `finish()` or the abort.
 *
 * @see https://dom.spec.whatwg.org/#interface-AbortSignal
 * @example
 * const attempt = new ConnectionAttempt(transport);
 * const socket = await connect(url, transport, attempt);
 * request.on('response', () => attempt.finish());
 */
export class ConnectionAttempt {
  readonly #controller = new AbortController();
  readonly #linked: AbortSignal[] = [];
  #timer: NodeJS.Timeout | undefined;
  #settled = false;
  readonly #onLinkedAbort = (event: Event): void => this.abort((event.target as AbortSignal).reason);

  /**
   * @param transport `handshakeTimeout` (0 for none) and the application's `signal`.
   * @param signal Another signal to follow, such as the client's own.
   */
  constructor(transport: Pick<ResolvedTransport, 'handshakeTimeout' | 'signal'>, signal?: AbortSignal) {
    for (const linked of [transport.signal, signal]) {
      if (linked === undefined) continue;
      if (linked.aborted) {
        this.abort(linked.reason);
        return;
      }
      linked.addEventListener('abort', this.#onLinkedAbort);
      this.#linked.push(linked);
    }
    const ms = transport.handshakeTimeout;
    if (ms > 0) {
      this.#timer = setTimeout(
        () =>
          this.abort(
            new DOMException(`The opening handshake took longer than ${ms} ms (handshakeTimeout)`, 'TimeoutError'),
          ),
        ms,
      );
    }
  }

  /** Aborts when the attempt is abandoned; `signal.reason` says why. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the attempt ended because `handshakeTimeout` passed. */
  get timedOut(): boolean {
    return (
      this.#controller.signal.aborted && (this.#controller.signal.reason as Error | undefined)?.name === 'TimeoutError'
    );
  }

  /** Abandons the attempt (no-op once finished or aborted). */
  abort(reason: unknown = new DOMException('The connection attempt was aborted', 'AbortError')): void {
    if (this.#settled) return;
    this.#release();
    this.#controller.abort(reason);
  }

  /** The handshake is complete: stops the timer; the signal will not abort any more. */
  finish(): void {
    if (this.#settled) return;
    this.#release();
  }

  #release(): void {
    this.#settled = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const linked of this.#linked) linked.removeEventListener('abort', this.#onLinkedAbort);
    this.#linked.length = 0;
  }
}

/**
 * Opens a connection to `target` (ws:, wss:, http: or https:), through the
 * configured proxy if any. Resolves once bytes can be written: after the TLS
 * handshake for secure targets, after the proxy's 2xx for tunnels. Rejects
 * with an Error naming the proxy when the proxy is down or refuses, and with
 * the abort reason when `attempt` aborts.
 *
 * @param attempt The {@link ConnectionAttempt} whose deadline runs on past the
 * connection (the caller finishes it).
 */
export async function connect(target: URL, transport: ResolvedTransport, attempt: ConnectionAttempt): Promise<Duplex> {
  const { signal } = attempt;
  const endpoint = endpointOf(target);
  const proxy = chooseProxy(target, transport);
  if (!proxy) return dial(endpoint, transport, signal);
  const socket = isSocks(proxy.origin)
    ? await socksTunnel(endpoint, proxy.origin, transport, signal)
    : await connectTunnel(endpoint, proxy, transport, signal);
  if (!endpoint.secure) return socket;
  // A wss: or https: target: TLS inside the tunnel, verified against the target's name.
  return open(
    tls.connect({ ...transport.tls, socket, servername: transport.tls.servername ?? serverName(endpoint.host) }),
    'secureConnect',
    signal,
  );
}

/** The proxy to go through: the explicit one, the environment's for `target` ('env'), or none. */
function chooseProxy(target: URL, transport: ResolvedTransport): ResolvedProxy | undefined {
  if (transport.proxy !== 'env') return transport.proxy;
  const chosen = proxyFromEnv(target);
  if (!chosen) return undefined;
  // The environment is not validated up front: say which variable is wrong.
  const { value, variable } = chosen;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  return { origin: parseProxyOrigin(withScheme, variable, Error), headers: [], tls: {} };
}

/**
 * Opens TCP to `to`, and TLS over it when `to.secure` (verified against its
 * name): the one way out, for the target and for a proxy alike. The net
 * options (localAddress, family, lookup...) apply to TLS too: tls.connect
 * passes them on.
 */
function dial(
  to: { host: string; port: number; secure: boolean },
  options: { net: Record<string, unknown>; tls: tls.ConnectionOptions },
  signal: AbortSignal,
): Promise<net.Socket> {
  if (!to.secure) {
    return open(net.connect({ ...options.net, host: to.host, port: to.port } as net.NetConnectOpts), 'connect', signal);
  }
  return open(
    tls.connect({
      ...options.net,
      ...options.tls,
      host: to.host,
      port: to.port,
      servername: options.tls.servername ?? serverName(to.host),
    } as tls.ConnectionOptions),
    'secureConnect',
    signal,
  );
}

/** {@link dial} to a proxy: a failure says which proxy (`what`) could not be reached, and why. */
async function dialProxy(
  to: { host: string; port: number; secure: boolean },
  options: { net: Record<string, unknown>; tls: tls.ConnectionOptions },
  signal: AbortSignal,
  what: string,
): Promise<net.Socket> {
  try {
    return await dial(to, options, signal);
  } catch (error) {
    throw new Error(`Could not connect to ${what}: ${describe(error as Error)}`, { cause: error });
  }
}

/** Connects to an HTTP proxy (TLS for https:) and opens a tunnel with CONNECT. */
async function connectTunnel(
  endpoint: { host: string; port: number },
  proxy: ResolvedProxy,
  options: ResolvedTransport,
  signal: AbortSignal,
): Promise<net.Socket> {
  const to = endpointOf(proxy.origin);
  const socket = await dialProxy(to, { net: options.net, tls: proxy.tls }, signal, `proxy ${proxy.origin.host}`);
  await tunnel(socket, endpoint, proxy, signal);
  return socket;
}

/**
 * Connects to a SOCKS5 proxy and opens a tunnel to the target (RFC 1928):
 * for socks5: the target's name is resolved here (with `net.lookup` and
 * `net.family` when given) and its address sent; for socks5h: the name goes
 * to the proxy. Credentials in the URL go in RFC 1929's request, and only
 * if the proxy asks for them.
 */
async function socksTunnel(
  endpoint: { host: string; port: number },
  origin: URL,
  options: ResolvedTransport,
  signal: AbortSignal,
): Promise<net.Socket> {
  const proxyHost = endpointOf(origin).host;
  const proxyPort = origin.port ? Number(origin.port) : DEFAULT_SOCKS_PORT;
  const proxyName = `${net.isIPv6(proxyHost) ? `[${proxyHost}]` : proxyHost}:${proxyPort}`;
  const target = `${net.isIPv6(endpoint.host) ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
  const host =
    origin.protocol === 'socks5h:' || net.isIP(endpoint.host) !== 0
      ? endpoint.host
      : await resolve(endpoint.host, options.net, signal, proxyName);
  let handshake: SocksHandshake;
  try {
    handshake = new SocksHandshake({
      proxy: proxyName,
      host,
      port: endpoint.port,
      target,
      username: decodeURIComponent(origin.username),
      password: decodeURIComponent(origin.password),
    });
  } catch (error) {
    // A host name over 255 bytes, or (from the environment) credentials over 255 bytes.
    throw new Error(`Cannot ask SOCKS5 proxy ${proxyName} for ${target}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const to = { host: proxyHost, port: proxyPort, secure: false };
  const socket = await dialProxy(to, { net: options.net, tls: {} }, signal, `SOCKS5 proxy ${proxyName}`);
  await socksHandshake(socket, handshake, proxyName, signal);
  return socket;
}

/** How a {@link listen} wait ends: the first call wins, and lets every listener go. */
interface Settle<T> {
  resolve(value: T): void;
  /** Rejects, and destroys the socket waited on. */
  reject(error: Error): void;
}

/** The socket events a wait listens to. */
interface SocketHandlers {
  data?(chunk: Buffer): void;
  close?(): void;
  error?(error: Error): void;
  connect?(): void;
  secureConnect?(): void;
}

type SocketListener = (...args: unknown[]) => void;

/**
 * The one shape of every wait in this file (TCP or TLS up, a DNS answer, a
 * SOCKS5 or CONNECT reply): listeners on `socket` (if any) and on `signal`,
 * all let go the moment the promise settles. A rejection destroys the
 * socket. An abort, before or during the wait, rejects with
 * `onabort(reason)`. `start` runs once everything listens (to send the
 * request the wait is for).
 */
function listen<T>(
  signal: AbortSignal,
  socket: net.Socket | undefined,
  onabort: (reason: Error) => Error,
  handlers: (settle: Settle<T>) => SocketHandlers,
  start: (settle: Settle<T>) => void = () => {},
): Promise<T> {
  return new Promise<T>((resolvePromise, rejectPromise) => {
    const listening: Array<[string, SocketListener]> = [];
    let settled = false;
    const release = (): void => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
      for (const [event, listener] of listening) socket?.off(event, listener);
    };
    const settle: Settle<T> = {
      resolve(value) {
        if (settled) return;
        release();
        resolvePromise(value);
      },
      reject(error) {
        if (settled) return;
        release();
        socket?.destroy();
        rejectPromise(error);
      },
    };
    const onAbort = (): void => settle.reject(onabort(abortError(signal.reason)));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    if (socket) {
      for (const [event, listener] of Object.entries(handlers(settle)) as Array<[string, SocketListener]>) {
        socket.on(event, listener);
        listening.push([event, listener]);
      }
    }
    start(settle);
  });
}

type LookupCallback = (error: Error | null, address: string | Array<{ address: string }>, family?: number) => void;
type Lookup = (host: string, options: { family?: number; all?: boolean }, callback: LookupCallback) => void;

/** Resolves a host name for socks5: with the application's `net.lookup` (else dns.lookup); rejects on abort. */
function resolve(
  host: string,
  netOptions: Record<string, unknown>,
  signal: AbortSignal,
  proxyName: string,
): Promise<string> {
  const lookup = (typeof netOptions.lookup === 'function' ? netOptions.lookup : dns.lookup) as Lookup;
  const family = typeof netOptions.family === 'number' ? netOptions.family : 0;
  const failure = (error: Error): Error => {
    const code = (error as { code?: unknown }).code;
    return new Error(
      `Could not resolve ${host} to ask SOCKS5 proxy ${proxyName} for it: ${typeof code === 'string' ? code : error.message} (socks5:// resolves names here; socks5h:// lets the proxy resolve them)`,
      { cause: error },
    );
  };
  return listen<string>(
    signal,
    undefined,
    (reason) => reason,
    () => ({}),
    (settle) => {
      try {
        lookup(host, { family, all: false }, (error, address) => {
          if (error) return settle.reject(failure(error));
          const first = Array.isArray(address) ? address[0]?.address : address;
          if (typeof first !== 'string' || net.isIP(first) === 0) {
            return settle.reject(failure(new Error(`the lookup gave no IP address (${String(first)})`)));
          }
          settle.resolve(first);
        });
      } catch (error) {
        settle.reject(failure(error as Error));
      }
    },
  );
}

/**
 * Runs the SOCKS5 handshake (src/net/socks.ts) over the connection to the
 * proxy; resolves with the tunnel open, the socket paused and any bytes past
 * the CONNECT reply put back for the caller.
 */
function socksHandshake(
  socket: net.Socket,
  handshake: SocksHandshake,
  proxyName: string,
  signal: AbortSignal,
): Promise<void> {
  return listen<void>(
    signal,
    socket,
    (reason) =>
      new Error(`SOCKS5 proxy ${proxyName} did not send ${handshake.waitingFor}: ${reason.message}`, { cause: reason }),
    (settle) => ({
      data: (chunk: Buffer): void => {
        let step: ReturnType<SocksHandshake['receive']>;
        try {
          step = handshake.receive(chunk);
        } catch (error) {
          settle.reject(error as Error);
          return;
        }
        if (step === undefined) return;
        if ('send' in step) {
          socket.write(step.send);
          return;
        }
        settle.resolve();
        // Hold what follows until the caller listens; bytes past the reply are the target's.
        socket.pause();
        if (step.rest.length > 0) socket.unshift(step.rest);
      },
      close: (): void =>
        settle.reject(
          new Error(`SOCKS5 proxy ${proxyName} closed the connection before sending ${handshake.waitingFor}`),
        ),
      error: (error: Error): void =>
        settle.reject(
          new Error(`SOCKS5 proxy ${proxyName}: ${describe(error)} (waiting for ${handshake.waitingFor})`, {
            cause: error,
          }),
        ),
    }),
    () => socket.write(handshake.greeting()),
  );
}

/** A system error's code (ECONNREFUSED...), else the message with any code. */
function describe(error: Error & { code?: unknown; syscall?: unknown }): string {
  if (typeof error.syscall === 'string' && typeof error.code === 'string') return error.code;
  return typeof error.code === 'string' ? `${error.message} (${error.code})` : error.message;
}

/** SNI must not be an IP address (RFC 6066 §3). */
function serverName(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}

/** Resolves with the socket once `ready` fires; rejects on error or abort. */
function open<S extends net.Socket>(socket: S, ready: 'connect' | 'secureConnect', signal: AbortSignal): Promise<S> {
  return listen<S>(
    signal,
    socket,
    (reason) => reason,
    (settle) => ({
      error: (error: Error): void => settle.reject(error),
      [ready]: (): void => settle.resolve(socket),
    }),
  );
}

/** At most this many characters of a peer's status line go into an error message. */
const MAX_QUOTED = 200;

/** Sends CONNECT and waits for the proxy's answer; a non-2xx answer rejects with its status line. */
function tunnel(
  socket: net.Socket,
  endpoint: { host: string; port: number },
  proxy: ResolvedProxy,
  signal: AbortSignal,
): Promise<void> {
  const proxyUrl = proxy.origin;
  const authority = `${net.isIPv6(endpoint.host) ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxyUrl.username || proxyUrl.password) {
    // Credentials from the proxy origin go to the proxy only, never to the target.
    const credentials = `${decodeURIComponent(proxyUrl.username)}:${decodeURIComponent(proxyUrl.password)}`;
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}`);
  }
  for (const [name, value] of proxy.headers) lines.push(`${name}: ${value}`);

  let head = Buffer.alloc(0);
  return listen<void>(
    signal,
    socket,
    (reason) =>
      new Error(`Proxy ${proxyUrl.host} did not answer CONNECT to ${authority}: ${reason.message}`, { cause: reason }),
    (settle) => ({
      data: (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        // The head, its blank line included, may be at most MAX_PROXY_RESPONSE_HEAD bytes.
        if ((end < 0 ? head.length : end + 4) > MAX_PROXY_RESPONSE_HEAD) {
          settle.reject(
            new Error(`Proxy ${proxyUrl.host} sent a response head over ${MAX_PROXY_RESPONSE_HEAD} bytes to CONNECT`),
          );
          return;
        }
        if (end < 0) return;
        const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
        if (!status?.startsWith('2')) {
          const hint = status === '407' ? " (check the proxy origin's user:password)" : '';
          const quoted = statusLine.replace(/^HTTP\/1\.[01] /, '');
          const shown = quoted.length > MAX_QUOTED ? `${quoted.slice(0, MAX_QUOTED)}…` : quoted;
          settle.reject(new Error(`Proxy refused CONNECT to ${authority}: ${shown}${hint}`));
          return;
        }
        settle.resolve();
        // Hold what follows until the caller listens; bytes past the head are the target's.
        socket.pause();
        const rest = head.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
      },
      close: (): void =>
        settle.reject(
          new Error(`Proxy ${proxyUrl.host} closed the connection before answering CONNECT to ${authority}`),
        ),
      error: (error: Error): void =>
        settle.reject(new Error(`Proxy ${proxyUrl.host}: ${error.message}`, { cause: error })),
    }),
    () => socket.write(`${lines.join('\r\n')}\r\n\r\n`),
  );
}
