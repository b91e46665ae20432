// The server socket's `'pong'` event: a pong frame arrived (RFC 6455 §5.5.3),
// with its application data. ws emits `'pong'` with the payload; faye and
// browsers have no such event, so only the server `WebSocket` dispatches it
// (WebSocket.Client stays exactly the browser's).
//
// References:
// - RFC 6455 §5.5.3, Pong: https://www.rfc-editor.org/rfc/rfc6455#section-5.5.3
// - DOM Standard, Event: https://dom.spec.whatwg.org/#interface-event
// - websockets/ws lib/websocket.js (receiverOnPong: `emit('pong', data)`)

/**
 * A pong arrived at the server `WebSocket`: `data` is its payload (0 to 125
 * bytes; for the answer to `ping(data)`, the same bytes).
 * @see https://www.rfc-editor.org/rfc/rfc6455#section-5.5.3
 * @example
 * ws.on('pong', (event) => { alive = true; console.log(event.data); });
 */
export class PongEvent extends Event {
  readonly #data: Buffer;

  constructor(type: string, init: { data: Buffer }) {
    super(type);
    this.#data = init.data;
  }

  /** The pong's application data. */
  get data(): Buffer {
    return this.#data;
  }
}
