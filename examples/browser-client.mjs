// Browser code, unchanged, running in Node: the only addition is the import
// line that gives it a WebSocket and an EventSource.
//
//   node examples/browser-client.mjs ws://localhost:8080/echo http://localhost:8080/clock
import isosocket from 'isosocket';

const WebSocket = isosocket.Client;
const EventSource = isosocket.EventSource.Client;
const [wsUrl = 'ws://localhost:8080/echo', sseUrl = 'http://localhost:8080/clock'] = process.argv.slice(2);

// ---- what follows is plain browser code ----
const socket = new WebSocket(wsUrl);
socket.binaryType = 'arraybuffer';
socket.addEventListener('open', () => {
  socket.send('Hello, world!');
  socket.send(new Uint8Array([1, 2, 3]));
});
let received = 0;
socket.addEventListener('message', (event) => {
  const shown = typeof event.data === 'string' ? event.data : `${event.data.byteLength} bytes`;
  console.log('message', shown);
  if (++received === 2) socket.close(1000, 'done');
});
socket.addEventListener('close', (event) => {
  console.log('close', event.code, event.reason, event.wasClean);
  const feed = new EventSource(sseUrl);
  feed.addEventListener('tick', (tick) => {
    console.log('tick', tick.data);
    feed.close();
  });
});
