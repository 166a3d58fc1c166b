// Preload (`node --require bench/gc-external.cjs …`, e.g. BENCH_POSTLANE_NODE="node --max-semi-space-size=2
// --heap-growing-percent=30 --require …" with relays/postlane.sh): the main thread's GCs as Node reports them
// (perf_hooks 'gc' entries: scavenges and mark-compacts, count and pause ms) and its ArrayBuffer bytes
// (process.memoryUsage().arrayBuffers: mean and max, sampled every 20 ms, and at each GC). With GCAB_DIR set, writes
// GCAB_DIR/gcab-PID.json every 2 s and at exit. Used by helper large13 (bench/README.md, thirteenth session).
const { isMainThread } = require('node:worker_threads');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const fs = require('node:fs');
if (isMainThread && process.env.GCAB_DIR) {
  const st = { scav: 0, mc: 0, scavMs: 0, mcMs: 0, abSum: 0, abN: 0, abMax: 0, extMax: 0, mcDropSum: 0, gcs: [] };
  let lastAb = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const m = process.memoryUsage();
      const kind = e.detail ? e.detail.kind : e.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) { st.mc++; st.mcMs += e.duration; }
      else { st.scav++; st.scavMs += e.duration; }
      st.gcs.push([Math.round(e.startTime), kind, Math.round(e.duration * 10) / 10, m.arrayBuffers >> 10, m.heapUsed >> 10]);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const t = setInterval(() => { const ab = process.memoryUsage().arrayBuffers; st.abSum += ab; st.abN++; if (ab > st.abMax) st.abMax = ab; }, 20); t.unref();
  const dump = () => {
    fs.writeFileSync(`${process.env.GCAB_DIR}/gcab-${process.pid}.json`, JSON.stringify({ ...st, abMeanKB: Math.round(st.abSum / Math.max(1, st.abN) / 1024), abMaxKB: st.abMax >> 10 }));
  };
  process.on('exit', dump);
  process.on('SIGTERM', () => { dump(); });
  setInterval(dump, 2000).unref();
}
