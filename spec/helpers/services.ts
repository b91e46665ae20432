// Real services from Debian for the deployment specs: nginx (generated
// config around examples/nginx/isosocket.conf, on free ports) and
// redis-server. Both are started by the test and killed with it. Each
// starter skips the suite (or fails it, under ISOSOCKET_REQUIRE_PEERS=1)
// when its program is missing, and then resolves with undefined.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { freePort, waitForPort } from './listen.js';
import { requirePeer } from './require-peer.js';
import { ROOT } from './spawn.js';

/** Starts a program in a process group of its own, killed (with its children) when the test ends. */
export function launch(t: Test, command: string, args: string[]): { child: ChildProcess; output: () => string } {
  let output = '';
  // A process group of its own: nginx's workers die with their master.
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  child.on('error', (error) => (output += String(error)));
  t.teardown(() => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return { child, output: () => output };
}

/** The nginx site config the README shows, with its placeholders filled in. */
/** SIGKILLs a child started by launch() and waits for its exit; nothing when it is gone already. */
export async function killLaunched(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

export function siteConfig(listenPort: number, upstreamPorts: number[]): string {
  return readFileSync(join(ROOT, 'examples/nginx/isosocket.conf'), 'utf8')
    .replace('__LISTEN__', `127.0.0.1:${listenPort}`)
    .replace('__UPSTREAM_SERVERS__', upstreamPorts.map((port) => `server 127.0.0.1:${port};`).join('\n    '));
}

/**
 * Starts nginx in front of the given app ports; resolves with its port, or
 * with undefined when nginx is missing (the suite is skipped: see requirePeer).
 */
export async function startNginx(t: Test, upstreamPorts: number[]): Promise<{ port: number } | undefined> {
  if (!requirePeer(t, 'nginx', 'nginx-light')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'isosocket-nginx-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const config = `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
${siteConfig(port, upstreamPorts)}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), config);
  const nginx = launch(t, 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  await waitForPort(port, 'nginx', () => `${nginx.output()}\n${safeRead(join(dir, 'error.log'))}`);
  return { port };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

const REDIS_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];

/**
 * Starts redis-server on a free port, without persistence; undefined when
 * redis-server is missing (the suite is skipped: see requirePeer).
 */
export async function startRedis(t: Test): Promise<{ url: string } | undefined> {
  if (!requirePeer(t, 'redis-server', 'redis-server')) return undefined;
  const port = await freePort();
  const redis = launch(t, 'redis-server', ['--port', String(port), ...REDIS_ARGS]);
  await waitForPort(port, 'redis-server', redis.output);
  return { url: `redis://127.0.0.1:${port}` };
}

/** A redis-server that a spec can stop and start again on the same port (no persistence). */
export interface RestartableRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts a redis-server that can be stopped and started again; undefined when it is missing. */
export async function restartableRedis(t: Test): Promise<RestartableRedis | undefined> {
  if (!requirePeer(t, 'redis-server', 'redis-server')) return undefined;
  const port = await freePort();
  let running: ReturnType<typeof launch> | undefined;
  const stop = async (): Promise<void> => {
    const child = running?.child;
    running = undefined;
    await killLaunched(child);
  };
  const start = async (): Promise<void> => {
    const redis = launch(t, 'redis-server', ['--port', String(port), ...REDIS_ARGS]);
    running = redis;
    await waitForPort(port, 'redis-server', redis.output);
  };
  t.teardown(stop);
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
}
