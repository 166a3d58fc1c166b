// 20261207-clos24-repeats.mjs RUN_DIR V8_LOG [ROWS]: the TurboFan compilations of a traced harness run (relays plugin with
// --trace-opt --trace-deopt --log-code, stdbuf -o0, bench/time-marks.cjs; KEEP_RUN=1), and of them the ones of a function
// compiled before ("repeats"), in the whole run and in the harness's measured window (waiter.ready .. wait.out, as
// bench/compile-window.mjs), split by where the function is (Postlane's dist/src, node_modules, Node's own), with the
// sites compiled most often (source positions from the --log-code log, as jit24's 20261207-jit24-sfi-map.mjs). clos24.
import fs from 'node:fs';
const [dir, v8Log, rows = '25'] = process.argv.slice(2);
const t0 = fs.statSync(`${dir}/waiter.ready`).mtimeMs, t1 = fs.statSync(`${dir}/wait.out`).mtimeMs;
const pos = new Map();
for (const l of fs.readFileSync(v8Log, 'latin1').split('\n')) {
  if (!l.startsWith('code-creation,JS,')) continue;
  const f = l.split(','); const sfi = BigInt(f[f.length - 2]); const name = f.slice(6, f.length - 2).join(',');
  pos.set(sfi, name); pos.set(sfi + 1n, name);
}
const where = (p) => (!p ? 'unknown' : /\/dist\/src\//.test(p) ? 'src' : /node_modules/.test(p) ? 'node_modules' : /node:/.test(p) ? 'node' : 'other');
let now = 0; const seen = new Map(); const sites = new Map();
const acc = { run: { n: 0, again: 0, by: {} }, window: { n: 0, again: 0, by: {} } };
for (const s of fs.readFileSync(`${dir}/relay/log/relay.log`, 'utf8').split('\n')) {
  let m;
  if ((m = /^\[time-mark (\d+)\]/.exec(s))) { now = +m[1]; continue; }
  m = /^\[completed compiling (0x[0-9a-f]+) <JSFunction ([^ >]*) ?\(sfi = (0x[0-9a-f]+)\)>.*\(target TURBOFAN\)( OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms\]/.exec(s);
  if (!m) continue;
  const p = pos.get(BigInt(m[3])) || ''; const key = m[3];
  const c = (seen.get(key) || 0) + 1; seen.set(key, c);
  const inWindow = now >= t0 && now <= t1;
  for (const a of inWindow ? [acc.run, acc.window] : [acc.run]) {
    a.n++;
    if (c > 1) { a.again++; const w = where(p); a.by[w] = (a.by[w] || 0) + 1; }
  }
  const e = sites.get(key) || { n: 0, ms: 0, name: m[2] || '(anon)', p }; e.n++; e.ms += +m[6]; sites.set(key, e);
}
console.log(`window ${((t1 - t0) / 1000).toFixed(1)} s`);
for (const k of ['run', 'window']) console.log(`${k}: TurboFan compilations ${acc[k].n}, repeats ${acc[k].again} ${JSON.stringify(acc[k].by)}`);
const list = [...sites.values()].filter((e) => e.n > 1).sort((a, b) => b.n - a.n);
for (const e of list.slice(0, +rows)) console.log(`${String(e.n).padStart(4)}x ${e.ms.toFixed(0).padStart(5)} ms  ${e.name}  ${e.p.replace(/^.*?(file:\/\/\S*|node:\S*)$/, '$1').replace(/file:\/\/\/\S*?\/(dist\/src|node_modules)\//, '$1/')}`);
