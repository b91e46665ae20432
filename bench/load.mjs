// The load generator, in its own process: raw TCP, frames masked once up
// front and written pipelined, echoes counted by frame headers only. It is
// the same fixed, cheap client for every server.
//
//   node bench/load.mjs echo <port> <size> <connections> <window> <ms>
//   node bench/load.mjs deflate-echo <port> <size> <connections> <window> <ms> <takeover|no-takeover>
//       (offers permessage-deflate, sends one pre-compressed JSON text message of
//       `size` bytes, pipelined; the server echoes it compressed)
//   node bench/load.mjs latency <port> <count>
//   node bench/load.mjs idle <port> <connections>      (opens and holds; prints when ready)
//   node bench/load.mjs idle-deflate <port> <connections> <takeover|no-takeover>
//       (opens with permessage-deflate, echoes one compressed 1 KiB message each, holds)
//   node bench/load.mjs sse <port> <clients>           (counts events until killed)
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import { json } from './json.mjs';

const [mode, portText, ...rest] = process.argv.slice(2);
const port = Number(portText);

function maskedFrame(size, payload = Buffer.alloc(size, 0x61), first = 0x82) {
  const lengthBytes = size < 126 ? 0 : size < 65536 ? 2 : 8;
  const frame = Buffer.alloc(2 + lengthBytes + 4 + size);
  frame[0] = first;
  frame[1] = 0x80 | (lengthBytes === 0 ? size : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) frame.writeUInt16BE(size, 2);
  if (lengthBytes === 8) frame.writeBigUInt64BE(BigInt(size), 2);
  const mask = randomBytes(4);
  mask.copy(frame, 2 + lengthBytes);
  for (let i = 0; i < size; i++) frame[6 + lengthBytes + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/**
 * One JSON text message of `size` bytes, compressed as permessage-deflate
 * sends it (RFC 7692 §7.2.1: a sync flush, its 00 00 ff ff tail removed; RSV1
 * set). It does not refer to earlier messages, so it is valid again and
 * again, with context takeover too.
 */
function deflatedFrame(size) {
  const compressed = zlib.deflateRawSync(json(size), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const payload = compressed.subarray(0, compressed.length - 4);
  return maskedFrame(payload.length, payload, 0x80 | 0x40 | 0x1);
}

const OFFERS = {
  takeover: 'permessage-deflate',
  'no-takeover': 'permessage-deflate; client_no_context_takeover; server_no_context_takeover',
};

function open(extensions) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : ''}\r\n`,
      );
    });
    let head = Buffer.alloc(0);
    const ondata = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', ondata);
      const response = head.subarray(0, end).toString('latin1');
      if (extensions && !/^sec-websocket-extensions:.*permessage-deflate/im.test(response)) {
        reject(new Error(`The server did not accept permessage-deflate:\n${response}`));
      }
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', ondata);
  });
}

/** Counts complete frames in a byte stream, keeping only header state. */
export function frameCounter(onFrame) {
  let need = 0; // payload bytes still to skip
  let have = 0; // header bytes collected
  const header = Buffer.alloc(14);
  return (chunk) => {
    let i = 0;
    while (i < chunk.length) {
      if (need > 0) {
        const take = Math.min(need, chunk.length - i);
        need -= take;
        i += take;
        if (need === 0) onFrame();
        continue;
      }
      header[have++] = chunk[i++];
      if (have < 2) continue;
      const length7 = header[1] & 0x7f;
      const headerLength = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (header[1] & 0x80 ? 4 : 0);
      if (have < headerLength) continue;
      need = length7 === 126 ? header.readUInt16BE(2) : length7 === 127 ? Number(header.readBigUInt64BE(2)) : length7;
      have = 0;
      if (need === 0) onFrame();
    }
  };
}

if (mode === 'echo' || mode === 'deflate-echo') {
  const [size, connections, window, ms] = rest.map(Number);
  const extensions = mode === 'deflate-echo' ? OFFERS[rest[4]] : undefined;
  if (mode === 'deflate-echo' && !extensions) throw new Error(`deflate-echo: takeover or no-takeover, not ${rest[4]}`);
  const frame = extensions ? deflatedFrame(size) : maskedFrame(size);
  const batch = Buffer.concat(Array(window).fill(frame));
  let received = 0;
  let total = 0; // with the warm-up: for the server's CPU time per message
  let measuring = false;
  const sockets = [];
  for (let c = 0; c < connections; c++) {
    const { socket, rest: early } = await open(extensions);
    sockets.push(socket);
    let inFlight = window;
    const count = frameCounter(() => {
      if (measuring) received++;
      total++;
      inFlight--;
      if (inFlight === 0) {
        inFlight = window;
        socket.write(batch);
      }
    });
    socket.on('data', count);
    if (early.length) count(early);
    socket.write(batch);
  }
  await new Promise((resolve) => setTimeout(resolve, Math.min(500, ms / 4))); // warm up
  measuring = true;
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, ms));
  measuring = false;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ messages: received / seconds, bytes: (received * size) / seconds, total }));
  for (const socket of sockets) socket.destroy();
  process.exit(0);
} else if (mode === 'latency') {
  const [count] = rest.map(Number);
  const frame = maskedFrame(16);
  const { socket } = await open();
  const samples = [];
  let sent = 0n;
  let done = 0;
  await new Promise((resolve) => {
    const count_ = frameCounter(() => {
      samples.push(Number(process.hrtime.bigint() - sent) / 1e3);
      if (++done === count) return resolve();
      sent = process.hrtime.bigint();
      socket.write(frame);
    });
    socket.on('data', count_);
    sent = process.hrtime.bigint();
    socket.write(frame);
  });
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  console.log(JSON.stringify({ p50: at(0.5), p99: at(0.99) }));
  process.exit(0);
} else if (mode === 'idle-deflate') {
  // Compressed connections at rest: each negotiates permessage-deflate,
  // echoes one 1 KiB JSON message (so that contexts a library keeps exist),
  // then holds.
  const [connections] = rest.map(Number);
  const extensions = OFFERS[rest[1]];
  if (!extensions) throw new Error(`idle-deflate: takeover or no-takeover, not ${rest[1]}`);
  const frame = deflatedFrame(1024);
  const one = async () => {
    const { socket, rest: early } = await open(extensions);
    await new Promise((resolve) => {
      const count = frameCounter(resolve);
      socket.on('data', count);
      if (early.length) count(early);
      socket.write(frame);
    });
    return socket;
  };
  const sockets = [];
  for (let i = 0; i < connections; i += 50) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, connections - i) }, one))));
  }
  console.log(JSON.stringify({ open: sockets.length }));
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else if (mode === 'idle') {
  const [connections] = rest.map(Number);
  const sockets = [];
  for (let i = 0; i < connections; i += 200) {
    const opened = await Promise.all(Array.from({ length: Math.min(200, connections - i) }, open));
    sockets.push(...opened);
  }
  console.log(JSON.stringify({ open: sockets.length }));
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else if (mode === 'sse') {
  // Counts events, and samples delivery latency: each event's data starts
  // with the time it was published (performance.timeOrigin + now(), in ms);
  // the newest event of each chunk read gives one sample.
  const [clients] = rest.map(Number);
  const now = () => performance.timeOrigin + performance.now();
  let events = 0;
  let ready = 0;
  let samples = [];
  let cpu = process.cpuUsage();
  // A client whose connection is refused or reset before its first event
  // (a listen backlog overflowing on a loaded machine) tries again.
  const connect = () => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write('GET /events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n');
    });
    socket.on('error', () => {
      socket.destroy();
      if (socket.counted !== true) setTimeout(connect, 100);
    });
    let tail = '';
    socket.on('data', (chunk) => {
      const text = tail + chunk.toString('latin1');
      let index = text.indexOf('\ndata:');
      let last = -1;
      while (index >= 0) {
        events++;
        last = index;
        index = text.indexOf('\ndata:', index + 1);
      }
      if (last >= 0 && samples.length < 1e6) {
        const published = Number.parseFloat(text.slice(last + 6, last + 30).replace(/^[ "]+/, ''));
        if (Number.isFinite(published) && published > 1e12) samples.push(now() - published);
      }
      tail = text.slice(-5);
      if (socket.counted !== true) {
        socket.counted = true;
        if (++ready === clients) console.log(JSON.stringify({ ready }));
      }
    });
  };
  for (let i = 0; i < clients; i++) connect();
  process.on('message', (message) => {
    if (message === 'exit') process.exit(0);
    samples.sort((a, b) => a - b);
    const at = (q) => (samples.length ? samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] : null);
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    process.send({ events, p50: at(0.5), p99: at(0.99), cpuMs: (used.user + used.system) / 1000 });
    samples = [];
  });
  process.stdin.resume();
}
