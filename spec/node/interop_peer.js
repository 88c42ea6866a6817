// The node end of spec/net_interop_spec.lua: one TCP connection with an lnet
// peer, moving bytes both ways and checking every byte received.
//
//   node interop_peer.js server MODE SEND EXPECT        (listens on 127.0.0.1:0)
//   node interop_peer.js client MODE SEND EXPECT PORT   (connects to 127.0.0.1:PORT)
//
// SEND is a file whose bytes this side writes; EXPECT a file holding exactly
// what the lnet side writes, compared byte for byte with what arrives.
// MODE: 'now'       write SEND at once, then end() (allowHalfOpen false:
//                   this side ends first in a half-close test);
//       'duplex'    the same with allowHalfOpen true: both sides write at
//                   once, and neither may end the other's writing early
//                   (with allowHalfOpen false, the side whose reading ends
//                   first would end its own writing half-way, as in node);
//       'after-end' allowHalfOpen true: write nothing until the peer's FIN
//                   ('end'), then write SEND and end() (the peer half-closed
//                   first and must still receive all of it).
// stdout: a first line {"pid":N[,"port":P]} as soon as it is known, then one
// JSON line with the result once the socket closed.  Runs on node 18 and 20.
'use strict';
const net = require('net');
const fs = require('fs');

const [role, mode, sendFile, expectFile, portArg] = process.argv.slice(2);
const send = fs.readFileSync(sendFile);
const expect = fs.readFileSync(expectFile);
const CHUNK = 64 * 1024;
const halfOpen = mode !== 'now';
const waitEnd = mode === 'after-end';

// A watchdog: never outlive a spec that went wrong.
setTimeout(() => {
  process.stdout.write(JSON.stringify({ watchdog: true, events }) + '\n');
  process.exit(3);
}, 15000).unref();

const events = [];
const received = [];
let bytes = 0;
let wroteBeforeEnd = false;
let writableAtEnd = null;
let errorText = null;

// Writes SEND in chunks, honouring backpressure, then ends.
function pump(sock) {
  let pos = 0;
  function more() {
    while (pos < send.length) {
      const piece = send.subarray(pos, pos + CHUNK);
      pos += piece.length;
      if (!sock.write(piece)) { sock.once('drain', more); return; }
    }
    sock.end();
  }
  more();
}

function firstDiff(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function handle(sock) {
  sock.on('data', (d) => {
    if (!events.includes('data')) events.push('data');
    received.push(d);
    bytes += d.length;
  });
  sock.on('end', () => {
    events.push('end');
    writableAtEnd = sock.writable;
    if (waitEnd) pump(sock);
  });
  sock.on('finish', () => events.push('finish'));
  sock.on('error', (err) => { events.push('error'); errorText = String(err); });
  sock.on('close', (hadError) => {
    events.push('close:' + hadError);
    const got = Buffer.concat(received);
    process.stdout.write(JSON.stringify({
      received: bytes,
      expected: expect.length,
      equal: got.equals(expect),
      firstDiff: firstDiff(got, expect),
      events,
      writableAtEnd,
      wroteBeforeEnd,
      error: errorText,
    }) + '\n');
  });
  if (!waitEnd) {
    pump(sock);
  } else {
    // Nothing may be written before the peer's FIN in this mode.
    const write = sock.write;
    sock.write = function (...args) {
      if (!events.includes('end')) wroteBeforeEnd = true;
      return write.apply(this, args);
    };
  }
}

if (role === 'server') {
  const server = net.createServer({ allowHalfOpen: halfOpen }, (sock) => {
    server.close();
    handle(sock);
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({
      pid: process.pid, port: server.address().port }) + '\n');
  });
} else {
  process.stdout.write(JSON.stringify({ pid: process.pid }) + '\n');
  const sock = net.connect({ port: Number(portArg), host: '127.0.0.1',
    allowHalfOpen: halfOpen });
  handle(sock);
}
