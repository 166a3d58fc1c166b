// 20261207-jit24-sfi-map.mjs RELAY_LOG V8_LOG: the functions --trace-opt shows compiled more than once, with their
// source positions from a --log-code log of the same process (code-creation lines carry the SharedFunctionInfo),
// and how many distinct closures (JSFunction addresses) were compiled. One-off (jit24, twenty-fourth session).
import fs from 'node:fs';
const [relayLog, v8Log] = process.argv.slice(2);
const pos = new Map();
for (const l of fs.readFileSync(v8Log, 'latin1').split('\n')) {
  if (!l.startsWith('code-creation,JS,')) continue;
  const f = l.split(','); const sfi = f[f.length - 2]; const name = f.slice(6, f.length - 2).join(',');
  const n = BigInt(sfi); pos.set(n, name); pos.set(n + 1n, name);
}
const comp = new Map();
for (const l of fs.readFileSync(relayLog, 'utf8').split('\n')) {
  const m = /^\[completed compiling (0x[0-9a-f]+) <JSFunction ([^ >]*) ?\(sfi = (0x[0-9a-f]+)\)>.*took ([\d.]+), ([\d.]+)/.exec(l);
  if (!m) continue;
  const k = m[3]; const e = comp.get(k) || { n: 0, ms: 0, closures: new Set(), name: m[2] };
  e.n++; e.ms += +m[5]; e.closures.add(m[1]); comp.set(k, e);
}
const rows = [...comp.entries()].filter(([, e]) => e.n > 1).sort((a, b) => b[1].n - a[1].n);
let total = 0, extra = 0;
for (const [, e] of comp) { total += e.n; extra += e.n - 1; }
console.log(`compilations ${total}, of functions compiled before ${extra}`);
for (const [sfi, e] of rows.slice(0, 30)) console.log(`${String(e.n).padStart(3)}x ${String(e.closures.size).padStart(3)} closures ${e.ms.toFixed(0).padStart(5)} ms  ${e.name || '(anon)'}  ${pos.get(BigInt(sfi)) || '?'}`);
