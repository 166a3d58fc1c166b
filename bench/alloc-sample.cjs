// Preload (`node --require bench/alloc-sample.cjs …`, or PL_PRELOAD= in relays/postlane-variant.sh):
// V8's sampling heap profiler with the objects that were collected kept in the profile, i.e. what
// was ALLOCATED (--heap-prof keeps only what is still live at the end, useless for garbage).
// Written at exit to $ALLOC_DIR/alloc-<pid>-<start ms>.heapprofile (one per thread: the SQLite
// worker gets its own, the main thread's is the larger); ALLOC_INTERVAL bytes per sample (16384).
// ALLOC_PROMOTED=1 drops what the young generation's scavenges collect: what is left was promoted
// to the old space (or is still live), i.e. what makes the old space grow between major GCs.
// Add --no-turbo-inlining to attribute inlined callees' allocations to themselves, not their caller.
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
const started = Date.now();
session.post('HeapProfiler.enable');
const start = () => session.post('HeapProfiler.startSampling', {
  samplingInterval: Number(process.env.ALLOC_INTERVAL || 16384),
  includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.ALLOC_PROMOTED !== '1',
}, (err) => { if (err) console.error('alloc-sample: could not start', err); });
// ALLOC_ON_SIGNAL=1: sampling starts at the first SIGUSR2 (e.g. after a warm-up), not at the preload (api27).
if (process.env.ALLOC_ON_SIGNAL === '1') process.once('SIGUSR2', start); else start();
process.on('exit', () => {
  session.post('HeapProfiler.stopSampling', (err, r) => {
    if (err) return console.error('alloc-sample:', err);
    fs.writeFileSync(`${process.env.ALLOC_DIR || '.'}/alloc-${process.pid}-${started}.heapprofile`, JSON.stringify(r.profile));
  });
});
