// Preload for a memory diagnosis (bench/README.md "Memory"): `node --require bench/mem-sample.cjs …`
// with MEM_SAMPLE_DIR set writes, every 500 ms, one JSON line per isolate (the main thread and the
// SQLite worker, files heap-main-PID.jsonl / heap-wN-PID.jsonl): process.memoryUsage() and V8's heap
// spaces (KB); the main thread adds its thread count, PSS and anonymous memory (smaps_rollup).
const { isMainThread, threadId } = require('node:worker_threads');
const v8 = require('node:v8'); const fs = require('node:fs');
const dir = process.env.MEM_SAMPLE_DIR;
if (dir) {
  const file = `${dir}/heap-${isMainThread ? 'main' : 'w' + threadId}-${process.pid}.jsonl`;
  const t0 = Date.now();
  const sample = () => {
    const m = process.memoryUsage();
    const sp = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace('_space', ''), Math.round(s.physical_space_size / 1024)]));
    let extra = {};
    if (isMainThread) {
      const st = fs.readFileSync('/proc/self/status', 'utf8');
      const roll = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
      const g = (re, s) => Number((re.exec(s) || [])[1]);
      extra = { threads: g(/Threads:\s+(\d+)/, st), pss: g(/^Pss:\s+(\d+)/m, roll), anon: g(/^Anonymous:\s+(\d+)/m, roll) };
    }
    fs.appendFileSync(file, JSON.stringify({ t: Date.now() - t0, rss: m.rss >> 10, heapTotal: m.heapTotal >> 10, heapUsed: m.heapUsed >> 10, ext: m.external >> 10, ab: m.arrayBuffers >> 10, ...sp, ...extra }) + '\n');
  };
  setInterval(sample, 500).unref();
}
