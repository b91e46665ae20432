// Counting WebSocket closes by code with diagnostics_channel, the way an
// OpenTelemetry instrumentation would: isosocket publishes
// `isosocket:websocket:open`, `:close`, `:error`, `:ping`, `:pong` and
// `isosocket:eventsource:open`, `:close` (docs/diagnostics.md), and costs
// nothing while no one subscribes. The meter below has the shape of
// OpenTelemetry's (`meter.createCounter(name).add(value, attributes)`), so
// that `@opentelemetry/api`'s `metrics.getMeter('isosocket')` drops in.
//
//   node examples/diagnostics.mjs
//
// It starts a server, opens four connections that close with 1000, 1000,
// 4001 and 1006 (a dropped one), and prints the counts.
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import WebSocket from 'isosocket';

// A stand-in for an OpenTelemetry Meter: counters keyed by their attributes.
const meter = {
  counters: new Map(),
  createCounter(name) {
    const counts = new Map();
    this.counters.set(name, counts);
    return {
      add(value, attributes = {}) {
        const key = JSON.stringify(attributes);
        counts.set(key, (counts.get(key) ?? 0) + value);
      },
    };
  },
};

const opened = meter.createCounter('isosocket.websocket.opened');
const closed = meter.createCounter('isosocket.websocket.closed');

diagnosticsChannel.subscribe('isosocket:websocket:open', ({ role, transport }) => {
  opened.add(1, { role, transport });
});
diagnosticsChannel.subscribe('isosocket:websocket:close', ({ role, code, wasClean }) => {
  closed.add(1, { role, code, wasClean });
});

const server = http.createServer();
server.on('upgrade', (request, socket, head) => {
  if (!WebSocket.isWebSocket(request)) return socket.destroy();
  const ws = new WebSocket(request, socket, head);
  ws.onmessage = (event) => {
    if (event.data === 'policy') ws.close(4001, 'policy');
    else if (event.data === 'drop') ws.terminate();
    else ws.close(1000);
  };
});
server.listen(0, '127.0.0.1', async () => {
  const url = `ws://127.0.0.1:${server.address().port}/`;
  for (const message of ['bye', 'bye', 'policy', 'drop']) {
    const client = new WebSocket.Client(url);
    client.onopen = () => client.send(message);
    await new Promise((resolve) => client.addEventListener('close', resolve));
  }
  // Let the server's ends finish closing too.
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const [name, counts] of meter.counters) {
    for (const [attributes, value] of counts) console.log(`${name} ${attributes} ${value}`);
  }
  server.close();
});
