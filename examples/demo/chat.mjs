// The demo's client code, shared: the page runs it with the browser's own
// WebSocket and EventSource, the terminal client (client.mjs) with
// isosocket's WebSocket.Client and EventSource.Client. Nothing else differs.
//
// The chat socket reconnects by itself, with exponential backoff and jitter,
// when the connection drops (a server restart, a network change); lines said
// meanwhile wait in an outbox and go out once it is back, and the room sends
// what was said while it was away (the socket gives the last id it saw). The
// feed needs none of this: an EventSource reconnects on its own.

const BACKOFF = { first: 500, max: 10_000 };
const OUTBOX_LIMIT = 100;

/**
 * Joins the chat room `room` (default the lobby) at `base` (an http: URL) as
 * `name`, and follows the feed. `show(kind, text)` receives every line to display.
 */
export function joinChat({ WebSocket, EventSource, base, name, room = 'lobby', show }) {
  const chatUrl = `${base.replace(/^http/, 'ws')}/chat?name=${encodeURIComponent(name)}&room=${encodeURIComponent(room)}`;
  const outbox = [];
  let lastId = '';
  let socket;
  let attempts = 0;
  let retry;
  let left = false;

  const connect = () => {
    socket = new WebSocket(lastId ? `${chatUrl}&lastEventId=${encodeURIComponent(lastId)}` : chatUrl);
    socket.addEventListener('open', () => {
      attempts = 0;
      show('status', `connected as ${name} in ${room}`);
      for (const text of outbox.splice(0)) socket.send(JSON.stringify({ text }));
    });
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(event.data);
      lastId = message.id;
      show('chat', `${message.name}: ${message.text}`);
    });
    socket.addEventListener('close', (event) => {
      if (left) return show('status', `chat closed (${event.code})`);
      // Exponential backoff, capped, with jitter so that every page of a
      // restarted server does not come back in the same millisecond.
      const delay = Math.min(BACKOFF.max, BACKOFF.first * 2 ** attempts) * (0.5 + Math.random() / 2);
      attempts += 1;
      show('status', `chat closed (${event.code}), reconnecting in ${(delay / 1000).toFixed(1)} s`);
      retry = setTimeout(connect, delay);
    });
  };
  connect();

  const feed = new EventSource(`${base}/feed`);
  feed.addEventListener('clock', (event) => show('clock', event.data));
  feed.addEventListener('join', (event) => show('feed', `${event.data} joined`));
  feed.addEventListener('leave', (event) => show('feed', `${event.data} left`));

  return {
    say(text) {
      if (socket.readyState === WebSocket.OPEN) return socket.send(JSON.stringify({ text }));
      if (outbox.length >= OUTBOX_LIMIT) return show('status', 'not connected, and too much waiting to be sent');
      outbox.push(text);
      show('status', 'not connected: sending once the chat is open');
    },
    leave() {
      left = true;
      clearTimeout(retry);
      socket.close(1000, 'bye');
      feed.close();
    },
    /** The current chat socket (a new one after each reconnection). */
    get socket() {
      return socket;
    },
    feed,
  };
}
