// Joins the demo chat from a terminal, with the page's own code (chat.mjs)
// running on isosocket's WebSocket.Client and EventSource.Client.
//
//   npm run demo:client -- [url] [name] [room]  (type lines to chat; Ctrl-D leaves)
//   echo hello | node examples/demo/client.mjs http://127.0.0.1:8080 robot
import { createInterface } from 'node:readline';
import isosocket from 'isosocket';
import { joinChat } from './chat.mjs';

const [base = `http://127.0.0.1:${process.env.PORT ?? 8080}`, name = `terminal-${process.pid}`, room = 'lobby'] =
  process.argv.slice(2);

const chat = joinChat({
  WebSocket: isosocket.Client,
  EventSource: isosocket.EventSource.Client,
  base,
  name,
  room,
  show: (kind, text) => {
    if (kind !== 'clock' || process.env.SHOW_CLOCK) console.log(`[${kind}] ${text}`);
  },
});

// Lines typed while the chat is connecting or reconnecting wait in chat.mjs's
// outbox and go out once it is open.
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => chat.say(line));
lines.on('close', () => setTimeout(() => chat.leave(), Number(process.env.LINGER_MS ?? 500)));
