// A throwaway certificate authority and a localhost certificate it signed,
// made with openssl at test time. `certificates(t)` skips the suite (or fails
// it, under ISOSOCKET_REQUIRE_PEERS=1) when openssl is missing and then
// returns undefined; `certificates()` without a test is for code that has
// already called requirePeer(t, 'openssl', 'openssl').

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { requirePeer } from './require-peer.js';

export interface TestCertificates {
  ca: string;
  key: string;
  cert: string;
}

let cached: TestCertificates | undefined;

/**
 * A CA, and a certificate for localhost and 127.0.0.1 signed by it (made
 * once per process); with `t`, undefined when openssl is missing.
 *
 * @example
 * const certs = certificates(t);
 * if (!certs) return; // skipped: openssl is not installed
 */
export function certificates(t: Test): TestCertificates | undefined;
/** The same, for a caller that has checked for openssl with requirePeer. */
export function certificates(): TestCertificates;
export function certificates(t?: Test): TestCertificates | undefined {
  if (t && !requirePeer(t, 'openssl', 'openssl')) return undefined;
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'isosocket-tls-'));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  try {
    run(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=isosocket test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    );
    run(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
      '-out',
      'server.pem',
    );
    cached = {
      ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      key: readFileSync(join(dir, 'server.key'), 'utf8'),
      cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
