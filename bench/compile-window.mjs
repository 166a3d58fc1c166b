// compile-window.mjs RUN_DIR: a harness run kept with KEEP_RUN=1 under the relays plugin that adds --trace-opt
// --trace-deopt, stdbuf -o0 and bench/time-marks.cjs (bench/README.md, twenty-fourth session, jit24). Splits the
// TurboFan compilations (count, OSR, sum of the background 'execute' phases, functions compiled again) and the
// deoptimisations into start-up + warm-up and the measured window (waiter.ready's mtime .. the last sink delivery,
// taken as wait.out's mtime), and lists the window's compilations by execute time.
import fs from 'node:fs';
const dir = process.argv[2];
const t0 = fs.statSync(`${dir}/waiter.ready`).mtimeMs, t1 = fs.statSync(`${dir}/wait.out`).mtimeMs;
const lines = fs.readFileSync(`${dir}/relay/log/relay.log`, 'utf8').split('\n');
let now = 0; const phase = (t) => (t < t0 ? 'before' : t <= t1 ? 'window' : 'after');
const acc = { before: { n: 0, osr: 0, ms: 0, deopt: 0, marks: 0 }, window: { n: 0, osr: 0, ms: 0, deopt: 0, marks: 0 }, after: { n: 0, osr: 0, ms: 0, deopt: 0, marks: 0 } };
const seen = new Map(); const windowList = []; let again = 0; const reasons = {};
for (const s of lines) {
  let m;
  if ((m = /^\[time-mark (\d+)\]/.exec(s))) { now = +m[1]; continue; }
  const p = phase(now);
  if ((m = /^\[marking .*reason: ([^\]]+)\]/.exec(s))) { acc[p].marks++; if (p === 'window') reasons[m[1]] = (reasons[m[1]] || 0) + 1; continue; }
  if ((m = /^\[completed compiling .*<JSFunction ([^ >]*) ?\(sfi = (0x[0-9a-f]+)\)>.*\(target TURBOFAN\)( OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms\]/.exec(s))) {
    const k = m[1] + '@' + m[2]; const c = (seen.get(k) || 0) + 1; seen.set(k, c);
    acc[p].n++; acc[p].ms += +m[5]; if (m[3]) acc[p].osr++;
    if (p === 'window') { windowList.push([+m[5], m[1] || '(anon)', c > 1 ? `again (#${c})` : '', m[3] ? 'OSR' : '']); if (c > 1) again++; }
    continue;
  }
  if (/^\[bailout \(kind: deopt/.test(s)) acc[p].deopt++;
}
console.log(`window ${((t1 - t0) / 1000).toFixed(1)} s`);
for (const p of ['before', 'window', 'after']) console.log(`${p}: TurboFan compilations ${acc[p].n} (OSR ${acc[p].osr}), execute ${acc[p].ms.toFixed(0)} ms, deopts ${acc[p].deopt}, markings ${acc[p].marks}`);
console.log(`window: compilations of functions already compiled before ${again}; marking reasons ${JSON.stringify(reasons)}`);
windowList.sort((a, b) => b[0] - a[0]);
for (const w of windowList.slice(0, +(process.argv[3] || 30))) console.log(`  ${w[0].toFixed(1).padStart(7)} ms ${w[1]} ${w[2]} ${w[3]}`);
