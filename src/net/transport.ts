// The client transport shared by WebSocket.Client and EventSource.Client:
// a TCP or TLS connection to the target, directly or tunnelled through an
// HTTP proxy with CONNECT.
//
// References:
// - RFC 9110 §9.3.6, CONNECT: https://www.rfc-editor.org/rfc/rfc9110#section-9.3.6
// - RFC 6455 §4.1 (a client may use a proxy; TLS is inside the tunnel)
// - RFC 7617, Basic authentication (Proxy-Authorization)

import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { ProxyOptions, TransportOptions } from '../options.js';
import { validateHeaders } from './headers.js';
import { proxyForUrl } from './proxy-env.js';
import { endpointOf } from './url.js';

/** Largest proxy response head we read before giving up (bytes). */
export const MAX_PROXY_RESPONSE_HEAD = 16 * 1024;

/** The transport options with each shape checked, ready to connect with. */
export interface ResolvedTransport {
  tls: tls.ConnectionOptions;
  net: Record<string, unknown>;
  proxy: ProxyOptions | 'env' | undefined;
}

/** Checks the transport options; throws a TypeError naming the bad one. */
export function resolveTransport(options: TransportOptions | undefined): ResolvedTransport {
  const given = options ?? {};
  for (const key of ['tls', 'net'] as const) {
    const value = given[key];
    if (value !== undefined && (value === null || typeof value !== 'object')) {
      throw new TypeError(`${key} must be an object of options for ${key}.connect()`);
    }
  }
  const proxy = given.proxy;
  if (proxy !== undefined && proxy !== 'env') {
    if (proxy === null || typeof proxy !== 'object' || typeof proxy.origin !== 'string') {
      throw new TypeError("proxy must be { origin, headers?, tls? } or 'env'");
    }
    let origin: URL;
    try {
      origin = new URL(proxy.origin);
    } catch {
      throw new TypeError(`proxy.origin is not a valid URL: ${proxy.origin}`);
    }
    if (origin.protocol !== 'http:' && origin.protocol !== 'https:') {
      throw new TypeError(`proxy.origin must be an http: or https: URL, not ${origin.protocol}`);
    }
    validateHeaders(proxy.headers, 'proxy.headers');
  }
  const tlsOptions: tls.ConnectionOptions = { ...(given.tls ?? {}) };
  if (given.ca !== undefined && tlsOptions.ca === undefined) tlsOptions.ca = given.ca;
  return { tls: tlsOptions, net: { ...(given.net ?? {}) }, proxy };
}

/**
 * Opens a connection to `target` (ws:, wss:, http: or https:), through the
 * configured proxy if any. Resolves once bytes can be written: after the TLS
 * handshake for secure targets, after the proxy's 2xx for tunnels.
 */
export async function connect(target: URL, options: ResolvedTransport, signal: AbortSignal): Promise<Duplex> {
  const endpoint = endpointOf(target);
  let proxy: ProxyOptions | undefined;
  if (options.proxy === 'env') {
    const origin = proxyForUrl(target);
    if (origin) proxy = { origin };
  } else {
    proxy = options.proxy;
  }

  if (!proxy) {
    return endpoint.secure
      ? open(
          tls.connect({
            ...options.tls,
            host: endpoint.host,
            port: endpoint.port,
            servername: options.tls.servername ?? serverName(endpoint.host),
          }),
          'secureConnect',
          signal,
        )
      : open(
          net.connect({ ...options.net, host: endpoint.host, port: endpoint.port } as net.NetConnectOpts),
          'connect',
          signal,
        );
  }

  const proxyUrl = new URL(proxy.origin);
  const proxyEndpoint = endpointOf(proxyUrl);
  const toProxy = proxyEndpoint.secure
    ? open(
        tls.connect({
          ...(proxy.tls ?? {}),
          host: proxyEndpoint.host,
          port: proxyEndpoint.port,
          servername: proxy.tls?.servername ?? serverName(proxyEndpoint.host),
        }),
        'secureConnect',
        signal,
      )
    : open(
        net.connect({ ...options.net, host: proxyEndpoint.host, port: proxyEndpoint.port } as net.NetConnectOpts),
        'connect',
        signal,
      );
  const socket = await toProxy;
  await tunnel(socket, endpoint, proxyUrl, proxy.headers, signal);
  if (!endpoint.secure) return socket;
  // A wss: or https: target: TLS inside the tunnel, verified against the target's name.
  return open(
    tls.connect({
      ...options.tls,
      socket,
      servername: options.tls.servername ?? serverName(endpoint.host),
    }),
    'secureConnect',
    signal,
  );
}

/** SNI must not be an IP address (RFC 6066 §3). */
function serverName(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}

/** Resolves with the socket once `ready` fires; rejects on error or abort. */
function open<S extends net.Socket>(socket: S, ready: 'connect' | 'secureConnect', signal: AbortSignal): Promise<S> {
  return new Promise((resolve, reject) => {
    const onabort = (): void => {
      cleanup();
      socket.destroy();
      reject(new Error('The connection attempt was aborted'));
    };
    const onerror = (error: Error): void => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onready = (): void => {
      cleanup();
      resolve(socket);
    };
    const cleanup = (): void => {
      signal.removeEventListener('abort', onabort);
      socket.off('error', onerror);
      socket.off(ready, onready);
    };
    if (signal.aborted) return onabort();
    signal.addEventListener('abort', onabort);
    socket.once('error', onerror);
    socket.once(ready, onready);
  });
}

/** Sends CONNECT and waits for the proxy's answer; a non-2xx answer rejects with its status line. */
function tunnel(
  socket: net.Socket,
  endpoint: { host: string; port: number },
  proxyUrl: URL,
  extraHeaders: ProxyOptions['headers'],
  signal: AbortSignal,
): Promise<void> {
  const authority = `${net.isIPv6(endpoint.host) ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxyUrl.username || proxyUrl.password) {
    // Credentials from the proxy origin go to the proxy only, never to the target.
    const credentials = `${decodeURIComponent(proxyUrl.username)}:${decodeURIComponent(proxyUrl.password)}`;
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}`);
  }
  for (const [name, value] of validateHeaders(extraHeaders, 'proxy.headers')) lines.push(`${name}: ${value}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);

  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const fail = (message: string): void => {
      cleanup();
      socket.destroy();
      reject(new Error(message));
    };
    const ondata = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_PROXY_RESPONSE_HEAD) {
          fail(`Proxy ${proxyUrl.host} sent a response head over ${MAX_PROXY_RESPONSE_HEAD} bytes to CONNECT`);
        }
        return;
      }
      cleanup();
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
      if (!status?.startsWith('2')) {
        socket.destroy();
        const hint = status === '407' ? " (check the proxy origin's user:password)" : '';
        reject(new Error(`Proxy refused CONNECT to ${authority}: ${statusLine.replace(/^HTTP\/1\.[01] /, '')}${hint}`));
        return;
      }
      // Hold what follows until the caller listens; bytes past the head are the target's.
      socket.pause();
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve();
    };
    const onclose = (): void =>
      fail(`Proxy ${proxyUrl.host} closed the connection before answering CONNECT to ${authority}`);
    const onerror = (error: Error): void => fail(`Proxy ${proxyUrl.host}: ${error.message}`);
    const onabort = (): void => fail('The connection attempt was aborted');
    const cleanup = (): void => {
      socket.off('data', ondata);
      socket.off('close', onclose);
      socket.off('error', onerror);
      signal.removeEventListener('abort', onabort);
    };
    socket.on('data', ondata);
    socket.on('close', onclose);
    socket.on('error', onerror);
    signal.addEventListener('abort', onabort);
  });
}
