// A server-sent events endpoint that resumes from Last-Event-ID, and a Node
// EventSource client reading it.
//
//   PORT=8081 node examples/sse-endpoint.mjs
import http from 'node:http';
import { EventSource } from 'isosocket';

const server = http.createServer((request, response) => {
  if (!EventSource.isEventSource(request)) {
    response.writeHead(404).end();
    return;
  }
  const es = new EventSource(request, response, {
    headers: { 'Access-Control-Allow-Origin': '*' },
    retry: 1,
    ping: 15,
  });
  let id = Number(es.lastEventId || 0);
  const timer = setInterval(() => {
    id += 1;
    es.send(`update ${id}\nsecond line`, { event: 'update', id: String(id) });
  }, 200);
  es.on('close', () => clearInterval(timer));
});

server.listen(Number(process.env.PORT ?? 8081), () => {
  const url = `http://localhost:${server.address().port}/updates`;
  console.log(`SSE endpoint on ${url}`);
  if (process.env.NO_CLIENT) return;
  const feed = new EventSource.Client(url);
  let count = 0;
  feed.addEventListener('update', (event) => {
    console.log('update', JSON.stringify(event.data), 'id', event.lastEventId);
    if (++count === 3) {
      feed.close();
      server.close();
      server.closeAllConnections();
    }
  });
});
