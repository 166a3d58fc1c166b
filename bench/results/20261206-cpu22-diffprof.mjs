// node diffprof.mjs A.cpuprofile NA B.cpuprofile NB [N]: self µs a message by function, B − A, through the bundle's maps
import fs from 'node:fs'; import { SourceMap } from 'node:module';
const [fa, na, fb, nb, N] = [process.argv[2], +process.argv[3], process.argv[4], +process.argv[5], +(process.argv[6] ?? 40)];
const maps = new Map();
const mapOf = (u) => { const f = u.replace('file://', ''); if (!maps.has(f)) { try { maps.set(f, new SourceMap(JSON.parse(fs.readFileSync(f + '.map', 'utf8')))); } catch { maps.set(f, null); } } return maps.get(f); };
function self(file, n) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')); const nodes = new Map(p.nodes.map((x) => [x.id, x])); const out = new Map(); let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const cf = nodes.get(p.samples[i]).callFrame; const dt = p.timeDeltas[i];
    if (cf.functionName === '(idle)' || cf.functionName === '(program)') continue;
    busy += dt;
    let key;
    if (cf.url.includes('/dist/bundle/')) { const e = mapOf(cf.url)?.findEntry(cf.lineNumber, cf.columnNumber); key = `${cf.functionName || '(anon)'} ${e?.originalSource ? e.originalSource.split('/').slice(-2).join('/') + ':' + (e.originalLine + 1) : cf.url.split('/').pop()}`; }
    else key = `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}`;
    out.set(key, (out.get(key) ?? 0) + dt / n);
  }
  return { out, busy: busy / n };
}
const A = self(fa, na), B = self(fb, nb);
console.log(`busy µs/msg: A ${A.busy.toFixed(0)}  B ${B.busy.toFixed(0)}  diff ${(B.busy - A.busy).toFixed(0)}`);
const keys = new Set([...A.out.keys(), ...B.out.keys()]);
const rows = [...keys].map((k) => [k, (A.out.get(k) ?? 0), (B.out.get(k) ?? 0)]).sort((x, y) => (y[2] - y[1]) - (x[2] - x[1]));
for (const [k, a, b] of rows.slice(0, N)) console.log(`${(b - a).toFixed(1).padStart(7)}  (${a.toFixed(1)} → ${b.toFixed(1)})  ${k}`);
