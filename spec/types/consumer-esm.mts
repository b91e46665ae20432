// Compile-only: the ESM entry's types, as a consumer sees them.
import http from 'node:http';
import WebSocket, { type CloseEvent, type ServerOptions } from 'isosocket';
// permessage-deflate ships no types; isosocket's declarations carry them (no TS7016).
import deflate from 'permessage-deflate';

const options: ServerOptions = {
  ping: 30,
  maxLength: 1024,
  binaryType: 'arraybuffer',
  extensions: [deflate.configure({ level: 6 })],
};
const compressed: ServerOptions = { perMessageDeflate: { threshold: 256, serverNoContextTakeover: true } };
void compressed;
const server = http.createServer();
server.on('upgrade', (request, socket, head) => {
  if (!WebSocket.isWebSocket(request)) return socket.destroy();
  const ws = new WebSocket(request, socket, head, ['chat'], options);
  ws.onmessage = (event: MessageEvent) => ws.send(event.data);
  ws.addEventListener('close', (event) => {
    const closeEvent: CloseEvent = event;
    const code: number = closeEvent.code;
    return code;
  });
  ws.on('message', (event) => ws.send(event.data));
  const state: 0 | 1 | 2 | 3 = ws.readyState;
  return state;
});
