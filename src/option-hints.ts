// The option-hint engine: what to write instead of a key that looks like an
// option name and is not one (a near-typo, another library's name, a name
// holding an option word). Pure; used by readBrowserOptions (./options.ts).
//
// References:
// - ws, faye-websocket, undici and eventsource option names (FOREIGN_OPTIONS)
// - Optimal string alignment distance (Damerau-Levenshtein restricted to
//   adjacent transpositions)

/**
 * Option names of ws, faye-websocket and undici that isosocket spells
 * differently or does not have, with what to write instead.
 */
const FOREIGN_OPTIONS: Readonly<Record<string, string>> = {
  rejectUnauthorized: 'tls: { rejectUnauthorized }',
  cert: 'tls: { cert }',
  key: 'tls: { key }',
  pfx: 'tls: { pfx }',
  passphrase: 'tls: { passphrase }',
  servername: 'tls: { servername }',
  checkServerIdentity: 'tls: { checkServerIdentity }',
  family: 'net: { family }',
  localAddress: 'net: { localAddress }',
  lookup: 'net: { lookup }',
  maxPayload: 'maxLength',
  agent: 'proxy: { origin }',
  dispatcher: 'proxy: { origin }',
  timeout: 'handshakeTimeout',
  protocols: 'the protocols argument',
  protocolVersion: 'nothing: only version 13 exists',
  followRedirects: 'nothing: a WebSocket handshake is not redirected, as in browsers',
  maxRedirects: 'nothing: a WebSocket handshake is not redirected, as in browsers',
  autoPong: 'nothing: pongs are always sent',
  skipUTF8Validation: 'nothing: text is always validated',
  allowSynchronousEvents: 'nothing: events are dispatched as browsers do',
  generateMask: 'nothing',
  finishRequest: 'headers',
  createConnection: 'net or proxy',
  // eventsource 4, @microsoft/fetch-event-source, undici's EventSource, reconnecting-eventsource:
  fetch: 'headers, method and body (EventSource.Client) for the request, and tls or proxy for the connection',
  reconnect:
    'nothing: EventSource.Client reconnects as the standard says, and its retry option retries the statuses the standard makes fatal; a WebSocket is never reconnected, as in browsers',
  node: "its options at the top level (proxy, tls, headers); the reconnection time is the stream's retry: field",
  reconnectionTime:
    "nothing: the stream's retry: field sets it (EventSource.Client's retry: { delay } for refused answers)",
  max_retry_time: 'retry: { backoffLimit } (EventSource.Client)',
  maxRetries: 'retry: { limit } (EventSource.Client)',
  credentials: 'withCredentials (EventSource.Client); Node sends no cookies of its own',
  openWhenHidden: 'nothing: Node has no hidden pages, and the stream stays open',
  onopen: "the onopen attribute or addEventListener('open')",
  onmessage: "the onmessage attribute or addEventListener('message')",
  onerror: "the onerror attribute or addEventListener('error')",
  onclose:
    "WebSocket's onclose attribute; an EventSource has no close event (an error event with readyState CLOSED ends it)",
};

/** Words that only an option name would hold (`pingInterval`, `tlsOptions`, `extraHeaders`). */
const OPTION_WORDS = new Set([
  'ping',
  'tls',
  'ssl',
  'proxy',
  'header',
  'headers',
  'origin',
  'timeout',
  'deflate',
  'extension',
  'extensions',
  'handshake',
  'signal',
]);

/** What to write instead of `key`, when it looks like an option name; undefined when it does not. */
export function optionHint(key: string, validKeys: readonly string[]): string | undefined {
  const near = validKeys.find((name) => resembles(key, name));
  if (near !== undefined) return `did you mean ${near}?`;
  const foreign = Object.hasOwn(FOREIGN_OPTIONS, key) ? FOREIGN_OPTIONS[key] : undefined;
  if (foreign !== undefined) return `another library's name; isosocket takes ${foreign}`;
  const words = key.match(/[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])/g) ?? [];
  const word = words.map((w) => w.toLowerCase()).find((w) => OPTION_WORDS.has(w));
  if (word !== undefined) return `not an option; see the options that mention ${word}`;
  return undefined;
}

/**
 * Whether `key` is `name` misspelt: the same ignoring case, a transposition
 * of a short name (`tsl`), or within 1 (names up to 5 letters) or 2 edits.
 */
function resembles(key: string, name: string): boolean {
  const a = key.toLowerCase();
  const b = name.toLowerCase();
  if (a === b) return true;
  if (b.length <= 3) return a.length === b.length && [...a].sort().join('') === [...b].sort().join('');
  return editDistance(a, b, b.length <= 5 ? 1 : 2) <= (b.length <= 5 ? 1 : 2);
}

/** Optimal string alignment distance (an adjacent transposition is one edit), capped just past `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (before[j - 2] as number) + 1);
      }
      current.push(value);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}
