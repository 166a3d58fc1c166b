// A --require hook (PL_PRELOAD in relays/postlane-variant.sh, or node --require) that counts, in every
// thread of the relay, the SQLite statements better-sqlite3 runs (by SQL text, with their time) and
// the values structured-cloned between the main thread and the SQLite worker (by request op, both
// directions: the number of values a serializer walks, as ValueSerializer::WriteObject is called per
// value). It writes STMT_COUNT_DIR/<pid>-<thread>.json every 500 ms; bench/stmt-count.py diffs two
// snapshots and divides by the messages. Only measurement: nothing here changes what the relay does.
'use strict';
const dir = process.env.STMT_COUNT_DIR;
if (dir) {
  const fs = require('node:fs');
  const path = require('node:path');
  const wt = require('node:worker_threads');
  const root = process.env.STMT_COUNT_ROOT || process.cwd();
  const stmts = new Map(); // sql -> [count, ns]
  const clones = new Map(); // key -> [messages, values]
  const bump = (map, key, a, b) => { const v = map.get(key); if (v) { v[0] += a; v[1] += b; } else map.set(key, [a, b]); };
  const countValues = (v, seen) => {
    if (v === null || typeof v !== 'object') return 1;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return 1;
    if (seen.has(v)) return 1;
    seen.add(v);
    let n = 1;
    if (Array.isArray(v)) for (const x of v) n += countValues(x, seen);
    else if (v instanceof Map) for (const [k, x] of v) n += countValues(k, seen) + countValues(x, seen);
    else for (const k of Object.keys(v)) n += 1 + countValues(v[k], seen); // the key string, the value
    return n;
  };
  try {
    const Database = require(require.resolve('better-sqlite3', { paths: [root] }));
    const probe = new Database(':memory:');
    const proto = Object.getPrototypeOf(probe.prepare('SELECT 1'));
    for (const name of ['run', 'get', 'all']) {
      const orig = proto[name];
      proto[name] = function (...args) {
        const t = process.hrtime.bigint();
        try { return orig.apply(this, args); } finally { bump(stmts, this.source, 1, Number(process.hrtime.bigint() - t)); }
      };
    }
    const origIter = proto.iterate;
    proto.iterate = function (...args) { bump(stmts, this.source, 1, 0); return origIter.apply(this, args); };
    const dbProto = Object.getPrototypeOf(probe);
    const origExec = dbProto.exec;
    dbProto.exec = function (text) {
      const t = process.hrtime.bigint();
      try { return origExec.call(this, text); } finally { bump(stmts, `exec: ${text}`, 1, Number(process.hrtime.bigint() - t)); }
    };
    probe.close();
  } catch (err) { process.stderr.write(`stmt-count: ${err && err.message}\n`); }
  // Requests (main thread) and responses (the worker thread), attributed to their op by id.
  const opOf = new Map();
  const countMsg = (dirn, msg) => {
    const reqs = Array.isArray(msg) ? msg : [msg];
    for (const r of reqs) {
      if (!r || typeof r !== 'object') continue;
      let op = r.op;
      if (op !== undefined && r.id !== undefined) opOf.set(r.id, op);
      if (op === undefined && r.id !== undefined) { op = opOf.get(r.id) ?? '?'; opOf.delete(r.id); }
      bump(clones, `${dirn} ${op}`, 1, countValues(r, new Set()));
    }
  };
  if (wt.isMainThread) {
    const origPost = wt.Worker.prototype.postMessage;
    wt.Worker.prototype.postMessage = function (msg, ...rest) { countMsg('req', msg); return origPost.call(this, msg, ...rest); };
    const origEmit = wt.Worker.prototype.emit;
    wt.Worker.prototype.emit = function (ev, msg, ...rest) { if (ev === 'message') countMsg('res', msg); return origEmit.call(this, ev, msg, ...rest); };
  } else if (wt.parentPort) {
    // The worker learns each request's op from what it receives, so its responses name it.
    wt.parentPort.on('message', (msg) => { for (const r of Array.isArray(msg) ? msg : [msg]) if (r && r.id !== undefined) opOf.set(r.id, r.op); });
    const P = Object.getPrototypeOf(wt.parentPort);
    const origPost = P.postMessage;
    P.postMessage = function (msg, ...rest) {
      if (msg && typeof msg === 'object' && msg.id !== undefined) {
        const op = opOf.get(msg.id) ?? '?'; opOf.delete(msg.id);
        bump(clones, `res-sent ${op}`, 1, countValues(msg, new Set()));
      }
      return origPost.call(this, msg, ...rest);
    };
  }
  const file = path.join(dir, `${process.pid}-${wt.threadId}.json`);
  const flush = () => {
    try {
      fs.writeFileSync(`${file}.tmp`, JSON.stringify({ thread: wt.threadId, at: Date.now(), stmts: [...stmts], clones: [...clones] }));
      fs.renameSync(`${file}.tmp`, file);
    } catch { /* the directory went */ }
  };
  setInterval(flush, 500).unref();
}
