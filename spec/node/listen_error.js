// Prints, as one JSON line, the error node gives for a listen that cannot
// work, for spec/net_interop_spec.lua to compare with lnet's:
//   node listen_error.js tcp HOST PORT
//   node listen_error.js unix PATH
// Fields: name, code, errno, syscall, address, port, message, string
// (String(err)).  Runs on node 18 and 20.
'use strict';
const net = require('net');

const [kind, a, b] = process.argv.slice(2);
setTimeout(() => process.exit(3), 10000).unref();

const server = net.createServer();
const out = { events: [] };
server.on('listening', () => { out.events.push('listening'); server.close(); });
server.on('error', (err) => {
  out.events.push('error');
  out.error = {
    name: err.name, code: err.code, errno: err.errno, syscall: err.syscall,
    address: err.address, port: err.port, message: err.message,
    string: String(err),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
});
if (kind === 'unix') server.listen(a); else server.listen(Number(b), a);
