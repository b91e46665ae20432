// An echo server: WebSocket messages come back as sent, and /clock is a
// server-sent events feed of the time. `npm start` runs it.
//
//   PORT=8080 node examples/echo-server.mjs
import http from 'node:http';
import WebSocket, { EventSource } from 'isosocket';

const page = `<!doctype html>
<title>isosocket echo</title>
<p>WebSocket: <input id="text" value="hello"> <button id="send">send</button></p>
<pre id="log"></pre>
<script>
  const log = (line) => (document.getElementById('log').textContent += line + '\\n');
  const ws = new WebSocket(location.origin.replace('http', 'ws') + '/echo');
  ws.onopen = () => log('open');
  ws.onmessage = (event) => log('echo: ' + event.data);
  ws.onclose = (event) => log('close ' + event.code);
  document.getElementById('send').onclick = () => ws.send(document.getElementById('text').value);
  const clock = new EventSource('/clock');
  clock.addEventListener('tick', (event) => log('clock: ' + event.data));
</script>`;

const server = http.createServer((request, response) => {
  if (EventSource.isEventSource(request)) {
    const es = new EventSource(request, response, { ping: 15, retry: 5 });
    const timer = setInterval(() => es.send(new Date().toISOString(), { event: 'tick' }), 1000);
    es.on('close', () => clearInterval(timer));
    return;
  }
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  response.end(page);
});

server.on('upgrade', (request, socket, head) => {
  if (!WebSocket.isWebSocket(request)) return socket.destroy();
  const ws = new WebSocket(request, socket, head, [], { ping: 30 });
  ws.onmessage = (event) => ws.send(event.data);
});

server.listen(Number(process.env.PORT ?? 8080), () => {
  console.log(`Echo server on http://localhost:${server.address().port}/ (WebSocket /echo, SSE /clock)`);
});
