// One live feed for many clients: GET /events streams the channel (and
// replays what a reconnecting client missed), POST /publish puts the request
// body on it. With REDIS_URL set, the channel lives in a Redis Stream, so
// several copies of this file (behind nginx, or on two ports) serve one feed
// and a client can resume on any of them.
//
//   PORT=8080 node examples/sse-channel.mjs
//   curl -N -H 'Accept: text/event-stream' localhost:8080/events
//   curl -d 'hello' localhost:8080/publish
//
//   REDIS_URL=redis://localhost:6379 PORT=8081 node examples/sse-channel.mjs
//   REDIS_URL=redis://localhost:6379 PORT=8082 node examples/sse-channel.mjs
import http from 'node:http';
import { EventSource, RedisChannelStore } from 'isosocket';

const { PORT = '8080', REDIS_URL } = process.env;
const store = REDIS_URL ? await RedisChannelStore.connect({ url: REDIS_URL, key: 'example:feed' }) : undefined;
const channel = new EventSource.Channel({ history: 1000, ...(store && { store }) });
channel.onerror = (event) => console.error(event.message);

const server = http.createServer(async (request, response) => {
  const { pathname } = new URL(request.url, 'http://localhost');
  if (pathname === '/events' && EventSource.isEventSource(request)) {
    channel.register(new EventSource(request, response, { retry: 1, ping: 15 }));
  } else if (pathname === '/publish' && request.method === 'POST') {
    let body = '';
    for await (const chunk of request) {
      body += chunk;
      if (body.length > 64 * 1024) return response.writeHead(413).end('too large\n');
    }
    const id = await channel.broadcast(body);
    response.writeHead(200, { 'Content-Type': 'text/plain' }).end(`${id}\n`);
  } else {
    response.writeHead(404).end('GET /events or POST /publish\n');
  }
});

const shutdown = async () => {
  server.close();
  await channel.close(); // its clients reconnect, e.g. to another copy
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);

server.listen(Number(PORT), () => {
  const where = REDIS_URL ? 'shared through Redis' : 'this process only';
  console.log(`sse-channel on http://localhost:${server.address().port}/events (${where}, pid ${process.pid})`);
});
