// The raw event stream reader of the server-sent events specs: it keeps what
// it parsed (ids and data) for exact checks (bounded waits and sleep are
// spec/helpers/bounded.ts's, a restartable redis-server is
// spec/helpers/services.ts's).

import { once } from 'node:events';
import net from 'node:net';
import type { Test } from 'tap';

export interface RawEventStream {
  socket: net.Socket;
  /** Everything received, head included. */
  text(): string;
  /** The events parsed so far: id ('' when none) and data. */
  events: Array<{ id: string; data: string; event: string }>;
  /** Resolves when the server has ended the connection. */
  ended: Promise<void>;
}

/**
 * Opens an event stream over raw TCP and parses it as it arrives (LF line
 * ends, as isosocket writes them).
 */
export async function openRawStream(
  t: Test,
  port: number,
  path = '/',
  headers: Record<string, string> = {},
): Promise<RawEventStream> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  t.teardown(() => socket.destroy());
  await once(socket, 'connect');
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Accept: text/event-stream'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  let text = '';
  let body: string | undefined;
  const events: RawEventStream['events'] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
    if (body === undefined) {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      body = text.slice(end + 4);
    } else {
      body += chunk;
    }
    let blank = body.indexOf('\n\n');
    while (blank >= 0) {
      const block = body.slice(0, blank);
      body = body.slice(blank + 2);
      const event = { id: '', data: '', event: 'message' };
      let hasData = false;
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) {
          event.data = hasData ? `${event.data}\n${line.slice(6)}` : line.slice(6);
          hasData = true;
        }
      }
      if (hasData) events.push(event);
      blank = body.indexOf('\n\n');
    }
  });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, text: () => text, events, ended };
}
