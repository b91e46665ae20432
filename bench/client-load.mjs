// One WebSocket client in its own process, against an echo server: isosocket's
// WebSocket.Client, ws, faye-websocket's Client, or undici's WebSocket.
//
//   node bench/client-load.mjs <iso|ws|faye|undici> <url> echo <size> <window> <ms>
//   node bench/client-load.mjs <iso|ws|faye|undici> <url> latency <count>
// Each process loads only the client it measures (isosocket replaces the
// driver's mask function, which faye-websocket would otherwise share).
const load = {
  iso: async () => (await import('isosocket')).default.Client,
  faye: async () => (await import('faye-websocket')).default.Client,
  undici: async () => (await import('undici')).WebSocket,
  ws: async () => (await import('ws')).default,
};

const [kind, url, mode, ...rest] = process.argv.slice(2);

/** A uniform face over the four clients: send(buffer), onmessage(fn), ready. */
async function connect() {
  const Socket = await load[kind]();
  return new Promise((resolve) => {
    if (kind === 'ws') {
      const ws = new Socket(url, { perMessageDeflate: false });
      ws.on('open', () => resolve({ send: (data) => ws.send(data), onmessage: (fn) => ws.on('message', fn) }));
    } else {
      const ws = new Socket(url, [], kind === 'iso' ? { binaryType: 'nodebuffer' } : undefined);
      if (kind === 'undici') ws.binaryType = 'arraybuffer';
      ws.onopen = () => resolve({ send: (data) => ws.send(data), onmessage: (fn) => (ws.onmessage = fn) });
    }
  });
}

const client = await connect();
if (mode === 'echo') {
  const [size, window, ms] = rest.map(Number);
  const payload = Buffer.alloc(size, 0x62);
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
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ messages: received / seconds, bytes: (received * size) / seconds }));
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
