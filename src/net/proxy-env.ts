// Choosing a proxy from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY,
// NO_PROXY), a pure module. Opt-in: only used when the caller passes `proxy: 'env'`.
//
// References:
// - curl's and undici's EnvHttpProxyAgent conventions: lower-case variables
//   win over upper-case; HTTPS_PROXY falls back to HTTP_PROXY for secure
//   targets (undici); ALL_PROXY is used when no scheme-specific one is set
//   (curl, `man curl`, ENVIRONMENT); its value may be a socks5:// or socks5h:// URL
// - NO_PROXY: comma or space separated; `*` matches all; `.example.com` and
//   `*.example.com` match subdomains; `example.com` matches itself and its
//   subdomains; `host:port` matches only that port; it applies to every
//   variable above, ALL_PROXY included

/** A proxy chosen from the environment, and the variable it came from (upper case, for messages). */
export interface EnvProxy {
  value: string;
  variable: 'HTTP_PROXY' | 'HTTPS_PROXY' | 'ALL_PROXY';
}

/**
 * The proxy the environment names for the target, or undefined for a direct
 * connection: `https_proxy`, then `http_proxy` for a wss:/https: target,
 * `http_proxy` for ws:/http:, then `all_proxy` for either; each lower-case
 * name before its upper-case one; none when NO_PROXY matches the target.
 */
export function proxyFromEnv(target: URL, env: NodeJS.ProcessEnv = process.env): EnvProxy | undefined {
  const secure = target.protocol === 'wss:' || target.protocol === 'https:';
  const order = secure ? (['https', 'http', 'all'] as const) : (['http', 'all'] as const);
  let found: EnvProxy | undefined;
  for (const scheme of order) {
    const value = env[`${scheme}_proxy`] || env[`${scheme.toUpperCase()}_PROXY`];
    if (value) {
      found = { value, variable: `${scheme.toUpperCase() as 'HTTP' | 'HTTPS' | 'ALL'}_PROXY` };
      break;
    }
  }
  if (!found) return undefined;
  const noProxy = env.no_proxy ?? env.NO_PROXY ?? '';
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (secure ? '443' : '80');
  return matchesNoProxy(host, port, noProxy) ? undefined : found;
}

/** The proxy origin to use for the target, or undefined for a direct connection (see {@link proxyFromEnv}). */
export function proxyForUrl(target: URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return proxyFromEnv(target, env)?.value;
}

/** Whether NO_PROXY excludes this host and port from proxying. */
export function matchesNoProxy(host: string, port: string, noProxy: string): boolean {
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    let name = entry;
    let entryPort: string | undefined;
    const bracketed = /^\[(.*)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      name = bracketed[1] ?? '';
      entryPort = bracketed[2];
    } else if (entry.indexOf(':') === entry.lastIndexOf(':')) {
      // At most one colon: host:port. More than one: a bare IPv6 address.
      const [hostPart, portPart] = entry.split(':');
      name = hostPart ?? '';
      entryPort = portPart;
    }
    if (entryPort && entryPort !== port) continue;
    if (name.startsWith('*.')) name = name.slice(1);
    if (name.startsWith('.')) {
      if (host.endsWith(name) || host === name.slice(1)) return true;
    } else if (host === name || host.endsWith(`.${name}`)) {
      return true;
    }
  }
  return false;
}
