// Node's echo server with socket.pipe(socket): node node-pipe.js PORT
'use strict';
const net = require('net');

const server = net.createServer((c) => {
  c.on('error', () => {});  // a reset must not stop the server
  c.pipe(c);
});
server.listen(Number(process.argv[2]) || 0, '127.0.0.1', () => {
  console.log(server.address().port);
});
