// WebSockets over HTTP/2 (RFC 8441) and HTTP/1.1 on one HTTPS port: a page
// at / and an echo WebSocket at /echo, answered whichever way the client
// comes. A browser that loaded the page over HTTP/2 opens its WebSocket as
// an extended CONNECT stream on that same connection; ws, curl and older
// clients upgrade over HTTP/1.1. The first message says which it was.
//
//   PORT=8443 node examples/http2.mjs
//   CERT=cert.pem KEY=key.pem PORT=8443 node examples/http2.mjs
// Without CERT and KEY, a self-signed certificate for localhost is made at
// start (in pure Node, examples/self-signed.mjs): the browser warns once.
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import WebSocket from 'isosocket';
import { selfSigned } from './self-signed.mjs';

const page = `<!doctype html>
<title>isosocket over HTTP/2</title>
<p><input id="text" value="hello"> <button id="send">send</button></p>
<pre id="log"></pre>
<script>
  const log = (line) => (document.getElementById('log').textContent += line + '\\n');
  const ws = new WebSocket('wss://' + location.host + '/echo');
  ws.onopen = () => log('open');
  ws.onmessage = (event) => log('message: ' + event.data);
  ws.onclose = (event) => log('close ' + event.code);
  document.getElementById('send').onclick = () => ws.send(document.getElementById('text').value);
</script>`;

const { CERT, KEY } = process.env;
const { key, cert } = CERT && KEY ? { key: readFileSync(KEY), cert: readFileSync(CERT) } : selfSigned();

// enableConnectProtocol advertises RFC 8441 in the server's SETTINGS: without
// it, browsers open their WebSockets over a new HTTP/1.1 connection.
// maxConcurrentStreams bounds what one connection may hold open (Node's
// default is 2^32 - 1); isosocket holds each session to it, in WebSockets
// (100 when it is not set), and refuses the rest with REFUSED_STREAM.
const server = http2.createSecureServer(
  { key, cert, allowHTTP1: true, settings: { enableConnectProtocol: true, maxConcurrentStreams: 100 } },
  (request, response) => {
    if (request.url !== '/') return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  },
);

// One handler for both handshakes: 'upgrade' gives (request, socket, head),
// 'connect' gives HTTP/2's (request, response). The 'connect' listener is
// needed: without it, Node answers every CONNECT with 405.
function accept(request, socket, head) {
  if (!WebSocket.isWebSocket(request) || request.url !== '/echo') return WebSocket.refuse(socket, 404);
  const ws = new WebSocket(request, socket, head, [], { ping: 30 });
  const how = request.httpVersion === '2.0' ? 'HTTP/2 (an extended CONNECT stream)' : 'HTTP/1.1 (an upgrade)';
  ws.onopen = () => ws.send(`hello over ${how}`);
  ws.onmessage = (event) => ws.send(event.data);
}
server.on('upgrade', accept);
server.on('connect', accept);

server.listen(Number(process.env.PORT ?? 8443), () => {
  console.log(`HTTP/2 example on https://localhost:${server.address().port}/ (WebSocket /echo, HTTP/2 and HTTP/1.1)`);
});

process.on('SIGINT', () => process.exit(0));
