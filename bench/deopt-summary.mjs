// deopt-summary.mjs LOG ROOT: reads a relay's stdout run with --trace-opt --trace-deopt-verbose (bench/README.md,
// twenty-third session) and prints the TurboFan compilations (count, the sum of their background 'execute' phases),
// the eager deoptimisations by reason, and each one's function and source position mapped back through
// ROOT/dist/bundle/*.map and dist/src/*.map to the TypeScript; then the functions compiled more than once.
// ROOT: the checkout the relay ran from.
import fs from 'node:fs';
import path from 'node:path';
import { SourceMap } from 'node:module';
const [log, root] = process.argv.slice(2);
const text = fs.readFileSync(log, 'utf8');
const lines = text.split('\n');
const maps = new Map();
function loadMap(file) {
  if (maps.has(file)) return maps.get(file);
  let m = null;
  try { m = new SourceMap(JSON.parse(fs.readFileSync(file + '.map', 'utf8'))); } catch {}
  maps.set(file, m); return m;
}
function mapPos(file, line, col) { // 1-based line, 1-based col as V8 prints
  let f = file, l = line - 1, c = col - 1;
  for (let hop = 0; hop < 3; hop++) {
    const m = loadMap(f); if (!m) break;
    const e = m.findEntry(l, c);
    if (!e || !e.originalSource) break;
    let src = e.originalSource; if (src.startsWith('file://')) src = new URL(src).pathname;
    else if (!path.isAbsolute(src)) src = path.resolve(path.dirname(f), src);
    f = src; l = e.originalLine; c = e.originalColumn;
    if (f.endsWith('.ts')) break;
  }
  return `${path.relative(root, f)}:${l + 1}:${c + 1}`;
}
const nameOf = (s) => { const m = /<JSFunction ([^ >]*) ?\(sfi = (0x[0-9a-f]+)\)>/.exec(s); return m ? (m[1] || '(anon)') : '?'; };
let compiles = 0, osr = 0, exec = 0; const compiledBy = new Map();
const deopts = []; let cur = null;
for (let i = 0; i < lines.length; i++) {
  const s = lines[i];
  let m;
  if ((m = /^\[completed compiling .*\(target TURBOFAN\)( OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms\]/.exec(s))) {
    compiles++; if (m[1]) osr++; exec += +m[3];
    const sfi = /\(sfi = (0x[0-9a-f]+)\)/.exec(s)[1]; const k = nameOf(s) + '@' + sfi;
    compiledBy.set(k, (compiledBy.get(k) || 0) + 1);
  } else if ((m = /^\[bailout \(kind: ([^,]+), reason: ([^)]*)\): begin\. deoptimizing (.*?), (?:0x[0-9a-f]+ <Code TURBOFAN>, )?opt id (\d+), bytecode offset (\d+)/.exec(s))) {
    cur = { kind: m[1], reason: m[2], fn: nameOf(m[3]), off: m[5], at: '' }; deopts.push(cur);
  } else if (cur && (m = /;;; deoptimize at (.*)$/.exec(s))) {
    cur.at = m[1].split(' inlined at ').map((p) => { const q = /<(.*):(\d+):(\d+)>/.exec(p); if (!q) return p; if (!q[1].startsWith('file://')) return `${q[1]}:${q[2]}:${q[3]}`; return mapPos(new URL(q[1]).pathname, +q[2], +q[3]); }).join(' <- ');
    cur = null;
  }
}
const byReason = {}; for (const d of deopts) byReason[d.reason] = (byReason[d.reason] || 0) + 1;
const invalidated = lines.filter((l) => l.includes('marking dependent code')).length;
console.log(`TurboFan compilations ${compiles} (OSR ${osr}), execute phases ${(exec / 1000).toFixed(2)} s; deopts ${deopts.length}; code invalidated by a dependency (lazy) ${invalidated}`);
console.log('deopts by reason: ' + Object.entries(byReason).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', '));
const agg = new Map();
for (const d of deopts) { const k = `${d.reason} | ${d.kind} | ${d.fn} | ${d.at}`; agg.set(k, (agg.get(k) || 0) + 1); }
console.log('\n# deopts (reason | kind | function | position (innermost <- inlined at ...)) x count');
for (const [k, n] of [...agg].sort((a, b) => b[1] - a[1])) console.log(`${n}x ${k}`);
console.log('\n# functions compiled more than once');
console.log([...compiledBy].filter(([, n]) => n > 1).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k.split('@')[0]}x${n}`).join(' '));
