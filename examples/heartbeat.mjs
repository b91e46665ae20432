// Detecting dead peers: with `ping` (seconds), each connection is pinged, and
// one whose pong has not come back by the next ping is closed (1001 sent to
// it, close 1006 reported here). A peer that vanished without a FIN (a
// pulled cable, a suspended laptop, a NAT that forgot it) is found within two
// intervals. The Node client takes the same option:
// `new WebSocket.Client(url, [], { ping: 30 })`.
//
//   PING=30 PORT=8080 node examples/heartbeat.mjs
import http from 'node:http';
import WebSocket from 'isosocket';

const ping = Number(process.env.PING ?? 30);

const server = http.createServer();
server.on('upgrade', (request, socket, head) => {
  if (!WebSocket.isWebSocket(request)) return socket.destroy();
  const ws = new WebSocket(request, socket, head, [], { ping });
  ws.onopen = () => console.log(`${request.url} open`);
  ws.onerror = (event) => console.log(`${request.url} error: ${event.message}`);
  ws.onclose = (event) => console.log(`${request.url} close ${event.code}`);
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}, pinging every ${ping} s`);
});
