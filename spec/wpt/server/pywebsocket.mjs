// A small port of pywebsocket3's request object, enough for the WPT
// `websockets/handlers/*_wsh.py` handlers (spec/wpt/server/handlers.mjs) to
// be written line for line in Node. It speaks RFC 6455 itself over any
// duplex: a TCP or TLS socket after an HTTP/1.1 upgrade, or an HTTP/2 stream
// after an RFC 8441 extended CONNECT. isosocket's own server is deliberately
// not used: the server side is the fixed reference both clients (isosocket and
// undici) are measured against, and several handlers do raw things (write a
// malformed 101, drop TCP after a close frame) a conforming server refuses to.
//
// Calling contract (pywebsocket3 semantics, mod_pywebsocket/stream.py and
// dispatch.py):
// - receiveMessage() resolves to a string (text), a Buffer (binary), or null
//   once the client's close frame arrived. On that close frame, the handler's
//   passive closing handshake runs (default: answer 1000 with no reason), its
//   (code, reason) is sent back (code null: an empty close frame), and null is
//   returned. A passive handler that throws Aborted drops the connection
//   without a close frame.
// - closeConnection(code, reason) starts the closing handshake: sends the
//   close frame and waits for the client's (messages in between are dropped).
// - When the handler's transfer function returns, the server closes the
//   connection (1000) unless it already did, and then closes the transport
//   once both close frames crossed (RFC 6455 §7.1.1: the server closes TCP
//   first). Throwing Aborted closes the transport at once.
// - Pings are answered with pongs; frames are not compressed (no extension is
//   negotiated).
//
// References: RFC 6455 §5 (framing), §7 (closing), RFC 8441 §5;
// https://github.com/GoogleChromeLabs/pywebsocket3 (the original).

/** pywebsocket's AbortedByUserException: drop the connection, no close frame. */
export class Aborted extends Error {}

const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

/** A frame from the server (never masked, RFC 6455 §5.1). */
export function frame(opcode, payload, fin = true) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload ?? '');
  let header;
  if (data.length < 126) {
    header = Buffer.from([(fin ? 0x80 : 0) | opcode, data.length]);
  } else if (data.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 126;
    header.writeUInt16BE(data.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(data.length), 2);
  }
  return Buffer.concat([header, data]);
}

/** A close frame's body: no code gives an empty body (RFC 6455 §5.5.1). */
export function closeBody(code, reason = '') {
  if (code === null || code === undefined) return Buffer.alloc(0);
  const body = Buffer.alloc(2);
  body.writeUInt16BE(code, 0);
  return Buffer.concat([body, Buffer.from(reason, 'utf8')]);
}

/** One pywebsocket request: the handshake's data and the open connection. */
export class WsRequest {
  /** The raw duplex: a socket, or an HTTP/2 stream. */
  connection;
  /** `HTTP/1.1` or `HTTP/2`. */
  protocol;
  /** Request target with the query (pywebsocket's unparsed_uri). */
  uri;
  /** Lower-cased request headers. */
  headersIn;
  /** The Origin header, or '' as pywebsocket's ws_origin for none. */
  origin;
  /** The subprotocols the client offered, or null. */
  requestedProtocols;
  /** The subprotocol the handler chose. */
  chosenProtocol = null;
  /** Extra response headers [name, value]. */
  extraHeaders = [];
  clientTerminated = false;
  serverTerminated = false;
  closeCode = null;
  closeReason = '';
  /** Called before any write: an HTTP/2 stream sends its response first. */
  beforeWrite = undefined;
  /** The handler's passive closing handshake: (request) => [code, reason]. */
  passiveClose = async () => [1000, ''];

  #buffer = Buffer.alloc(0);
  #waiters = [];
  #ended = false;
  #fragments = [];
  #fragmentOpcode = 0;

  constructor(connection, { protocol, uri, headers }) {
    this.connection = connection;
    this.protocol = protocol;
    this.uri = uri;
    this.headersIn = headers;
    this.origin = headers.origin ?? '';
    const offered = headers['sec-websocket-protocol'];
    this.requestedProtocols = offered === undefined ? null : offered.split(',').map((p) => p.trim());
  }

  /** Starts reading frames from the connection (after the handshake). */
  attach(head) {
    if (head?.length) this.#buffer = Buffer.concat([this.#buffer, head]);
    // pywebsocket reads the socket only when the handler asks for a message
    // (a blocking read): while a handler sleeps, nothing is read and TCP (or
    // HTTP/2 flow control) pushes back on the client, which the backpressure
    // tests measure. So the connection is paused between reads.
    this.connection.on('data', (chunk) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.connection.pause();
      this.#wake();
    });
    this.connection.pause();
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    this.connection.on('end', end);
    this.connection.on('close', end);
    this.connection.on('error', end);
  }

  #wake() {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** The next frame from the client, or null when the transport ended. */
  async #readFrame() {
    for (;;) {
      const parsed = this.#parse();
      if (parsed) return parsed;
      if (this.#ended) return null;
      this.connection.resume();
      await new Promise((resolve) => this.#waiters.push(resolve));
    }
  }

  #parse() {
    const b = this.#buffer;
    if (b.length < 2) return null;
    const fin = (b[0] & 0x80) !== 0;
    const opcode = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    let length = b[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return null;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return null;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    const maskOffset = offset;
    if (masked) offset += 4;
    if (b.length < offset + length) return null;
    const payload = Buffer.from(b.subarray(offset, offset + length));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= b[maskOffset + (i % 4)];
    this.#buffer = b.subarray(offset + length);
    return { fin, opcode, payload, masked };
  }

  /** request.connection.write: bytes on the transport as they are. */
  write(bytes) {
    this.beforeWrite?.();
    if (!this.connection.destroyed) this.connection.write(bytes);
  }

  /** msgutil.send_message / ws_stream.send_message. */
  sendMessage(message, binary = typeof message !== 'string') {
    if (this.serverTerminated) throw new Error('send after close');
    this.write(frame(binary ? OPCODE.binary : OPCODE.text, message));
  }

  /** ws_stream.send_ping. */
  sendPing(data = '') {
    this.write(frame(OPCODE.ping, data));
  }

  /** ws_stream.receive_message: a message, or null after the close frame. */
  async receiveMessage() {
    for (;;) {
      if (this.clientTerminated) return null;
      const f = await this.#readFrame();
      if (f === null) {
        // The transport ended without a close frame (pywebsocket raises
        // ConnectionTerminatedException; the handler ends).
        this.clientTerminated = true;
        throw new Aborted('connection terminated');
      }
      if (!f.masked) throw new Aborted('unmasked frame from the client (RFC 6455 §5.1)');
      if (f.opcode === OPCODE.ping) {
        this.write(frame(OPCODE.pong, f.payload));
        continue;
      }
      if (f.opcode === OPCODE.pong) continue;
      if (f.opcode === OPCODE.close) {
        this.clientTerminated = true;
        if (f.payload.length >= 2) {
          this.closeCode = f.payload.readUInt16BE(0);
          this.closeReason = f.payload.subarray(2).toString('utf8');
        } else {
          this.closeCode = 1005; // STATUS_NO_STATUS_RECEIVED
          this.closeReason = '';
        }
        if (this.serverTerminated) return null;
        const [code, reason] = await this.passiveClose(this);
        this.serverTerminated = true;
        this.write(frame(OPCODE.close, closeBody(code, reason ?? '')));
        return null;
      }
      if (f.opcode === OPCODE.text || f.opcode === OPCODE.binary) {
        this.#fragmentOpcode = f.opcode;
        this.#fragments = [f.payload];
      } else if (f.opcode === OPCODE.continuation) {
        this.#fragments.push(f.payload);
      } else {
        throw new Aborted(`unknown opcode ${f.opcode}`);
      }
      if (!f.fin) continue;
      const data = Buffer.concat(this.#fragments);
      this.#fragments = [];
      if (this.#fragmentOpcode === OPCODE.binary) return data;
      const text = new TextDecoder('utf-8', { fatal: true });
      try {
        return text.decode(data);
      } catch {
        // RFC 6455 §8.1: invalid UTF-8 fails the connection with 1007.
        this.serverTerminated = true;
        this.write(frame(OPCODE.close, closeBody(1007, '')));
        throw new Aborted('invalid UTF-8');
      }
    }
  }

  /** ws_stream.close_connection: send our close frame, wait for the client's. */
  async closeConnection(code = 1000, reason = '') {
    if (this.serverTerminated) return;
    this.serverTerminated = true;
    this.write(frame(OPCODE.close, closeBody(code, reason)));
    while (!this.clientTerminated) await this.receiveMessage();
  }

  /** Closes the transport: TCP FIN, or END_STREAM on an HTTP/2 stream. */
  end() {
    if (!this.connection.destroyed) this.connection.end();
  }

  /** Drops the transport at once (an RST for HTTP/2, RFC 8441 §5). */
  abort() {
    const c = this.connection;
    if ('rstCode' in c) c.close(0x8 /* CANCEL */);
    else c.destroy();
  }
}

/**
 * Runs a handler on an open connection with pywebsocket's dispatch rules:
 * transfer, then the closing handshake unless done, then the transport closes.
 */
export async function dispatch(request, handler) {
  try {
    await handler.transfer(request);
    if (!request.serverTerminated) await request.closeConnection(1000, '');
    request.end();
  } catch (error) {
    if (!(error instanceof Aborted)) console.error('handler error', request.uri, error);
    request.abort();
  }
}
