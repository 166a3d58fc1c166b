#!/usr/bin/env python3
# apply.py TREE: the throwaway wal15 trace on a tree (worker.ts, worker-client.ts)
import sys, shutil
T = sys.argv[1]
shutil.copy(__import__('os').path.join(__import__('os').path.dirname(__file__), 'pltrace-wal15.ts'), f'{T}/src/store/sqlite/pltrace.ts')
def sub(path, pairs):
    p = f'{T}/{path}'; s = open(p).read()
    for a, b in pairs:
        if s.count(a) != 1: sys.exit(f'{path}: {a!r} found {s.count(a)} times')
        s = s.replace(a, b)
    open(p, 'w').write(s)
sub('src/store/sqlite/worker.ts', [
 ("import { parentPort, workerData } from 'node:worker_threads';",
  "import { parentPort, workerData } from 'node:worker_threads';\nimport { TR, now, rec, tw, winc, startFlush, shm } from './pltrace.js';\nlet TRDB = '';\nlet readsMs = 0, readsN = 0;"),
 ("interface Pending { id: number; op: WriteOp; result: unknown; fx: Effects }",
  "interface Pending { id: number; op: WriteOp; result: unknown; fx: Effects; tr?: number[] }"),
 ("""    try {
      const result = this.#inSavepoint(handler, fx, req.args as never[]); // a savepoint
      this.#pending.push({ id: req.id, op: req.op as WriteOp, result, fx });""",
  """    const e0 = TR ? now() : 0;
    try {
      const result = this.#inSavepoint(handler, fx, req.args as never[]); // a savepoint
      this.#pending.push({ id: req.id, op: req.op as WriteOp, result, fx, ...(TR ? { tr: [(req as unknown as { trRecv: number }).trRecv, (req as unknown as { trStart: number }).trStart, e0, now()] } : {}) });
      if (TR) { winc('req_' + req.op); winc('ms_' + req.op, now() - e0); }"""),
 ("""      if (batch.some((p) => p.fx.syncSpool)) fsyncDirSync(this.spoolDir);
      this.db.exec('COMMIT');""",
  """      if (batch.some((p) => p.fx.syncSpool)) fsyncDirSync(this.spoolDir);
      if (TR) { this.trC0 = now(); this.trShm0 = shm(TRDB); }
      this.db.exec('COMMIT');
      if (TR) { this.trC1 = now(); this.trShm1 = shm(TRDB); }"""),
 ("""    for (const p of batch) this.send({ id: p.id, ok: true, result: p.result, wrote });""",
  """    if (TR) {
      const f1 = now(); const [mx0, bf0] = this.trShm0; const [mx1, bf1] = this.trShm1;
      const ck = bf1 !== bf0 && bf1 > 0 ? 1 : 0;
      const cms = this.trC1 - this.trC0;
      winc('commits'); winc('batch_reqs', batch.length); winc('ms_commit', cms); if (ck) { winc('ckpts'); winc('ms_commit_ckpt', cms); }
      if (wrote) { winc('fsyncs'); winc('ms_fsync', f1 - this.trC1); }
      const n: Record<string, number> = {}; for (const p of batch) n[p.op] = (n[p.op] ?? 0) + 1;
      rec('commits', [this.trBegin, this.trC0, this.trC1, f1, wrote ? 1 : 0, ck, mx0, bf0, mx1, bf1, n, readsN, Math.round(readsMs * 1000) / 1000]);
      readsN = 0; readsMs = 0;
      for (const p of batch) if (p.tr) p.tr.push(this.trC0, this.trC1, f1, ck, batch.length);
    }
    for (const p of batch) this.send({ id: p.id, ok: true, result: p.result, wrote, ...(TR && p.tr ? { tr: [...p.tr, now()] } : {}) } as WorkerResponse);"""),
 ("""      this.db.exec('BEGIN IMMEDIATE');""",
  """      if (TR) this.trBegin = now();
      this.db.exec('BEGIN IMMEDIATE');"""),
 ("""  readonly #totalChanges: () => number;""",
  """  readonly #totalChanges: () => number;
  trC0 = 0; trC1 = 0; trBegin = 0; trShm0: [number, number] = [0, 0]; trShm1: [number, number] = [0, 0];"""),
 ("""  const send = (r: WorkerResponse, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);""",
  """  const send = (r: WorkerResponse, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);
  TRDB = cfg.dbPath; startFlush('worker', () => { const [mx, bf] = shm(TRDB); return { mx, bf }; });"""),
 ("""    if (Array.isArray(msg)) for (const req of msg) handle(req);
    else handle(msg);""",
  """    const recv = TR ? now() : 0;
    if (TR) { if (Array.isArray(msg)) { winc('msgs'); winc('msg_reqs', msg.length); for (const r of msg) (r as unknown as { trRecv: number }).trRecv = recv; } else { winc('msgs'); winc('msg_reqs'); (msg as unknown as { trRecv: number }).trRecv = recv; } }
    if (Array.isArray(msg)) for (const req of msg) handle(req);
    else handle(msg);"""),
 ("""  const handle = (req: WorkerRequest): void => {""",
  """  const handle = (req: WorkerRequest): void => {
    if (TR) (req as unknown as { trStart: number }).trStart = now();"""),
 ("""        const result = READ_HANDLERS[req.op](conns.reader, ...(req.args as never[]));
        send({ id: req.id, ok: true, result }""",
  """        const r0 = TR ? now() : 0;
        const result = READ_HANDLERS[req.op](conns.reader, ...(req.args as never[]));
        if (TR) { const d = now() - r0; readsN++; readsMs += d; winc('req_' + req.op); winc('ms_' + req.op, d); }
        send({ id: req.id, ok: true, result, ...(TR ? { tr: [(req as unknown as { trRecv: number }).trRecv, (req as unknown as { trStart: number }).trStart, r0, now()] } : {}) } as WorkerResponse"""),
])
sub('src/store/sqlite/worker-client.ts', [
 ("import { Worker } from 'node:worker_threads';",
  "import { Worker } from 'node:worker_threads';\nimport { TR, now, rec, startFlush, winc } from './pltrace.js';\nconst trOps = new Map<number, [string, number, number]>();\nstartFlush('main', () => { const g = (globalThis as unknown as { __plt?: () => unknown }).__plt; return g ? { s: g() } : {}; });"),
 ("""    const id = this.#nextId++;""",
  """    const id = this.#nextId++;
    if (TR) { winc('call_' + op); if (op === 'recordResults') winc('outcomes', (args[1] as unknown[]).length); if (op === 'put') winc('rcpts_put', (args[0] as { recipients: unknown[] }).recipients.length); trOps.set(id, [op, now(), 0]); }"""),
 ("""  #post(req: WorkerRequest, transfer: ArrayBuffer[]): void {""",
  """  #post(req: WorkerRequest, transfer: ArrayBuffer[]): void {
    if (TR) { const o = trOps.get(req.id); if (o) o[2] = now(); }"""),
 ("""    if (out.length === 1) return this.#post(out[0]!.req, out[0]!.transfer);""",
  """    if (out.length === 1) return this.#post(out[0]!.req, out[0]!.transfer);
    if (TR) { const t = now(); for (const o of out) { const x = trOps.get(o.req.id); if (x) x[2] = t; } }"""),
 ("""    this.#pending.delete(msg.id);""",
  """    this.#pending.delete(msg.id);
    if (TR) { const o = trOps.get(msg.id); trOps.delete(msg.id); const tr = (msg as unknown as { tr?: number[] }).tr; if (o && tr) rec('rounds', [o[0], o[1], o[2], ...tr, now()]); winc('done'); if (msg.ok && Array.isArray(msg.result)) winc('claimed_jobs', msg.result.length); }"""),
])
print('applied')
