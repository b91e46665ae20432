// CPU per queued message, from 10,000 to 400,000 messages (issue 20, item 4):
// isosocket sends N 16-byte messages at once to a peer that starts reading
// 200 ms later; the clock is isosocket's process CPU (user + system) from the
// first send() until bufferedAmount is back to 0. Every per-write cost being
// O(1), the CPU per message is flat in N; an O(queue) step (Array#shift on a
// queue of one entry per write) makes it grow with N.
//
// Both roles (isosocket's server socket to a peer client, WebSocket.Client to
// a peer server), over HTTP/1.1 and HTTP/2 (RFC 8441, cleartext, one stream).
// isosocket runs in a forked process of its own, so the peer's reading is not
// counted; the peer reads raw bytes and discards them.
//
//   node bench/queue.mjs                      the table (about a minute)
//   QUEUE_COUNTS=10000,400000 node bench/queue.mjs
//   ISOSOCKET=/path/to/dist/index.mjs node bench/queue.mjs   another build
//   node bench/queue.mjs side <server|client> <h1|h2> <count> [port]   (forked)
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(import.meta.url);
const COUNTS = (process.env.QUEUE_COUNTS ?? '10000,50000,100000,200000,400000').split(',').map(Number);
const READ_AFTER = 200;
const MESSAGE = 'x'.repeat(16);

const loadIsosocket = async () => (await import(process.env.ISOSOCKET ?? 'isosocket')).default;

/** Sends `count` messages on an open `ws`; resolves with the CPU ms until bufferedAmount is 0. */
function sendAll(ws, count) {
  return new Promise((resolve) => {
    const start = process.cpuUsage();
    for (let i = 0; i < count; i++) ws.send(MESSAGE);
    const done = () => {
      const { user, system } = process.cpuUsage(start);
      resolve((user + system) / 1000);
    };
    const check = () => {
      if (ws.bufferedAmount === 0) done();
      else setTimeout(check, 5);
    };
    check();
  });
}

// ---- the isosocket side (forked) --------------------------------------------

async function side(role, transport, count, port) {
  const WebSocket = await loadIsosocket();
  const report = (ws) =>
    sendAll(ws, count).then((cpu) => {
      process.send({ cpu, after: ws.bufferedAmount });
      ws.terminate?.();
      setTimeout(() => process.exit(0), 50);
    });
  if (role === 'client') {
    const options = transport === 'h2' ? { http2: true } : {};
    const ws = new WebSocket.Client(`ws://127.0.0.1:${port}/`, [], options);
    ws.onopen = () => report(ws);
    ws.onerror = (event) => {
      console.error(event.message);
      process.exit(1);
    };
    return;
  }
  // The server socket, on a server of its own.
  if (transport === 'h2') {
    const server = http2.createServer({ settings: { enableConnectProtocol: true } });
    server.on('stream', (stream, headers) => {
      const ws = new WebSocket(stream, headers);
      ws.onopen = () => report(ws);
    });
    server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  } else {
    const httpServer = (await import('node:http')).createServer();
    httpServer.on('upgrade', (request, socket, head) => {
      const ws = new WebSocket(request, socket, head);
      ws.onopen = () => report(ws);
    });
    httpServer.listen(0, '127.0.0.1', () => process.send({ port: httpServer.address().port }));
  }
}

// ---- the peer (this process) ------------------------------------------------

/** A peer that holds a stream or socket paused for READ_AFTER ms, then reads and discards. */
function readLater(readable) {
  readable.pause();
  setTimeout(() => {
    readable.on('data', () => {});
    readable.resume();
  }, READ_AFTER);
}

/** Peer client: connects to isosocket's server, reads late. */
function peerClient(transport, port) {
  if (transport === 'h2') {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    session.once('remoteSettings', () => {
      const stream = session.request({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':path': '/',
        ':scheme': 'http',
        ':authority': `127.0.0.1:${port}`,
        'sec-websocket-version': '13',
      });
      stream.on('error', () => {});
      stream.on('response', () => readLater(stream));
    });
    return () => session.destroy();
  }
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  socket.once('data', () => readLater(socket));
  return () => socket.destroy();
}

/** Peer server: accepts isosocket's client, reads late. */
function peerServer(transport) {
  return new Promise((resolve) => {
    if (transport === 'h2') {
      const server = http2.createServer({ settings: { enableConnectProtocol: true } });
      server.on('stream', (stream) => {
        stream.on('error', () => {});
        stream.respond({ ':status': 200 });
        readLater(stream);
      });
      server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, close: () => server.close() }));
      return;
    }
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (head) => {
        const key = /sec-websocket-key: *(\S+)/i.exec(head.toString('latin1'))?.[1] ?? '';
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        readLater(socket);
      });
    });
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, close: () => server.close() }));
  });
}

async function run(role, transport, count) {
  let stop = () => {};
  let port;
  if (role === 'client') {
    const peer = await peerServer(transport);
    port = peer.port;
    stop = peer.close;
  }
  const child = fork(FILE, ['side', role, transport, String(count), String(port ?? 0)], { stdio: 'inherit' });
  const result = await new Promise((resolve, reject) => {
    child.on('message', (message) => {
      if ('port' in message) {
        const close = peerClient(transport, message.port);
        const previous = stop;
        stop = () => {
          close();
          previous();
        };
      } else resolve(message);
    });
    child.on('exit', (code) => reject(new Error(`the isosocket side exited (${code})`)));
  });
  stop();
  child.kill();
  return result;
}

if (process.argv[2] === 'side') {
  const [, , , role, transport, count, port] = process.argv;
  await side(role, transport, Number(count), Number(port));
} else {
  console.log(
    `N 16-byte messages sent at once, the peer reads after ${READ_AFTER} ms; isosocket's CPU until bufferedAmount is 0`,
  );
  console.log('role    transport  N         CPU ms   µs/message');
  const rows = [];
  for (const role of ['server', 'client']) {
    for (const transport of ['h1', 'h2']) {
      for (const count of COUNTS) {
        const { cpu, after } = await run(role, transport, count);
        const perMessage = (cpu * 1000) / count;
        rows.push({ role, transport, count, cpu, perMessage, after });
        console.log(
          `${role.padEnd(8)}${transport.padEnd(11)}${String(count).padEnd(10)}${cpu.toFixed(0).padStart(6)}   ${perMessage.toFixed(2).padStart(8)}`,
        );
      }
    }
  }
  if (process.env.QUEUE_JSON) console.log(JSON.stringify(rows));
}
