// One WebSocket client in its own process, against an echo server: isosocket's
// WebSocket.Client, ws, faye-websocket's Client, or undici's WebSocket.
//
//   node bench/client-load.mjs <iso|ws|faye|undici> <url> echo <size> <window> <ms>
//   node bench/client-load.mjs <iso|ws|faye> <url> deflate-echo <size> <window> <ms> <takeover|no-takeover>
//       (permessage-deflate on, one JSON text message of `size` bytes)
//   node bench/client-load.mjs <iso|ws|faye|undici> <url> latency <count>
// Echo modes print messages/s, bytes/s and the client's CPU time per message (µs).
// Each process loads only the client it measures (isosocket replaces the
// driver's mask function, which faye-websocket would otherwise share).
const load = {
  iso: async () => (await import('isosocket')).default.Client,
  faye: async () => (await import('faye-websocket')).default.Client,
  undici: async () => (await import('undici')).WebSocket,
  ws: async () => (await import('ws')).default,
};

const [kind, url, mode, ...rest] = process.argv.slice(2);
const compressed = mode === 'deflate-echo';
const noTakeover = compressed && rest[3] === 'no-takeover';

/** Each client's options: compression off, or on (without context takeover when asked). */
async function options() {
  const wsNames = noTakeover ? { clientNoContextTakeover: true, serverNoContextTakeover: true } : true;
  if (kind === 'ws') return { perMessageDeflate: compressed ? wsNames : false };
  if (kind === 'iso') return { binaryType: 'nodebuffer', perMessageDeflate: compressed ? wsNames : false };
  if (kind === 'faye' && compressed) {
    const { default: deflate } = await import('permessage-deflate');
    return {
      extensions: [
        noTakeover ? deflate.configure({ noContextTakeover: true, requestNoContextTakeover: true }) : deflate,
      ],
    };
  }
  if (compressed) throw new Error(`${kind} has no permessage-deflate client here`);
  return undefined;
}

/** A uniform face over the four clients: send(buffer), onmessage(fn), ready. */
async function connect() {
  const Socket = await load[kind]();
  const given = await options();
  return new Promise((resolve) => {
    if (kind === 'ws') {
      const ws = new Socket(url, given);
      ws.on('open', () => {
        if (compressed && !ws.extensions.includes('permessage-deflate')) throw new Error('ws: no permessage-deflate');
        resolve({ send: (data) => ws.send(data), onmessage: (fn) => ws.on('message', fn) });
      });
    } else {
      const ws = new Socket(url, [], given);
      if (kind === 'undici') ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        // faye's client has no `extensions`; its response headers say it.
        const extensions = ws.extensions ?? ws.headers?.['sec-websocket-extensions'];
        if (compressed && !String(extensions).includes('permessage-deflate'))
          throw new Error(`${kind}: no permessage-deflate`);
        resolve({ send: (data) => ws.send(data), onmessage: (fn) => (ws.onmessage = fn) });
      };
    }
  });
}

const client = await connect();
if (mode === 'echo' || compressed) {
  const [size, window, ms] = rest.map(Number);
  const payload = compressed ? (await import('./json.mjs')).json(size) : Buffer.alloc(size, 0x62);
  let received = 0;
  let measuring = false;
  let inFlight = 0;
  const refill = () => {
    while (inFlight < window) {
      client.send(payload);
      inFlight++;
    }
  };
  client.onmessage(() => {
    inFlight--;
    if (measuring) received++;
    if (inFlight <= window / 2) refill();
  });
  refill();
  await new Promise((resolve) => setTimeout(resolve, Math.min(500, ms / 4)));
  measuring = true;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  console.log(
    JSON.stringify({
      messages: received / seconds,
      bytes: (received * size) / seconds,
      cpuPerMessage: received ? (used.user + used.system) / received : null,
    }),
  );
  process.exit(0);
} else {
  const [count] = rest.map(Number);
  const payload = Buffer.alloc(16, 0x63);
  const samples = [];
  let sent = process.hrtime.bigint();
  await new Promise((resolve) => {
    client.onmessage(() => {
      samples.push(Number(process.hrtime.bigint() - sent) / 1e3);
      if (samples.length === count) return resolve();
      sent = process.hrtime.bigint();
      client.send(payload);
    });
    client.send(payload);
  });
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  console.log(JSON.stringify({ p50: at(0.5), p99: at(0.99) }));
  process.exit(0);
}
