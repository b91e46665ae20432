// A Node client with what browsers hide: a custom CA, an HTTP proxy with
// credentials, and extra handshake headers.
//
//   PROXY=http://user:pass@127.0.0.1:8888 CA=ca.pem node examples/client-tls-proxy.mjs wss://localhost:8443/
import { readFileSync } from 'node:fs';
import WebSocket from 'isosocket';

const url = process.argv[2] ?? 'wss://localhost:8443/';
const options = {
  headers: { 'User-Agent': 'isosocket-example' },
  ...(process.env.CA ? { ca: readFileSync(process.env.CA) } : {}),
  // An explicit proxy; `proxy: 'env'` would read HTTPS_PROXY / NO_PROXY instead.
  ...(process.env.PROXY ? { proxy: { origin: process.env.PROXY, headers: { 'X-Purpose': 'example' } } } : {}),
};

const ws = new WebSocket.Client(url, [], options);
ws.onopen = () => {
  console.log('open', ws.statusCode, ws.headers['sec-websocket-accept'] ? 'accepted' : '');
  ws.send('over TLS');
};
ws.onmessage = (event) => {
  console.log('message', event.data);
  ws.close();
};
ws.onerror = (event) => console.error('error', event.message);
ws.onclose = (event) => console.log('close', event.code, event.wasClean);
