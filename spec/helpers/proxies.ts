// Real proxies for the client specs: Debian's tinyproxy (HTTP) and
// microsocks (SOCKS5), started on a free port, and a small CONNECT proxy
// written here for authentication and refusals. The Debian ones skip the
// suite (or fail it, under ISOSOCKET_REQUIRE_PEERS=1) when their program is
// missing, and then resolve with undefined.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { Test } from 'tap';
import { freePort, listen, waitForPort } from './listen.js';
import { requirePeer } from './require-peer.js';

/**
 * Starts tinyproxy on loopback; resolves with its origin once it accepts
 * connections, or with undefined when tinyproxy is missing (see requirePeer).
 */
export async function startTinyproxy(t: Test): Promise<{ origin: string; log: () => string } | undefined> {
  if (!requirePeer(t, 'tinyproxy', 'tinyproxy')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'isosocket-tinyproxy-'));
  const port = await freePort();
  const config = join(dir, 'tinyproxy.conf');
  writeFileSync(
    config,
    [`Port ${port}`, 'Listen 127.0.0.1', 'Timeout 60', 'MaxClients 100', 'Allow 127.0.0.1', 'LogLevel Info', ''].join(
      '\n',
    ),
  );
  let output = '';
  const child: ChildProcess = spawn('tinyproxy', ['-d', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  child.on('error', (error) => (output += String(error)));
  t.teardown(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForPort(port, 'tinyproxy', () => output);
  return { origin: `http://127.0.0.1:${port}`, log: () => output };
}

/** A running microsocks (SOCKS5) proxy. */
export interface Microsocks {
  port: number;
  /** `socks5://127.0.0.1:port`, without credentials. */
  origin: string;
  /** `scheme://[credentials@]127.0.0.1:port` */
  url(scheme: 'socks5' | 'socks5h', credentials?: string): string;
  /** What microsocks printed: a `client[n] 127.0.0.1: connected to HOST:PORT` line per tunnel. */
  log(): string;
}

/**
 * Starts microsocks, a SOCKS5 proxy, on 127.0.0.1 (with `auth`, RFC 1929
 * authentication is required; `once` is its `-1`: a client that
 * authenticated once is let in without it afterwards); resolves once it
 * accepts connections, or with undefined when microsocks is missing (see
 * requirePeer). It takes no port 0: a port that was free a moment ago is
 * tried, and another on EADDRINUSE.
 */
export async function startMicrosocks(
  t: Test,
  auth?: { user: string; pass: string; once?: boolean },
): Promise<Microsocks | undefined> {
  if (!requirePeer(t, 'microsocks', 'microsocks')) return undefined;
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = ['-i', '127.0.0.1', '-p', String(port)];
    if (auth) args.push('-u', auth.user, '-P', auth.pass, ...(auth.once ? ['-1'] : []));
    let output = '';
    const child: ChildProcess = spawn('microsocks', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => (output += String(error)));
    t.teardown(() => void child.kill('SIGKILL'));
    const exited = once(child, 'exit').then(() => 'exited' as const);
    const started = await Promise.race([
      waitForPort(port, 'microsocks', () => output).then(() => 'up' as const),
      exited,
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    if (started === 'up' && child.exitCode === null) {
      return {
        port,
        origin: `socks5://127.0.0.1:${port}`,
        url: (scheme, credentials = '') => `${scheme}://${credentials}127.0.0.1:${port}`,
        log: () => output,
      };
    }
    if (!/in use/i.test(output) || attempt >= 5) throw new Error(`microsocks did not start: ${output}`);
  }
}

export interface ConnectProxy {
  origin: string;
  /** Every CONNECT request head the proxy received. */
  requests: string[];
  /** The remote address of every client connection, in order. */
  peers: string[];
}

/**
 * A CONNECT proxy: with `credentials` set, it answers 407 unless the request
 * carries them; `refuse` makes it answer that status line (or close the
 * connection, for 'close') to every CONNECT.
 */
export async function startConnectProxy(
  t: Test,
  options: { credentials?: string; refuse?: string; tls?: { key: string; cert: string } } = {},
): Promise<ConnectProxy> {
  const requests: string[] = [];
  const peers: string[] = [];
  const sockets = new Set<net.Socket>();
  const onClient = (client: net.Socket): void => {
    peers.push(String(client.remoteAddress));
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const ondata = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', ondata);
      const text = head.subarray(0, end).toString('latin1');
      requests.push(text);
      const [method, authority] = text.split(' ');
      if (options.refuse === 'close') return void client.destroy();
      if (options.refuse) return void client.end(`HTTP/1.1 ${options.refuse}\r\nContent-Length: 0\r\n\r\n`);
      if (method !== 'CONNECT' || !authority) return void client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
      if (options.credentials) {
        const expected = `Basic ${Buffer.from(options.credentials).toString('base64')}`;
        const given = /\r\nProxy-Authorization: ([^\r]*)/i.exec(text)?.[1];
        if (given !== expected) {
          return void client.end(
            'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
          );
        }
      }
      const colon = authority.lastIndexOf(':');
      const upstream = net.connect(
        Number(authority.slice(colon + 1)),
        authority.slice(0, colon).replace(/^\[|\]$/g, ''),
      );
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('connect', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        const rest = head.subarray(end + 4);
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
      });
    };
    client.on('data', ondata);
  };
  const server = options.tls ? tls.createServer(options.tls, onClient) : net.createServer(onClient);
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
  });
  const port = await listen(t, server);
  return { origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, requests, peers };
}
