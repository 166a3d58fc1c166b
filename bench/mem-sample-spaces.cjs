// bench/mem-sample.cjs with used sizes (bench/README.md, twentieth session, helper mem20): `node --require
// bench/mem-sample-spaces.cjs …` with MEM_SAMPLE_DIR set writes, every 250 ms, one JSON line per isolate: committed
// (KB, e.g. "old") and used ("oldU") size of each V8 space, external and arrayBuffers; the main thread adds PSS and
// anonymous memory, and `kept`/`keptN` if a diagnostic build sets globalThis.__kept/__keptN (KeptBodies' bytes/count).
const { isMainThread, threadId } = require('node:worker_threads');
const v8 = require('node:v8'); const fs = require('node:fs');
const dir = process.env.MEM_SAMPLE_DIR;
if (dir) {
  const file = `${dir}/heap-${isMainThread ? 'main' : 'w' + threadId}-${process.pid}.jsonl`;
  const t0 = Date.now();
  const sample = () => {
    const m = process.memoryUsage();
    const sp = {};
    for (const s of v8.getHeapSpaceStatistics()) { const n = s.space_name.replace('_space', ''); sp[n] = Math.round(s.physical_space_size / 1024); sp[n + 'U'] = Math.round(s.space_used_size / 1024); }
    let extra = {};
    if (isMainThread) {
      const st = fs.readFileSync('/proc/self/status', 'utf8');
      const roll = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
      const g = (re, s) => Number((re.exec(s) || [])[1]);
      extra = { threads: g(/Threads:\s+(\d+)/, st), pss: g(/^Pss:\s+(\d+)/m, roll), anon: g(/^Anonymous:\s+(\d+)/m, roll), kept: (globalThis.__kept ?? 0) >> 10, keptN: globalThis.__keptN ?? 0 };
    }
    fs.appendFileSync(file, JSON.stringify({ t: Date.now() - t0, rss: m.rss >> 10, heapTotal: m.heapTotal >> 10, heapUsed: m.heapUsed >> 10, ext: m.external >> 10, ab: m.arrayBuffers >> 10, ...sp, ...extra }) + '\n');
  };
  setInterval(sample, 250).unref();
}
