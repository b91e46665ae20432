// Checks on an opening handshake request before the server answers it, a
// pure module.
//
// References:
// - RFC 6455 §4.2.1 (reading the client's opening handshake) and §4.4
//   (426 Upgrade Required with the supported Sec-WebSocket-Version)

import type { IncomingHttpHeaders } from 'node:http';

/** Why a handshake is refused: the HTTP status, its headers, and a message. */
export interface HandshakeRefusal {
  status: 400 | 426;
  reason: string;
  headers: Record<string, string>;
  message: string;
}

const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Returns why the request cannot be upgraded, or undefined when it can. */
export function checkHandshake(method: string | undefined, headers: IncomingHttpHeaders): HandshakeRefusal | undefined {
  const refuse = (message: string): HandshakeRefusal => ({ status: 400, reason: 'Bad Request', headers: {}, message });
  // 1. An HTTP/1.1 or higher GET request.
  if (method !== 'GET') return refuse(`A WebSocket handshake must be a GET request, not ${method ?? 'none'}`);
  // 3. An |Upgrade| header field containing the value "websocket".
  if (String(headers.upgrade ?? '').toLowerCase() !== 'websocket')
    return refuse("The Upgrade header must be 'websocket'");
  // 4. A |Connection| header field that includes the token "Upgrade".
  const connection = String(headers.connection ?? '')
    .toLowerCase()
    .split(',')
    .map((token) => token.trim());
  if (!connection.includes('upgrade')) return refuse("The Connection header must include 'Upgrade'");
  // 5. A |Sec-WebSocket-Key| header field with a base64-encoded value that,
  //    when decoded, is 16 bytes in length.
  const key = headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY.test(key.trim())) {
    return refuse('Missing or malformed Sec-WebSocket-Key (16 bytes, base64)');
  }
  // 6. A |Sec-WebSocket-Version| header field, with a value of 13. §4.4: else
  //    answer 426 with the versions the server supports.
  if (headers['sec-websocket-version'] !== '13') {
    return {
      status: 426,
      reason: 'Upgrade Required',
      headers: { 'Sec-WebSocket-Version': '13' },
      message: `Unsupported Sec-WebSocket-Version: ${String(headers['sec-websocket-version'] ?? 'none')} (13 is supported)`,
    };
  }
  return undefined;
}

/** The HTTP response that refuses a handshake. */
export function refusalResponse(refusal: HandshakeRefusal): string {
  const body = `${refusal.message}\n`;
  const lines = [
    `HTTP/1.1 ${refusal.status} ${refusal.reason}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(refusal.headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
