// The demo's client code, shared: the page runs it with the browser's own
// WebSocket and EventSource, the terminal client (client.mjs) with
// isosocket's WebSocket.Client and EventSource.Client. Nothing else differs.

/**
 * Joins the chat at `base` (an http: URL) as `name`, and follows the feed.
 * `show(kind, text)` receives every line to display.
 */
export function joinChat({ WebSocket, EventSource, base, name, show }) {
  const chatUrl = `${base.replace(/^http/, 'ws')}/chat?name=${encodeURIComponent(name)}`;
  const socket = new WebSocket(chatUrl);
  socket.addEventListener('open', () => show('status', `connected as ${name}`));
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    show('chat', `${message.name}: ${message.text}`);
  });
  socket.addEventListener('close', (event) => show('status', `chat closed (${event.code})`));

  const feed = new EventSource(`${base}/feed`);
  feed.addEventListener('clock', (event) => show('clock', event.data));
  feed.addEventListener('join', (event) => show('feed', `${event.data} joined`));
  feed.addEventListener('leave', (event) => show('feed', `${event.data} left`));

  return {
    say(text) {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ text }));
    },
    leave() {
      socket.close(1000, 'bye');
      feed.close();
    },
    socket,
    feed,
  };
}
