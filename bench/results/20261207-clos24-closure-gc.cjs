// 20261207-clos24-closure-gc.cjs: why V8 compiles a per-message closure again (helper clos24, twenty-fourth session).
// Run: node bench/results/20261207-clos24-closure-gc.cjs  (it starts `node --expose-gc --trace-opt` on itself per case and
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
const N = 40000, EVERY = 2000, DELAY = +(process.env.DELAY || 4);
// Each handler has its loop in its own body: V8's tier-up budget is counted per function, and a one-line handler that
// calls a shared helper would take far more calls to be optimised again than there are between two collections.
const queue = [];
let keep = null, total = 0; const old = [];
function replyBound(k, s) { let h = k; for (let j = 0; j < s.length; j++) h = (h * 31 + s.charCodeAt(j)) | 0; return h; }                  // bound: replyBound.bind(null, k)
class Conn { k = 0; onReply(s) { let h = this.k; for (let j = 0; j < s.length; j++) h = (h * 31 + s.charCodeAt(j)) | 0; return h; } }       // method: one object for every message
const conn = new Conn();
const makers = {
  closure(k) { const onReply = (s) => { let h = k; for (let j = 0; j < s.length; j++) h = (h * 31 + s.charCodeAt(j)) | 0; return h; }; queue.push(onReply); },
  nested(k) { const perMessage = () => { const onReply = (s) => { let h = k; for (let j = 0; j < s.length; j++) h = (h * 31 + s.charCodeAt(j)) | 0; return h; }; queue.push(onReply); }; perMessage(); },
  kept(k) { const onReply = (s) => { let h = k; for (let j = 0; j < s.length; j++) h = (h * 31 + s.charCodeAt(j)) | 0; return h; }; queue.push(onReply); },
  bound(k) { queue.push(replyBound.bind(null, k)); },
  method(k) { conn.k = k; queue.push(null); },
};
function run(mode, gcMode) {
  const make = makers[mode];
  for (let i = 0; i < N; i++) {
    make(i);
    if (queue.length >= DELAY) {        // replies arrive DELAY messages later
      total += dispatch(mode, '250 2.0.0 Ok: queued as ' + i);
    }
    if (gcMode === 'full' && i % EVERY === EVERY - 1) globalThis.gc();
    if (gcMode === 'alloc') { old.push(new Array(50).fill(i)); if (old.length > 20000) old.length = 0; }
  }
  return total;
}
// The caller stays unoptimised (as nodemailer's megamorphic `action.call(this, str)`): an optimised caller would inline the
// handler, whose own code would then not be needed.
// The handler is taken and called here, not in run(): run's frame lives throughout, and a handler left in one of its
// registers would keep the optimised code alive, as `kept` does on purpose.
function dispatch(mode, s) {
  const f = queue.shift();
  const r = f === null ? conn.onReply(s) : f(s);
  if (mode === 'kept') keep = f;     // the last handler called stays reachable
  return r;
}
if (process.argv[2]) { eval('%NeverOptimizeFunction(run); %NeverOptimizeFunction(dispatch)'); run(process.argv[2], process.argv[3]); process.exit(0); }
console.log(`node ${process.version}; ${N} messages; full gc() every ${EVERY} (${N / EVERY} collections) or none`);
for (const gcMode of ['full', 'none', 'alloc']) {
  for (const mode of Object.keys(makers)) {
    const out = execFileSync(process.execPath, ['--max-semi-space-size=2', '--heap-growing-percent=30', '--expose-gc', '--allow-natives-syntax', '--trace-opt', '--trace-gc', __filename, mode, gcMode], { encoding: 'utf8' });
    const mcs = out.split('\n').filter((l) => / Mark-Compact /.test(l)).length;
    const fn = mode === 'bound' ? 'replyBound' : 'onReply';
    const compiled = out.split('\n').filter((l) => l.startsWith('[completed compiling') && l.includes(`<JSFunction ${fn} `) && !l.includes('OSR'));
    const closures = new Set(compiled.map((l) => l.split(' ')[2]));
    console.log(`gc=${gcMode.padEnd(4)} ${mode.padEnd(7)} TurboFan compilations of ${fn}: ${compiled.length} (${closures.size} distinct JSFunctions); mark-compacts ${mcs}`);
  }
}
