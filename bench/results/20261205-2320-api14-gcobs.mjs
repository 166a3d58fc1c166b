// Records GC pauses (absolute epoch ms start, duration ms, kind) to GC_FILE at exit.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { appendFileSync } from 'node:fs';
const out = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) out.push([Math.round((performance.timeOrigin + e.startTime) * 10) / 10, Math.round(e.duration * 100) / 100, e.detail?.kind ?? e.kind]); }).observe({ entryTypes: ['gc'] });
process.on('exit', () => { if (process.env.GC_FILE) appendFileSync(process.env.GC_FILE, JSON.stringify(out) + '\n'); });
