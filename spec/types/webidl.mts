// Compile-only: the browser interfaces as TypeScript sees them. The interface
// objects fit where browser code takes lib.dom's constructors; attributes and
// constants are read-only; operations take the arguments WebIDL requires;
// WebSocketStream's streams read and write the types the explainer gives.
import http from 'node:http';
import WebSocket, {
  Client,
  CloseEvent,
  EventSourceClient,
  getGlobalOrigin,
  setGlobalOrigin,
  WebSocketBase,
  type WebSocketClosedInfo,
  WebSocketError,
  type WebSocketOpenInfo,
  WebSocketStream,
  type WebSocketStreamMessage,
} from 'isosocket';

// The constructors themselves go where browser code expects the browser's.
const WebSocketConstructor: typeof globalThis.WebSocket = Client;
const EventSourceConstructor: typeof globalThis.EventSource = EventSourceClient;
const CloseEventConstructor: typeof globalThis.CloseEvent = CloseEvent;
function connect(Impl: typeof globalThis.WebSocket, url: string): globalThis.WebSocket {
  return new Impl(url, ['chat']);
}
const socket = connect(Client, 'ws://localhost:1/');

// Constants are literal types, read-only on the class and the instance.
const open: 1 = Client.OPEN;
const closed: 3 = new Client('ws://localhost:1/').CLOSED;
// @ts-expect-error a constant cannot be assigned
Client.OPEN = 2;

const ws = new Client('ws://localhost:1/');
// @ts-expect-error a read-only attribute
ws.url = 'ws://elsewhere/';
// @ts-expect-error send() requires its argument
ws.send();
// @ts-expect-error send() returns nothing (WebIDL's undefined), not the server socket's boolean
const sent: boolean = ws.send('text');
// @ts-expect-error the constructor requires a URL
new Client();
// @ts-expect-error a misspelt option is refused here too
new Client('ws://localhost:1/', [], { heders: {} });

// instanceof narrows to the class asked about: the server socket keeps its boolean send().
declare const anything: unknown;
if (anything instanceof WebSocket) anything.send('x') satisfies boolean;
if (anything instanceof WebSocketBase) anything.readyState satisfies 0 | 1 | 2 | 3;
if (anything instanceof Client) anything.close(1000, 'bye');

// Relative URLs resolve against the global origin.
setGlobalOrigin('https://app.example/');
const origin: URL | undefined = getGlobalOrigin();
setGlobalOrigin(undefined);

async function streams(): Promise<WebSocketClosedInfo> {
  const wss = new WebSocketStream('wss://example.com/chat', {
    protocols: ['chat'],
    signal: AbortSignal.timeout(10_000),
    headers: { Authorization: 'Bearer t' },
    handshakeTimeout: 5000,
  });
  const info: WebSocketOpenInfo = await wss.opened;
  const { readable, writable, protocol, extensions } = info;
  const writer = writable.getWriter();
  await writer.write('text');
  await writer.write(new Uint8Array([1, 2]));
  await writer.write(new ArrayBuffer(4));
  for await (const message of readable) {
    const typed: WebSocketStreamMessage = message;
    if (typeof typed === 'string') typed.toUpperCase();
    else typed.byteLength satisfies number;
  }
  wss.close({ closeCode: 4000, reason: `${protocol} ${extensions}` });
  // @ts-expect-error protocols is a sequence, not a string
  new WebSocketStream('wss://example.com/', { protocols: 'chat' });
  // @ts-expect-error binaryType belongs to WebSocket.Client: a stream reads Uint8Arrays
  new WebSocketStream('wss://example.com/', { binaryType: 'blob' });
  return wss.closed;
}

const error = new WebSocketError('bye', { closeCode: 4000, reason: 'done' });
error satisfies DOMException;
error.closeCode satisfies number | null;

http.createServer().on('upgrade', async (request, upgraded, head) => {
  const stream = WebSocketStream.from(new WebSocket(request, upgraded, head));
  const { readable, writable } = await stream.opened;
  const writer = writable.getWriter();
  for await (const message of readable) await writer.write(message);
});

export {
  CloseEventConstructor,
  closed,
  EventSourceConstructor,
  error,
  open,
  origin,
  sent,
  socket,
  streams,
  WebSocketConstructor,
};
