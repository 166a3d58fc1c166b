// 20261207-clos24-closure-gc.js: why V8 compiles a per-message closure again (helper clos24, twenty-fourth session).
// Run: node bench/results/20261207-clos24-closure-gc.js  (it starts `node --expose-gc --trace-opt` on itself per case and
// counts the TurboFan compilations of the hot function `onReply`). A "message" makes a reply handler, which is queued and
// called once a little later (as nodemailer's response actions, a promise's .then callback, a socket listener), then dropped.
//   closure: an arrow made per message              nested: made inside another closure made per message
//   kept:    as closure, the last one called is kept alive     bound: a module-level function, bind() per message
//   method:  a method of one long-lived object, per-message state in a field
// GC=full: a full (atomic) gc() every 2,000 messages; GC=none: no forced collection (scavenges only, small heap);
// GC=alloc: no forced collection, but each message keeps an array for a while (old-generation growth: V8's own
// incremental mark-compacts, under the launcher's --max-semi-space-size=2 --heap-growing-percent=30).
'use strict';
const { execFileSync } = require('node:child_process');
const N = 40000, EVERY = 2000;
function work(s, k) { let h = k; for (let j = 0; j < s.length; j++) h = (h * 31 + s.charCodeAt(j)) | 0; return h; }
const queue = [];
let keep = null, total = 0; const old = [];
function replyBound(k, s) { return work(s, k); }                  // bound: replyBound.bind(null, k)
class Conn { k = 0; onReply(s) { return work(s, this.k); } }       // method: one object for every message
const conn = new Conn();
const makers = {
  closure(k) { const onReply = (s) => work(s, k); queue.push(onReply); },
  nested(k) { const perMessage = () => { const onReply = (s) => work(s, k); queue.push(onReply); }; perMessage(); },
  kept(k) { const onReply = (s) => work(s, k); queue.push(onReply); },
  bound(k) { queue.push(replyBound.bind(null, k)); },
  method(k) { conn.k = k; queue.push(null); },
};
function run(mode, gcMode) {
  const make = makers[mode];
  for (let i = 0; i < N; i++) {
    make(i);
    if (queue.length >= 4) {            // replies arrive a few messages later
      const f = queue.shift();
      total += f === null ? conn.onReply('250 2.0.0 Ok: queued as ' + i) : f('250 2.0.0 Ok: queued as ' + i);
      if (mode === 'kept') keep = f;     // the last handler called stays reachable
    }
    if (gcMode === 'full' && i % EVERY === EVERY - 1) globalThis.gc();
    if (gcMode === 'alloc') { old.push(new Array(50).fill(i)); if (old.length > 20000) old.length = 0; }
  }
  return total;
}
if (process.argv[2]) { run(process.argv[2], process.argv[3]); process.exit(0); }
console.log(`node ${process.version}; ${N} messages; full gc() every ${EVERY} (${N / EVERY} collections) or none`);
for (const gcMode of ['full', 'none', 'alloc']) {
  for (const mode of Object.keys(makers)) {
    const out = execFileSync(process.execPath, ['--max-semi-space-size=2', '--heap-growing-percent=30', '--expose-gc', '--trace-opt', '--trace-gc', __filename, mode, gcMode], { encoding: 'utf8' });
    const mcs = out.split('\n').filter((l) => / Mark-Compact /.test(l)).length;
    const fn = mode === 'bound' ? 'replyBound' : 'onReply';
    const compiled = out.split('\n').filter((l) => l.startsWith('[completed compiling') && l.includes(`<JSFunction ${fn} `) && !l.includes('OSR'));
    const closures = new Set(compiled.map((l) => l.split(' ')[2]));
    console.log(`gc=${gcMode.padEnd(4)} ${mode.padEnd(7)} TurboFan compilations of ${fn}: ${compiled.length} (${closures.size} distinct JSFunctions); mark-compacts ${mcs}`);
  }
}
