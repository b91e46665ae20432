// Compile-only: the CommonJS entry's types, as a consumer sees them.
import http = require('node:http');
import WebSocket = require('isosocket');
import deflate = require('permessage-deflate');

const options: WebSocket.ServerOptions = { ping: 30, extensions: [deflate] };
http.createServer().on('upgrade', (request, socket, head) => {
  const ws = new WebSocket(request, socket, head, [], options);
  ws.onclose = (event: WebSocket.CloseEvent) => event.wasClean;
  const closed: 3 = WebSocket.CLOSED;
  return closed;
});
