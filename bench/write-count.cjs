// Preload (node --require, or PL_PRELOAD in relays/postlane-variant.sh): counts the relay's socket
// writes at the handle level (net.Socket#_writeGeneric: single writes and vectored ones, each one
// syscall when the socket is not already busy) and writes them every second and at exit to
// $MEM_SAMPLE_DIR/wcount-PID.json. Used for the delivery write coalescing (bench/README.md,
// 2026-12-05, helper smtp).
const net = require('node:net');
const fs = require('node:fs');
const orig = net.Socket.prototype._writeGeneric;
const c = { single: 0, vectored: 0 };
net.Socket.prototype._writeGeneric = function (writev, data, encoding, cb) {
  if (writev) c.vectored++; else c.single++;
  return orig.call(this, writev, data, encoding, cb);
};
const dump = () => { try { fs.writeFileSync(`${process.env.MEM_SAMPLE_DIR || '/tmp'}/wcount-${process.pid}.json`, JSON.stringify(c)); } catch { /* best effort */ } };
process.on('exit', dump);
setInterval(dump, 1000).unref();
