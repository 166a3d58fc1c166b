// preload: logs every SQL text prepared by better-sqlite3 per connection (readonly or not), per thread
const dir = process.env.MEM_SAMPLE_DIR;
if (dir) {
  const wt = require('node:worker_threads'); const fs = require('node:fs');
  const Database = require('/work/main/node_modules/better-sqlite3');
  const orig = Database.prototype.prepare;
  const texts = new Map(); let n = 0; const ids = new WeakMap();
  Database.prototype.prepare = function (s) { let id = ids.get(this); if (id === undefined) ids.set(this, id = `${n++}${this.readonly ? 'r' : 'w'}`); const k = id + '\t' + s; texts.set(k, (texts.get(k) || 0) + 1); return orig.call(this, s); };
  const file = `${dir}/prep-${wt.isMainThread ? 'main' : 'w' + wt.threadId}-${process.pid}.json`;
  setInterval(() => fs.writeFileSync(file, JSON.stringify([...texts.keys()])), 1000).unref();
}
// heap snapshot of the worker isolate once, when $MEM_SAMPLE_DIR/snap exists
if (process.env.MEM_SAMPLE_DIR && !require('node:worker_threads').isMainThread) {
  const fs = require('node:fs'); const v8 = require('node:v8'); const d = process.env.MEM_SAMPLE_DIR; let done = false;
  setInterval(() => { if (!done && fs.existsSync(d + '/snap')) { done = true; v8.writeHeapSnapshot(d + '/worker.heapsnapshot'); } }, 200).unref();
}
