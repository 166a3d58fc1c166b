// node stmt-mem.mjs ROOT prep-w*.json : anonymous memory of opening the store's connections and of preparing the texts
import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
const root = process.argv[2]; const texts = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const anon = () => { const t = fs.readFileSync('/proc/self/smaps_rollup','utf8'); return +t.match(/^Anonymous:\s+(\d+)/m)[1]; };
const { openConnections } = await import(`${root}/dist/src/store/sqlite/connections.js`);
const { DEFAULT_BREAKER_POLICY } = await import(`${root}/dist/src/store/breaker-rules.js`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mem24-sm-'));
const a0 = anon();
const { writer, reader } = openConnections({ dbPath: dir + '/q.db', spoolDir: dir, sweepOrphans: false, orphanAgeMs: 1, softBounces: { count: 3, windowMs: 1e9 }, breakers: DEFAULT_BREAKER_POLICY });
writer.prepare('select 1 from queued_message limit 1').get(); reader.prepare('select 1 from queued_message limit 1').get();
const a1 = anon();
const conns = {}; const keep = [];
let nw = 0, nr = 0;
for (const k of texts) { const [id, s] = k.split('\t'); const db = id.endsWith('r') ? reader : writer; try { keep.push(db.prepare(s)); id.endsWith('r') ? nr++ : nw++; } catch (e) { console.error('prep fail', id, s.slice(0, 80), e.message); } }
const a2 = anon();
console.log(`open both connections (schema): ${(a1 - a0)} KB; ${nw} writer + ${nr} reader statements: ${(a2 - a1)} KB (${((a2 - a1) / (nw + nr)).toFixed(1)} KB each)`);
