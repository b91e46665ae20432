// Choosing a proxy from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY),
// a pure module. Opt-in: only used when the caller passes `proxy: 'env'`.
//
// References:
// - curl's and undici's EnvHttpProxyAgent conventions: lower-case variables
//   win over upper-case; HTTPS_PROXY falls back to HTTP_PROXY for secure targets
// - NO_PROXY: comma or space separated; `*` matches all; `.example.com` and
//   `*.example.com` match subdomains; `example.com` matches itself and its
//   subdomains; `host:port` matches only that port

/** The proxy origin to use for the target, or undefined for a direct connection. */
export function proxyForUrl(target: URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const secure = target.protocol === 'wss:' || target.protocol === 'https:';
  const httpProxy = env.http_proxy || env.HTTP_PROXY || undefined;
  const proxy = secure ? env.https_proxy || env.HTTPS_PROXY || httpProxy : httpProxy;
  if (!proxy) return undefined;
  const noProxy = env.no_proxy ?? env.NO_PROXY ?? '';
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (secure ? '443' : '80');
  return matchesNoProxy(host, port, noProxy) ? undefined : proxy;
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
