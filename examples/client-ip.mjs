// The client's IP address, connected directly or through a reverse proxy.
// Directly, it is the TCP peer's address. Behind nginx (examples/nginx), the
// peer is nginx, which appends the address it saw to X-Forwarded-For; the
// entries before that came from the client and can be forged. So read the
// header from the right and skip only the proxies you run (TRUSTED_PROXIES).
//
//   TRUSTED_PROXIES=127.0.0.1,::1 PORT=8080 node examples/client-ip.mjs
import http from 'node:http';
import WebSocket from 'isosocket';

const trusted = new Set((process.env.TRUSTED_PROXIES ?? '127.0.0.1,::1,::ffff:127.0.0.1').split(',').filter(Boolean));

/** The address of whoever is behind the proxies we trust (the same for an EventSource request). */
function clientAddress(request) {
  const forwarded = String(request.headers['x-forwarded-for'] ?? '').split(',');
  const hops = [...forwarded, request.socket.remoteAddress].map((hop) => hop.trim()).filter(Boolean);
  while (hops.length > 1 && trusted.has(hops.at(-1))) hops.pop();
  return hops.at(-1);
}

const server = http.createServer();
server.on('upgrade', (request, socket, head) => {
  if (!WebSocket.isWebSocket(request)) return socket.destroy();
  const address = clientAddress(request);
  const ws = new WebSocket(request, socket, head);
  ws.onopen = () => ws.send(`your address: ${address}`);
  console.log(`connection from ${address} (X-Forwarded-For: ${request.headers['x-forwarded-for'] ?? 'none'})`);
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
