// node mapprof.mjs PROFILE BUNDLE_DIR [N]: self time of bundle functions, named through the bundle's source maps
import fs from 'node:fs'; import { SourceMap } from 'node:module';
const [file, dir, N] = [process.argv[2], process.argv[3], Number(process.argv[4] ?? 40)];
const p = JSON.parse(fs.readFileSync(file, 'utf8'));
const nodes = new Map(p.nodes.map((n) => [n.id, n]));
const maps = new Map(); const self = new Map(); let busy = 0;
const mapOf = (u) => { const f = u.replace('file://', ''); if (!maps.has(f)) { try { maps.set(f, new SourceMap(JSON.parse(fs.readFileSync(f + '.map', 'utf8')))); } catch { maps.set(f, null); } } return maps.get(f); };
for (let i = 0; i < p.samples.length; i++) {
  const cf = nodes.get(p.samples[i]).callFrame; const dt = p.timeDeltas[i] / 1000;
  if (cf.functionName === '(idle)' || cf.functionName === '(program)') continue;
  busy += dt;
  let key;
  if (cf.url.includes('/dist/bundle/')) {
    const m = mapOf(cf.url); const e = m?.findEntry(cf.lineNumber, cf.columnNumber);
    key = e && e.originalSource ? `${cf.functionName || '(anon)'} ${e.originalSource.split('/').slice(-2).join('/')}:${e.originalLine + 1}` : `${cf.functionName} ${cf.url.split('/').pop()}`;
  } else key = `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}`;
  self.set(key, (self.get(key) ?? 0) + dt);
}
console.log(`busy ${busy.toFixed(0)} ms`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, N)) console.log(`${v.toFixed(1).padStart(8)} ms ${(100 * v / busy).toFixed(1).padStart(5)} %  ${k}`);
