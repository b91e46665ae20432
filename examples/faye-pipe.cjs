// faye-websocket's README stream example, unchanged but for the require:
// `ws.pipe(ws)` in place of the message handler echoes every message.
//
//   PORT=8000 node examples/faye-pipe.cjs
var WebSocket = require('isosocket'),
    http      = require('http');

var server = http.createServer();

server.on('upgrade', function(request, socket, body) {
  if (WebSocket.isWebSocket(request)) {
    var ws = new WebSocket(request, socket, body);
    ws.pipe(ws);

    ws.ping('Mic check, one, two', function() {
      // fires when pong is received
      console.log('pong');
    });
  }
});

server.listen(process.env.PORT || 8000, function() {
  console.log('listening on ' + server.address().port);
});
