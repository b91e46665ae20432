// The demo server: chat rooms over WebSocket (every message to every page in
// its room), a live feed over server-sent events (the server clock, joins and
// leaves), and the page. `npm start` runs it; PORT picks the port (default
// 8080), HOST the address (default 127.0.0.1, loopback only).
// Each room and the feed are channels (`Channel`): a room's sockets are its
// members, so a message is framed once for all of them, and a page that
// reconnects with the last id it saw gets what it missed. With REDIS_URL set
// they live in Redis Streams, so several processes behind nginx serve the
// same rooms and feed, and a client resumes on any of them.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import WebSocket, { Channel, EventSource, RedisChannelStores, shutdown } from 'isosocket';

const files = {
  '/': ['text/html; charset=utf-8', readFileSync(new URL('./index.html', import.meta.url))],
  '/chat.mjs': ['text/javascript; charset=utf-8', readFileSync(new URL('./chat.mjs', import.meta.url))],
};

// With REDIS_URL, one store for every channel of the process: two Redis
// connections however many rooms.
const stores = process.env.REDIS_URL ? await RedisChannelStores.connect({ url: process.env.REDIS_URL }) : undefined;

/** A channel, in a Redis Stream when REDIS_URL is set. */
function channel(key, options) {
  const made = new Channel({ ...options, ...(stores && { store: stores.channel(key) }) });
  made.onerror = (event) => console.error(event.message);
  return made;
}
const feed = channel('demo:feed', { history: 100 }); // joins and leaves, replayed to a page that reconnects
// The rooms: a fixed few, so that a URL cannot make the server keep more.
// A socket receives a message with its id, and comes back with it.
const ROOMS = ['lobby', 'random', 'help'];
const toMessage = (data, { id }) => JSON.stringify({ ...JSON.parse(data), id });
const rooms = new Map();
for (const name of ROOMS) rooms.set(name, channel(`demo:chat:${name}`, { history: 50, toMessage }));
const sockets = new Set();
const feeds = new Set(); // for the clock, which is this process's own

const server = http.createServer((request, response) => {
  if (EventSource.isEventSource(request)) {
    const es = new EventSource(request, response, { ping: 15, retry: 2 });
    feed.register(es);
    feeds.add(es);
    es.on('close', () => feeds.delete(es));
    return;
  }
  const file = files[new URL(request.url, 'http://x').pathname];
  if (!file) return response.writeHead(404).end('not found');
  response.writeHead(200, { 'Content-Type': file[0] });
  response.end(file[1]);
});

server.on('upgrade', (request, socket, head) => {
  const url = new URL(request.url, 'http://x');
  if (!WebSocket.isWebSocket(request) || url.pathname !== '/chat') return socket.destroy();
  const name = (url.searchParams.get('name') || 'anonymous').slice(0, 32);
  const room = rooms.get(url.searchParams.get('room')) ?? rooms.get('lobby');
  const ws = new WebSocket(request, socket, head, [], { ping: 30, maxLength: 4096 });
  // A page that reconnects says the last id it saw: it gets what was said meanwhile.
  room.register(ws, { lastEventId: (url.searchParams.get('lastEventId') ?? '').slice(0, 64) });
  ws.onopen = () => {
    sockets.add(ws);
    feed.broadcast(name, { event: 'join' });
  };
  ws.onmessage = (event) => {
    let text;
    try {
      text = String(JSON.parse(event.data).text ?? '').slice(0, 500);
    } catch {
      return ws.close(4000, 'messages are JSON: {"text": "..."}');
    }
    if (text) room.broadcast(JSON.stringify({ name, text, at: Date.now() }));
  };
  ws.onclose = () => {
    if (sockets.delete(ws) && !stopping) feed.broadcast(name, { event: 'leave' });
  };
});

const clock = setInterval(() => {
  const time = new Date().toISOString().slice(11, 19);
  for (const es of feeds) es.send(time, { event: 'clock' });
}, 1000);

let stopping = false;
const stop = async () => {
  stopping = true;
  clearInterval(clock);
  // No new connections; idle keep-alive ones go now. Then close 1001 (going
  // away) to every chat socket and the end of every feed stream, waiting up
  // to 5 s for them; pages reconnect (chat.mjs).
  server.close();
  server.closeIdleConnections();
  await shutdown(server, { timeout: 5000 });
  await Promise.all([feed.close(), ...[...rooms.values()].map((room) => room.close())]);
  await stores?.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

// Loopback only unless HOST says otherwise (HOST=0.0.0.0 serves every
// interface); the address printed is the one the server is bound to.
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8080);
server.on('error', (error) => {
  console.error(`isosocket demo: cannot listen on ${host} port ${port}: ${error.message} (set PORT or HOST)`);
  process.exit(1);
});
server.listen(port, host, () => {
  const { address, family, port } = server.address();
  const origin = `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  console.log(`isosocket demo on ${origin}/ (pid ${process.pid}${process.env.REDIS_URL ? ', via Redis' : ''})`);
});
