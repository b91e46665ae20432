// Compile-only: WebSocket.Client and EventSource.Client are assignable where
// lib.dom's WebSocket and EventSource are expected, so browser-typed code
// accepts them.
import { Client, EventSourceClient } from 'isosocket';

const socket = new Client('ws://localhost:1/') satisfies WebSocket;
const browserSocket: WebSocket = socket;
const source = new EventSourceClient('http://localhost:1/') satisfies EventSource;
const browserSource: EventSource = source;

function browserCode(ws: WebSocket): void {
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (event: MessageEvent) => ws.send(event.data);
  ws.addEventListener('close', (event: CloseEvent) => event.code);
}
browserCode(socket);

export { browserSocket, browserSource };
