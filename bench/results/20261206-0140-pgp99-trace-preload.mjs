// Diagnostic preload for the relay (api-server): per-request phase times (globalThis.__plTrace, filled by the
// trace patch) and GC pauses, written as JSON to PL_TRACE_FILE at exit, times as epoch ms.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
const file = process.env.PL_TRACE_FILE;
if (file) {
  globalThis.__plTrace = new Map();
  const gc = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) gc.push([performance.timeOrigin + e.startTime, e.duration, e.detail?.kind]); }).observe({ entryTypes: ['gc'] });
  process.on('exit', () => {
    const o = performance.timeOrigin;
    const reqs = [];
    for (const [id, r] of globalThis.__plTrace) {
      const x = { id };
      for (const [k, v] of Object.entries(r)) x[k] = (k === 'batchSize' || k === 'inFlight') ? v : o + v;
      reqs.push(x);
    }
    writeFileSync(`${file}-${process.pid}.json`, JSON.stringify({ reqs, gc }));
  });
}
