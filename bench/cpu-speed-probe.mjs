// pgapi25: a fixed piece of CPU work (sha256 of 3 KB, JSON round trips, small allocations) timed every 0.5 s: does the VM's speed move in spells?
//   node bench/cpu-speed-probe.mjs [SECONDS=120] > OUT.jsonl   (one JSON line a probe: t s, wallMs, cpuMs; taskset -c N to pin it)
import { createHash } from 'node:crypto';
const buf = Buffer.alloc(3072, 7); const obj = { a: 'x'.repeat(100), b: [1, 2, 3, 4, 5], c: { d: 'y'.repeat(200), e: true } };
const work = () => { let n = 0; for (let i = 0; i < 4000; i++) { n += createHash('sha256').update(buf).digest()[0]; n += JSON.parse(JSON.stringify(obj)).b.length; } return n; };
for (let i = 0; i < 30; i++) work(); // warm
const secs = Number(process.argv[2] ?? 120); const t0 = Date.now();
while (Date.now() - t0 < secs * 1000) {
  const c0 = process.cpuUsage(); const w0 = performance.now(); work(); const w = performance.now() - w0; const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ t: Math.round((Date.now() - t0) / 100) / 10, wallMs: +w.toFixed(1), cpuMs: +((c.user + c.system) / 1000).toFixed(1) }));
  await new Promise((r) => setTimeout(r, 500));
}
