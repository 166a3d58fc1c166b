import { Worker, isMainThread } from 'node:worker_threads';
import fs from 'node:fs';
const anon = () => { const t = fs.readFileSync('/proc/self/smaps_rollup','utf8'); const g = (k) => +t.match(new RegExp('^'+k+':\\s+(\\d+)','m'))[1]; return { rss: g('Rss')/1024|0, anon: (g('Anonymous')/1024).toFixed(1), pss: (g('Pss')/1024).toFixed(1) }; };
const mode = process.argv[2];
if (mode === 'worker') {
  const w = new Worker(`import D from '/work/main/node_modules/better-sqlite3/lib/index.js'; const db = new D(':memory:'); db.exec('create table t(a)'); const s = db.prepare('insert into t values (?)'); for (let i=0;i<20000;i++) s.run('x'.repeat(100)); const {parentPort}=await import('node:worker_threads'); parentPort.postMessage('ok'); setInterval(()=>{},1000);`, { eval: true });
  await new Promise((r) => w.once('message', r));
} else if (mode === 'main') {
  const D = (await import('/work/main/node_modules/better-sqlite3/lib/index.js')).default;
  const db = new D(':memory:'); db.exec('create table t(a)'); const s = db.prepare('insert into t values (?)'); for (let i=0;i<20000;i++) s.run('x'.repeat(100));
}
await new Promise((r) => setTimeout(r, 1500));
console.log(mode, JSON.stringify(anon()));
process.exit(0);
