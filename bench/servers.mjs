// One echo server per process, for the benchmark: isosocket's server socket,
// ws's, or faye-websocket's; or an SSE broadcaster (isosocket or faye).
//
//   node --expose-gc bench/servers.mjs <iso|ws|faye|sse-iso|sse-faye>
// Prints {"port": N} on stdout; answers IPC 'memory' with heap and RSS after GC,
// and 'broadcast' (SSE kinds) by sending events to every client for a while.
import http from 'node:http';

// Each process loads only the library it measures: isosocket replaces the
// driver's mask function, which faye-websocket would otherwise share.

const kind = process.argv[2];
const server = http.createServer();
const streams = new Set();

if (kind === 'iso') {
  const { default: WebSocket } = await import('isosocket');
  server.on('upgrade', (request, socket, head) => {
    const ws = new WebSocket(request, socket, head);
    ws.onmessage = (event) => ws.send(event.data);
  });
} else if (kind === 'ws') {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
} else if (kind === 'faye') {
  const { default: faye } = await import('faye-websocket');
  server.on('upgrade', (request, socket, head) => {
    const ws = new faye(request, socket, head);
    ws.on('message', (event) => ws.send(event.data));
  });
} else if (kind === 'sse-iso' || kind === 'sse-faye') {
  const Source =
    kind === 'sse-iso' ? (await import('isosocket')).EventSource : (await import('faye-websocket')).default.EventSource;
  server.on('request', (request, response) => {
    const es = new Source(request, response, { ping: 0 });
    streams.add(es);
    es.on('close', () => streams.delete(es));
  });
} else {
  throw new Error(`unknown server kind ${kind}`);
}

process.on('SIGINT', () => process.exit(0));
process.on('message', async (message) => {
  if (message.type === 'memory') {
    for (let i = 0; i < 4; i++) {
      globalThis.gc?.();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { heapUsed, rss } = process.memoryUsage();
    process.send({ heapUsed, rss });
  } else if (message.type === 'broadcast') {
    // Send events to every client for `ms`, yielding between rounds so sockets flush.
    const data = 'x'.repeat(message.size);
    const until = Date.now() + message.ms;
    let rounds = 0;
    while (Date.now() < until) {
      for (const es of streams) es.send(data);
      rounds++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    process.send({ rounds, clients: streams.size });
  }
});

server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
