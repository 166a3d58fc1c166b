// api18 diagnostic preload (not product): --import this file into api-server's relay.
// TRACE_OUT=dir, TRACE_ROOT=dist root. Main thread: per request (socket, t_req, t_fin, submit, sign, put),
// GC entries, event-loop lateness (2 ms timer chain). Worker threads: COMMIT and WAL fsync times.
import { isMainThread, threadId } from 'node:worker_threads';
import { appendFileSync } from 'node:fs';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { performance, PerformanceObserver } from 'node:perf_hooks';
const OUT = process.env.TRACE_OUT;
const now = () => performance.timeOrigin + performance.now();
const buf = [];
const file = `${OUT}/t${threadId}-${process.pid}.jsonl`;
const flush = () => { if (buf.length) { appendFileSync(file, buf.map((r) => JSON.stringify(r)).join('\n') + '\n'); buf.length = 0; } };
const rec = (r) => { buf.push(r); if (buf.length >= 500) flush(); };
if (!isMainThread) {
  const fsync = fs.fsyncSync;
  fs.fsyncSync = function (fd) { const a = now(); const r = fsync.call(this, fd); rec({ k: 'fsync', a, b: now() }); return r; };
  try {
    const req = createRequire(process.env.TRACE_ROOT + '/');
    const DB = req('better-sqlite3');
    const exec = DB.prototype.exec;
    DB.prototype.exec = function (sql) { if (sql !== 'COMMIT') return exec.call(this, sql); const a = now(); const r = exec.call(this, sql); rec({ k: 'commit', a, b: now() }); return r; };
  } catch (e) { rec({ k: 'err', e: String(e) }); }
  setInterval(flush, 200).unref();
} else {
  const { AsyncLocalStorage } = await import('node:async_hooks');
  const http = await import('node:http');
  const als = new AsyncLocalStorage();
  globalThis.__api18als = als;
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (ev, req, res) {
    if (ev !== 'request') return emit.apply(this, arguments);
    const r = { k: 'req', s: req.socket.remotePort, q: now() };
    res.on('finish', () => { r.f = now(); rec(r); });
    return als.run(r, () => emit.call(this, ev, req, res));
  };
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) rec({ k: 'gc', a: performance.timeOrigin + e.startTime, d: e.duration, t: e.detail?.kind }); });
  obs.observe({ entryTypes: ['gc'] });
  let exp = now() + 2;
  const tick = () => { const t = now(); if (t - exp > 3) rec({ k: 'late', a: exp, d: t - exp }); exp = t + 2; setTimeout(tick, 2).unref(); };
  setTimeout(tick, 2).unref();
  setInterval(flush, 500).unref();
  process.on('exit', flush);
  const wrap = async (rel, cls, meth, key) => {
    try {
      const m = await import(process.env.TRACE_ROOT + '/' + rel);
      const C = m[cls]; const orig = C.prototype[meth];
      C.prototype[meth] = async function (...args) {
        const r = als.getStore(); const a = now();
        try { return await orig.apply(this, args); } finally { if (r) (r[key] ??= []).push([a, now()]); }
      };
    } catch (e) { rec({ k: 'err', e: String(e), rel }); }
  };
  await wrap('src/ingress/http/submission.js', 'HttpSubmission', 'submit', 'sub');
  await wrap('src/domains/message-signer.js', 'MessageSigner', 'sign', 'sign');
  await wrap('src/store/sqlite/sqlite-store.js', 'SqliteQueueStore', 'putCheckingSuppressions', 'put');
  await wrap('src/store/sqlite/sqlite-store.js', 'SqliteQueueStore', 'put', 'put');
  await wrap('src/store/postgres/postgres-store.js', 'PostgresQueueStore', 'putCheckingSuppressions', 'put');
  await wrap('src/store/postgres/postgres-store.js', 'PostgresQueueStore', 'put', 'put');
}
