// A Redis Cluster on loopback for the cluster specs: `masters` redis-server
// processes with --cluster-enabled on free ports, joined by `redis-cli
// --cluster create ... --cluster-replicas 0`, each in a directory of its own
// (its nodes.conf), without persistence. A node can be killed and started
// again on its port: it rejoins with its slots (and an empty keyspace).
// `cluster-require-full-coverage no` keeps the other shards serving while one
// is down, as a deployment that prefers partial service would.
//
// Skips the suite (or fails it, under ISOSOCKET_REQUIRE_PEERS=1) when
// redis-server is missing, as every peer helper does (require-peer.ts).

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { freePort, waitForPort } from './listen.js';
import { requirePeer } from './require-peer.js';
import { killLaunched, launch } from './services.js';

const run = promisify(execFile);

/** One master of the cluster. */
export interface ClusterNode {
  readonly port: number;
  readonly url: string;
  /** SIGKILLs it (no goodbye to the cluster or its clients). */
  stop(): Promise<void>;
  /** Starts it again on its port, with its nodes.conf: it takes its slots back. */
  start(): Promise<void>;
}

/** A running cluster: its masters, and the root nodes a client is given. */
export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** `{ url }` of every master: `createCluster({ rootNodes })`. */
  readonly rootNodes: { url: string }[];
  /** The port of the master that serves `slot` now (CLUSTER SHARDS as redis-cli sees it). */
  portOfSlot(slot: number): Promise<number>;
  /** The other clients connected to the master on `port` (CLIENT LIST, redis-cli's own left out). */
  clients(port: number): Promise<string[]>;
  /** Resolves once every master answers cluster_state:ok. */
  healthy(timeout?: number): Promise<void>;
}

/**
 * Starts a cluster of `masters` masters, no replicas; undefined when
 * redis-server is missing (the suite is skipped: see requirePeer).
 */
export async function startRedisCluster(t: Test, masters = 3): Promise<RedisCluster | undefined> {
  if (!requirePeer(t, 'redis-server', 'redis-server')) return undefined;
  if (!requirePeer(t, 'redis-cli', 'redis-tools')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'isosocket-cluster-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < masters; i++) {
    const port = await freePort();
    let running: ReturnType<typeof launch> | undefined;
    const start = async (): Promise<void> => {
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '1000',
        '--cluster-require-full-coverage',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
      ];
      running = launch(t, 'redis-server', args);
      await waitForPort(port, 'redis-server (cluster node)', running.output);
    };
    const stop = async (): Promise<void> => {
      const child = running?.child;
      running = undefined;
      await killLaunched(child);
    };
    t.teardown(stop);
    await start();
    nodes.push({ port, url: `redis://127.0.0.1:${port}`, start, stop });
  }
  const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
  await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
    timeout: 30_000,
  });
  const cli = async (port: number, ...args: string[]): Promise<string> =>
    (await run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 })).stdout;
  const healthy = async (timeout = 20_000): Promise<void> => {
    const started = Date.now();
    for (;;) {
      const states = await Promise.all(
        nodes.map((node) => cli(node.port, 'CLUSTER', 'INFO').catch((error: Error) => error.message)),
      );
      if (states.every((state) => /cluster_state:ok/.test(state))) return;
      if (Date.now() - started > timeout) throw new Error(`the cluster is not ok: ${states.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  await healthy();
  const portOfSlot = async (slot: number): Promise<number> => {
    // CLUSTER SLOTS, one line per field: start, end, ip, port, id, ... per range.
    for (const node of nodes) {
      const lines = (await cli(node.port, 'CLUSTER', 'SLOTS').catch(() => '')).split('\n').filter(Boolean);
      for (let i = 0; i + 3 < lines.length; i++) {
        const [start, end, host, port] = lines.slice(i, i + 4);
        if (host === '127.0.0.1' && Number(start) <= slot && slot <= Number(end)) return Number(port);
      }
      if (lines.length > 0) break;
    }
    throw new Error(`no node serves slot ${slot}`);
  };
  const clients = async (port: number): Promise<string[]> =>
    (await cli(port, 'CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => line.startsWith('id=') && !/ cmd=client\|list /.test(line));
  return { nodes, rootNodes: nodes.map((node) => ({ url: node.url })), portOfSlot, clients, healthy };
}
