import D from '/work/main/node_modules/better-sqlite3/lib/index.js';
import fs from 'node:fs';
const dir = fs.mkdtempSync('/tmp/wm/db-'); const p = dir + '/q.db';
const db = new D(p); db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL'); db.pragma('temp_store = MEMORY'); db.pragma('cache_size = -2048');
if (process.argv[3]) db.pragma('wal_autocheckpoint = ' + process.argv[3]);
db.exec('create table m(id integer primary key, st int, body blob); create index m_st on m(st)');
const ins = db.prepare('insert into m(st, body) values (0, ?)'); const upd = db.prepare('update m set st = 1, body = null where id = ?');
const size = +process.argv[2] * 1024; const body = Buffer.alloc(size, 120);
let fd = null; const times = []; let n = 0;
const t0 = process.hrtime.bigint();
for (let b = 0; b < 2000; b++) {
  const s = process.hrtime.bigint();
  db.exec('BEGIN IMMEDIATE');
  for (let k = 0; k < 4; k++) { const r = ins.run(body); n++; if (n > 8) upd.run(n - 8); }
  db.exec('COMMIT');
  const c = process.hrtime.bigint();
  fd ??= fs.openSync(p + '-wal', 'r'); fs.fsyncSync(fd);
  const e = process.hrtime.bigint();
  times.push([Number(c - s) / 1e6, Number(e - c) / 1e6]);
}
const tot = Number(process.hrtime.bigint() - t0) / 1e6;
const commits = times.map((t) => t[0]).sort((a, b) => a - b); const syncs = times.map((t) => t[1]).sort((a, b) => a - b);
const q = (a, f) => a[Math.floor(a.length * f)].toFixed(2);
const slow = times.filter((t) => t[0] > 2);
console.log(`size ${size/1024}K total ${tot.toFixed(0)} ms; commit p50 ${q(commits,.5)} p99 ${q(commits,.99)} max ${commits.at(-1).toFixed(1)}; commits>2ms ${slow.length} summing ${slow.reduce((a,t)=>a+t[0],0).toFixed(0)} ms; walsync p50 ${q(syncs,.5)} p99 ${q(syncs,.99)} sum ${syncs.reduce((a,b)=>a+b,0).toFixed(0)}`);
fs.rmSync(dir, { recursive: true });
