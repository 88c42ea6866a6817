// Node's 'data' -> write echo server: node node-data.js PORT
'use strict';
const net = require('net');

const server = net.createServer((c) => {
  c.on('error', () => {});
  c.on('data', (chunk) => c.write(chunk));
});
server.listen(Number(process.argv[2]) || 0, '127.0.0.1', () => {
  console.log(server.address().port);
});
