// The client side of a SOCKS5 handshake (RFC 1928, with RFC 1929's
// username/password authentication), Sans-I/O: bytes in, bytes out, no
// sockets and no timers. src/net/transport.ts opens the TCP connection to the
// proxy, runs this over it, and keeps the deadline.
//
// Calling contract:
//   const handshake = new SocksHandshake({ proxy, host, port, username, password });
//   socket.write(handshake.greeting());
//   on data: const step = handshake.receive(chunk);   // throws a SocksError on a bad reply
//            step.send        -> write it (the next request)
//            step.established -> the tunnel is open; step.rest is the target's first bytes
//            undefined        -> wait for more bytes
//   on close/timeout: handshake.waitingFor names what never came, for the message.
//
// Bounds: every reply of RFC 1928 and RFC 1929 has a size the protocol fixes
// (2 bytes; 2 bytes; the CONNECT reply, 10, 22 or 7 + a 1-byte length, so at
// most 262). Exactly that many bytes are read for each; a proxy that sends
// more before being asked (the greeting's or the authentication's answer
// running on) is refused, so a hostile proxy can make us hold at most 262
// bytes. Bytes after the CONNECT reply belong to the target.
//
// Credentials go into the RFC 1929 request and nowhere else: no message of
// this file quotes them.
//
// References:
// - RFC 1928, SOCKS Protocol Version 5: https://www.rfc-editor.org/rfc/rfc1928
// - RFC 1929, Username/Password Authentication for SOCKS V5: https://www.rfc-editor.org/rfc/rfc1929
// - curl lib/socks.c (socks5 resolves locally, socks5h lets the proxy resolve;
//   methods offered; the reserved byte of a reply is not checked)
// - undici lib/core/socks5-client.js (username/password offered first)

import net from 'node:net';

/** RFC 1928 §3: the protocol version, X'05'. */
export const SOCKS_VERSION = 5;

/** RFC 1929 §2: the version of the username/password subnegotiation, X'01'. */
export const AUTH_VERSION = 1;

/** RFC 1928 §3: the METHOD values isosocket offers, and the refusal of all. */
export const Method = {
  /** X'00' NO AUTHENTICATION REQUIRED */
  NO_AUTHENTICATION: 0x00,
  /** X'02' USERNAME/PASSWORD (RFC 1929) */
  USERNAME_PASSWORD: 0x02,
  /** X'FF' NO ACCEPTABLE METHODS */
  NO_ACCEPTABLE_METHODS: 0xff,
} as const;

/** RFC 1928 §4: CMD X'01', CONNECT. */
const CONNECT = 0x01;

/** RFC 1928 §5: ATYP values. */
export const AddressType = { IPV4: 0x01, DOMAIN_NAME: 0x03, IPV6: 0x04 } as const;

/** The longest CONNECT reply (RFC 1928 §6): VER REP RSV ATYP, a 1-byte length and 255 bytes of name, a port. */
export const MAX_CONNECT_REPLY = 4 + 1 + 255 + 2;

/** RFC 1928 §6: what each REP value means. */
const REPLIES: Readonly<Record<number, string>> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** The meaning of a CONNECT reply's REP field (RFC 1928 §6). */
export function describeReply(reply: number): string {
  if (reply === 0) return 'succeeded';
  return REPLIES[reply] ?? 'unassigned reply code';
}

/** A SOCKS5 proxy answered outside RFC 1928 or RFC 1929, or refused. */
export class SocksError extends Error {
  override name = 'SocksError';
  /** The CONNECT reply's REP field, when the proxy refused the CONNECT. */
  readonly reply: number | undefined;

  constructor(message: string, reply?: number) {
    super(message);
    this.reply = reply;
  }
}

/**
 * RFC 1928 §3, the version identifier/method selection message:
 * `VER NMETHODS METHODS`. With credentials, USERNAME/PASSWORD comes first so
 * that a proxy taking both gets them, and NO AUTHENTICATION REQUIRED second
 * so that one needing none still lets us in (as curl and undici offer).
 */
export function encodeGreeting(withCredentials: boolean): Buffer {
  const methods = withCredentials ? [Method.USERNAME_PASSWORD, Method.NO_AUTHENTICATION] : [Method.NO_AUTHENTICATION];
  return Buffer.from([SOCKS_VERSION, methods.length, ...methods]);
}

/**
 * RFC 1929 §2, the username/password request: `VER ULEN UNAME PLEN PASSWD`,
 * each field at most 255 bytes of UTF-8. A RangeError when one is longer.
 */
export function encodeAuthRequest(username: string, password: string): Buffer {
  const user = Buffer.from(username, 'utf8');
  const pass = Buffer.from(password, 'utf8');
  if (user.length > 255 || pass.length > 255) {
    throw new RangeError('A SOCKS5 username and password are at most 255 bytes each (RFC 1929)');
  }
  return Buffer.concat([Buffer.from([AUTH_VERSION, user.length]), user, Buffer.from([pass.length]), pass]);
}

/**
 * RFC 1928 §4, the CONNECT request: `VER CMD RSV ATYP DST.ADDR DST.PORT`.
 * `host` is an IPv4 or IPv6 literal (sent as an address: ATYP 1 or 4) or a
 * host name (ATYP 3, for the proxy to resolve: 1 to 255 bytes). A RangeError
 * for a host name of another length or a port outside 1-65535.
 */
export function encodeConnectRequest(host: string, port: number): Buffer {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`Not a TCP port: ${port}`);
  const head = [SOCKS_VERSION, CONNECT, 0x00];
  let address: Buffer;
  const family = net.isIP(host);
  if (family === 4) {
    address = Buffer.from([AddressType.IPV4, ...host.split('.').map(Number)]);
  } else if (family === 6) {
    address = Buffer.concat([Buffer.from([AddressType.IPV6]), ipv6Bytes(host)]);
  } else {
    const name = Buffer.from(host, 'utf8');
    if (name.length < 1 || name.length > 255) {
      throw new RangeError(`A host name sent to a SOCKS5 proxy is 1 to 255 bytes (RFC 1928 §5), not ${name.length}`);
    }
    address = Buffer.concat([Buffer.from([AddressType.DOMAIN_NAME, name.length]), name]);
  }
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  return Buffer.concat([Buffer.from(head), address, portBytes]);
}

/** The 16 bytes of an IPv6 literal (net.isIPv6 already said it is one). */
function ipv6Bytes(host: string): Buffer {
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes its two groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  let text = host.replace(/%.*$/, '');
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, text.length - tail[0].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [before = '', after] = text.split('::');
  const left = before === '' ? [] : before.split(':');
  const right = after === undefined || after === '' ? [] : after.split(':');
  const groups = after === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  for (const [i, group] of groups.entries()) bytes.writeUInt16BE(Number.parseInt(group, 16), i * 2);
  return bytes;
}

/** The parameters of one handshake. */
export interface SocksHandshakeOptions {
  /** The proxy's `host:port`, for messages. */
  proxy: string;
  /** What the CONNECT asks for: an IP literal, or a host name for the proxy to resolve. */
  host: string;
  port: number;
  /** The target as the application named it (`example.com:443`), for messages; default host:port. */
  target?: string;
  /** RFC 1929 credentials, already percent-decoded; both absent for none. */
  username?: string | undefined;
  password?: string | undefined;
}

/** What to do after {@link SocksHandshake.receive}. */
export type SocksStep = { send: Buffer } | { established: true; rest: Buffer } | undefined;

type Stage = 'method' | 'auth' | 'connect' | 'done';

/**
 * One SOCKS5 client handshake: greeting, optional username/password
 * subnegotiation, CONNECT. Throws a {@link SocksError} from `receive` on any
 * reply RFC 1928 or RFC 1929 does not allow, on a refusal, and on bytes the
 * proxy sends before it is asked.
 *
 * @see https://www.rfc-editor.org/rfc/rfc1928
 * @example
 * const handshake = new SocksHandshake({ proxy: '127.0.0.1:1080', host: 'example.com', port: 443 });
 * socket.write(handshake.greeting());
 * socket.on('data', (chunk) => {
 *   const step = handshake.receive(chunk);
 *   if (step && 'send' in step) socket.write(step.send);
 * });
 */
export class SocksHandshake {
  readonly #proxy: string;
  readonly #target: string;
  readonly #credentials: Buffer | undefined;
  readonly #request: Buffer;
  readonly #methods: readonly number[];
  #stage: Stage = 'method';
  /** The bytes of the reply being read: never more than that reply's size. */
  #reply: Buffer = Buffer.alloc(0);

  constructor(options: SocksHandshakeOptions) {
    this.#proxy = options.proxy;
    const hostPart = net.isIPv6(options.host) ? `[${options.host}]` : options.host;
    this.#target = options.target ?? `${hostPart}:${options.port}`;
    const withCredentials = Boolean(options.username || options.password);
    this.#credentials = withCredentials ? encodeAuthRequest(options.username ?? '', options.password ?? '') : undefined;
    this.#request = encodeConnectRequest(options.host, options.port);
    this.#methods = [...encodeGreeting(withCredentials).subarray(2)];
  }

  /** The first message to send (RFC 1928 §3). */
  greeting(): Buffer {
    return encodeGreeting(this.#credentials !== undefined);
  }

  /** Whether the tunnel is open. */
  get established(): boolean {
    return this.#stage === 'done';
  }

  /** The reply being waited for, for a message when the proxy closes or says nothing. */
  get waitingFor(): string {
    switch (this.#stage) {
      case 'method':
        return 'its method selection';
      case 'auth':
        return 'its answer to the username and password';
      default:
        return `its reply to CONNECT ${this.#target}`;
    }
  }

  /** Reads a chunk from the proxy; see the calling contract at the top of this file. */
  receive(chunk: Buffer): SocksStep {
    if (this.#stage === 'done') return { established: true, rest: chunk };
    let rest = chunk;
    for (;;) {
      const wanted = this.#wanted();
      const take = Math.min(wanted - this.#reply.length, rest.length);
      if (take > 0) {
        this.#reply = Buffer.concat([this.#reply, rest.subarray(0, take)]);
        rest = rest.subarray(take);
      }
      this.#check();
      // The size may grow once ATYP and the name's length are known.
      if (this.#wanted() > wanted && rest.length > 0) continue;
      if (this.#reply.length < this.#wanted()) return undefined;
      break;
    }
    return this.#complete(rest);
  }

  /** How many bytes the current reply has, as far as its first bytes tell. */
  #wanted(): number {
    if (this.#stage !== 'connect') return 2;
    // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT.
    if (this.#reply.length < 5) return 5;
    const type = this.#reply[3];
    if (type === AddressType.IPV4) return 4 + 4 + 2;
    if (type === AddressType.IPV6) return 4 + 16 + 2;
    return 4 + 1 + (this.#reply[4] as number) + 2;
  }

  /** Refuses a reply as soon as its first bytes are wrong, however many more are to come. */
  #check(): void {
    const reply = this.#reply;
    const version = reply[0];
    if (version === undefined) return;
    const proxy = `SOCKS5 proxy ${this.#proxy}`;
    if (this.#stage === 'auth') {
      // RFC 1929 §2: VER X'01', STATUS X'00' for success.
      if (version !== AUTH_VERSION) {
        throw new SocksError(
          `${proxy} answered the username and password with version ${version}, not ${AUTH_VERSION} (RFC 1929)`,
        );
      }
      return;
    }
    if (version !== SOCKS_VERSION) {
      const http = version === 0x48 ? ' (it answered as an HTTP server: use an http:// proxy URL)' : '';
      const what = this.#stage === 'method' ? 'the greeting' : `CONNECT ${this.#target}`;
      throw new SocksError(`${proxy} answered ${what} with version ${version}, not 5: is it a SOCKS5 proxy?${http}`);
    }
    if (this.#stage === 'connect') {
      const code = reply[1];
      if (code !== undefined && code !== 0) {
        // RFC 1928 §6: the server terminates the connection after a failure
        // reply; its REP is all there is to say, whatever follows.
        throw new SocksError(
          `${proxy} refused CONNECT to ${this.#target}: ${describeReply(code)} (reply ${code})`,
          code,
        );
      }
      const type = reply[3];
      if (
        type !== undefined &&
        type !== AddressType.IPV4 &&
        type !== AddressType.IPV6 &&
        type !== AddressType.DOMAIN_NAME
      ) {
        throw new SocksError(
          `${proxy} answered CONNECT ${this.#target} with address type ${type}, which RFC 1928 does not define`,
        );
      }
      // RSV (reply[2]) is not checked, as curl does not.
    }
  }

  #complete(rest: Buffer): SocksStep {
    const reply = this.#reply;
    this.#reply = Buffer.alloc(0);
    const proxy = `SOCKS5 proxy ${this.#proxy}`;
    if (this.#stage === 'connect') {
      this.#stage = 'done';
      return { established: true, rest };
    }
    // A proxy speaks only when asked: more bytes now would be an answer to a
    // request not yet sent.
    if (rest.length > 0) {
      const what = this.#stage === 'method' ? 'method selection' : 'username/password status';
      throw new SocksError(`${proxy} sent more than the 2-byte ${what} before it was asked for more`);
    }
    if (this.#stage === 'auth') {
      // RFC 1929 §2: "A STATUS field of X'00' indicates success. If the server
      // returns a `failure' (STATUS value other than X'00') status, it MUST
      // close the connection."
      const status = reply[1] as number;
      if (status !== 0) {
        throw new SocksError(
          `${proxy} refused the username and password (status ${status}): check the user:password of the proxy URL`,
        );
      }
      this.#stage = 'connect';
      return { send: this.#request };
    }
    // RFC 1928 §3: "If the selected METHOD is X'FF', none of the methods
    // listed by the client are acceptable, and the client MUST close the
    // connection."
    const method = reply[1] as number;
    if (method === Method.NO_ACCEPTABLE_METHODS) {
      throw new SocksError(
        this.#credentials
          ? `${proxy} accepts none of the authentication methods offered (username/password, none)`
          : `${proxy} accepts none of the authentication methods offered (none): it may need a user:password in the proxy URL`,
      );
    }
    if (!this.#methods.includes(method)) {
      throw new SocksError(`${proxy} chose authentication method ${method}, which was not offered`);
    }
    if (method === Method.USERNAME_PASSWORD && this.#credentials) {
      this.#stage = 'auth';
      return { send: this.#credentials };
    }
    this.#stage = 'connect';
    return { send: this.#request };
  }
}
