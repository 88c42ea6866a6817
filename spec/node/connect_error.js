// Prints, as one JSON line, the error node gives for a connect that cannot
// work, for spec/net_interop_spec.lua to compare with lnet's:
//   node connect_error.js tcp HOST PORT
//   node connect_error.js unix PATH
// Fields: name, code, errno, syscall, address, port, message, string
// (String(err)), and the socket's events in order.  Runs on node 18 and 20.
'use strict';
const net = require('net');

const [kind, a, b] = process.argv.slice(2);
setTimeout(() => process.exit(3), 10000).unref();

const sock = kind === 'unix' ? net.connect(a) : net.connect(Number(b), a);
const out = { events: [] };
sock.on('connect', () => { out.events.push('connect'); sock.destroy(); });
sock.on('error', (err) => {
  out.events.push('error');
  out.error = {
    name: err.name, code: err.code, errno: err.errno, syscall: err.syscall,
    address: err.address, port: err.port, message: err.message,
    string: String(err),
  };
});
sock.on('close', (hadError) => {
  out.events.push('close:' + hadError);
  process.stdout.write(JSON.stringify(out) + '\n');
});
