// Benchmark (issue 14, "scale with the queue"): the relay's cost with N deferred recipients already
// queued (and 10 × N events), against an empty queue in the same invocation. For each store and
// N, two data sets are prepared (empty, and filled by queue-fill.ts) and the relay is started on
// each in turn, REPS times interleaved (empty, filled / filled, empty / …), as a real process
// (bin/postlane.js start, the launcher's V8 flags). Each run measures:
//   restart     spawn → first 220 greeting (store open, migrations, lease release, listeners)
//   idle PSS    the relay's PSS 3 s after the greeting
//   e2e         MSGS × 4 KB messages, smtp-source (20 sessions, one connection each) → relay → smtp-sink,
//               after a 200-message warm-up: msg/s until the sink holds them all, relay CPU ms/msg,
//               peak PSS (sampled every 250 ms)
//   CLI         `postlane queue stats --json` and `postlane queue list --limit 50`, wall time of the
//               command (a fresh Node process: includes its start, shown by `postlane --version`)
//   API         GET /v1/events?limit=100 (median of 3)
// and, once per data set before the runs, the store calls behind those commands and the hourly
// purge, in this process (queue-fill.ts timeQueries).
// Results: one JSON line per run in bench/results/<date>-queue-scale.jsonl, then a table of medians
// and of the paired ratio filled/empty of e2e msg/s.
//   npx tsc -p . && npx tsc -p bench/tsconfig.json
//   SIZES=10000,100000,1000000 STORES=sqlite,postgres REPS=2 node dist/bench/queue-scale.js
//   (PL_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres; KEEP=1 keeps the data sets; PORT_BASE=18125
//   runs beside another invocation, NET=127.0.60 on other loopback addresses; FILL_ONLY=1 fills and keeps
//   the data sets without measuring; REUSE_SQLITE=<dataDir> or REUSE_PG=<url> with one SIZES value measures
//   a data set filled before (e.g. by a fill that was stopped: its committed copies are a consistent set),
//   QUERIES=1 times its store calls first)
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { addReadKey, fillStore, timeQueries, type StoreSpec } from './queue-fill.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAUNCHER = path.join(ROOT, 'bin/postlane.js');
const SIZES = (process.env.SIZES ?? '10000,100000').split(',').map(Number);
const STORES = (process.env.STORES ?? 'sqlite').split(',') as ('sqlite' | 'postgres')[];
const REPS = Number(process.env.REPS ?? 2);
const MSGS = Number(process.env.MSGS ?? 2000);
const PG_URL = process.env.PL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** PORT_BASE: another invocation can run beside this one (SMTP, HTTP, sink = base, +1, +74). */
const PORT_BASE = Number(process.env.PORT_BASE ?? 18025);
/** NET: the loopback /24 of the relay's listener (.1) and the sink (.9); another helper's harness may use 127.0.10. */
const NET = process.env.NET ?? '127.0.10';
const HOST = `${NET}.1`, SMTP_PORT = PORT_BASE, HTTP_PORT = PORT_BASE + 1, SINK_HOST = `${NET}.9`, SINK_PORT = PORT_BASE + 74;
const OUT = path.join(ROOT, 'bench/results', `${new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-')}-queue-scale-${STORES.join('-')}.jsonl`);
/** FILL_ONLY=1: fill (and time the store calls), keep the data sets, measure nothing else: for fills run apart from the measurement. */
const FILL_ONLY = process.env.FILL_ONLY === '1';
const KEEP = process.env.KEEP === '1' || FILL_ONLY;
const PROFILE_DIR = process.env.PROFILE_DIR;
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'postlane-scale-'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN; };
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** The process and its descendants. */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const task of safeList(`/proc/${out[i]}/task`)) {
      const kids = safeRead(`/proc/${out[i]}/task/${task}/children`).trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    }
  }
  return out;
}
const safeList = (dir: string) => { try { return fs.readdirSync(dir); } catch { return []; } };
const safeRead = (file: string) => { try { return fs.readFileSync(file, 'utf8'); } catch { return ''; } };
const pssKb = (pid: number) => tree(pid).reduce((sum, p) => sum + Number(/^Pss:\s+(\d+)/m.exec(safeRead(`/proc/${p}/smaps_rollup`))?.[1] ?? 0), 0);
/** utime + stime of the process (threads included), in seconds. */
const cpuS = (pid: number) => tree(pid).reduce((sum, p) => {
  const f = safeRead(`/proc/${p}/stat`).split(') ')[1]?.split(' ') ?? [];
  return sum + (Number(f[11] ?? 0) + Number(f[12] ?? 0)) / 100;
}, 0);

function configFor(name: string, spec: StoreSpec): string {
  const dir = path.join(WORK, name);
  const dataDir = spec.kind === 'sqlite' ? spec.dataDir : path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'postlane.yaml');
  fs.writeFileSync(file, `hostname: relay.bench.test
dataDir: ${dataDir}
metrics: false
http: { host: 127.0.0.1, port: ${HTTP_PORT}, dashboard: false }
${spec.kind === 'postgres' ? `storage: { url: "${spec.url}" }\n` : ''}smtp:
  submission: false
  submissions: false
  mx: false
  alt: { host: ${HOST}, port: ${SMTP_PORT} }
  relayNetworks: [127.0.0.0/8]
  maxConnectionsPerIp: 1000
delivery:
  smarthost: "${SINK_HOST}:${SINK_PORT}"
  tls: none
  concurrency: 40
  maxConnectionsPerDestination: 40
log: { level: warn }
`);
  return file;
}

/** ms until a 220 greeting on the relay's port (polled every 20 ms). */
async function waitGreeting(t0: number, proc: ChildProcess): Promise<number> {
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`relay exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(SMTP_PORT, HOST);
      let buf = '';
      s.setTimeout(2000, () => { s.destroy(); resolve(false); });
      s.on('data', (d) => { buf += d; if (buf.includes('\n')) { s.end('QUIT\r\n'); resolve(buf.startsWith('220')); } });
      s.on('error', () => resolve(false));
    });
    if (ok) return performance.now() - t0;
    if (performance.now() - t0 > 600_000) throw new Error('no greeting in 10 minutes');
    await sleep(20);
  }
}

const sinkOut = path.join(WORK, 'sink.out');
const sinkCount = () => Number([...safeRead(sinkOut).matchAll(/mesg=(\d+)/g)].at(-1)?.[1] ?? 0);
async function waitSink(target: number, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (sinkCount() < target) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`sink has ${sinkCount()} of ${target}`);
    await sleep(50);
  }
  return performance.now();
}

function smtpSource(count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('smtp-source', ['-s', '20', '-m', String(count), '-l', '4096', '-f', 'sender@src.test', '-t', 'rcpt@dst.test', '-M', 'gen.src.test', `${HOST}:${SMTP_PORT}`], { stdio: 'ignore' });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smtp-source exited ${code}`))));
  });
}

/** Wall ms of a CLI command (a fresh process, as an operator runs it). */
function timeCli(config: string, args: string[]): number {
  const t0 = performance.now();
  execFileSync(LAUNCHER, [...args, '--config', config], { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT });
  return performance.now() - t0;
}

async function timeEvents(token: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${HTTP_PORT}/v1/events?limit=100`, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json() as { data: unknown[] };
  if (res.status !== 200 || body.data.length === 0) throw new Error(`GET /v1/events: ${res.status}, ${body.data?.length} events`);
  return performance.now() - t0;
}

interface DataSet { store: 'sqlite' | 'postgres'; n: number; spec: StoreSpec; config: string; token: string; reused?: boolean }

async function run(ds: DataSet, pair: string, rep: number): Promise<Record<string, unknown>> {
  const load = loadavg();
  const t0 = performance.now();
  // PROFILE_DIR: a CPU profile of each relay run (main thread and workers), in <dir>/<store>-<n>-<rep>.
  // (node with the launcher's V8 flags: --cpu-prof is not allowed in NODE_OPTIONS).
  const [cmd, args] = PROFILE_DIR
    ? [process.execPath, ['--max-semi-space-size=2', '--heap-growing-percent=30', '--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE_DIR, `${ds.store}-${ds.n}-${rep}`)}`, LAUNCHER]]
    : [LAUNCHER, []];
  const proc = spawn(cmd, [...args, 'start', '--config', ds.config], { cwd: ROOT, detached: true, stdio: ['ignore', fs.openSync(path.join(path.dirname(ds.config), 'relay.log'), 'a'), 'inherit'] });
  try {
    const restartMs = await waitGreeting(t0, proc);
    await sleep(3000);
    const idlePssKb = pssKb(proc.pid!);
    const warm = sinkCount() + 200;
    await smtpSource(200);
    await waitSink(warm, 120_000);
    await sleep(500);
    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, pssKb(proc.pid!)); }, 250);
    const target = sinkCount() + MSGS;
    const c0 = cpuS(proc.pid!);
    const s0 = performance.now();
    await smtpSource(MSGS);
    const s1 = await waitSink(target, 600_000);
    const cpu = cpuS(proc.pid!) - c0;
    clearInterval(sampler);
    peak = Math.max(peak, pssKb(proc.pid!));
    const cliBaseMs = timeCli(ds.config, ['--version']);
    const statsMs = timeCli(ds.config, ['queue', 'stats', '--json']);
    const listMs = timeCli(ds.config, ['queue', 'list', '--limit', '50']);
    const eventsMs = median([await timeEvents(ds.token), await timeEvents(ds.token), await timeEvents(ds.token)]);
    const r = {
      ts: new Date().toISOString(), store: ds.store, n: ds.n, pair, rep, loadavg_before: load, msgs: MSGS,
      restart_ms: Math.round(restartMs), idle_pss_mb: +(idlePssKb / 1024).toFixed(1), peak_pss_mb: +(peak / 1024).toFixed(1),
      e2e_msgs_per_s: +(MSGS / ((s1 - s0) / 1000)).toFixed(1), relay_cpu_ms_per_msg: +(cpu * 1000 / MSGS).toFixed(2),
      queue_stats_ms: Math.round(statsMs), queue_list_ms: Math.round(listMs), cli_version_ms: Math.round(cliBaseMs), events_api_ms: +eventsMs.toFixed(1),
    };
    fs.appendFileSync(OUT, JSON.stringify(r) + '\n');
    log(JSON.stringify(r));
    return r;
  } finally {
    try { process.kill(-proc.pid!, 'SIGTERM'); } catch { /* gone */ }
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.on('exit', r)));
  }
}

async function prepare(store: 'sqlite' | 'postgres', n: number): Promise<DataSet> {
  const name = `${store}-${n}`;
  let spec: StoreSpec;
  if (store === 'sqlite') {
    spec = { kind: 'sqlite', dataDir: path.join(WORK, name, 'data') };
    fs.mkdirSync(spec.dataDir, { recursive: true });
  } else {
    const db = `postlane_scale_${n}_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    const u = new URL(PG_URL);
    u.pathname = `/${db}`;
    spec = { kind: 'postgres', url: u.href };
  }
  const t0 = performance.now();
  const token = await fillStore(spec, n, (m) => log(`${name}: ${m}`));
  const fillS = (performance.now() - t0) / 1000;
  const size = spec.kind === 'sqlite' ? `${(fs.statSync(path.join(spec.dataDir, 'queue.db')).size / 2 ** 20).toFixed(0)} MB` : '';
  log(`${name}: filled in ${fillS.toFixed(1)} s ${size}`);
  fs.appendFileSync(OUT, JSON.stringify({ fill: name, n, seconds: +fillS.toFixed(1), loadavg: loadavg(), size }) + '\n');
  const queries = await timeQueries(spec);
  log(`${name}: store calls (ms, median of 3): ${JSON.stringify(queries)}`);
  fs.appendFileSync(OUT, JSON.stringify({ queries: name, n, loadavg: loadavg(), ...queries }) + '\n');
  return { store, n, spec, config: configFor(name, spec), token };
}

/** A data set filled earlier (REUSE_SQLITE=<its dataDir> or REUSE_PG=<its URL>, SIZES=<its N>): kept afterwards. */
async function reuse(store: 'sqlite' | 'postgres', where: string, n: number): Promise<DataSet> {
  const spec: StoreSpec = store === 'sqlite' ? { kind: 'sqlite', dataDir: where } : { kind: 'postgres', url: where };
  log(`${store}-${n}: reusing ${where}`);
  if (process.env.QUERIES === '1') {
    const queries = await timeQueries(spec);
    log(`${store}-${n}: store calls (ms, median of 3): ${JSON.stringify(queries)}`);
    fs.appendFileSync(OUT, JSON.stringify({ queries: `${store}-${n}`, n, loadavg: loadavg(), ...queries }) + '\n');
  }
  return { store, n, spec, config: configFor(`${store}-${n}-reused`, spec), token: await addReadKey(spec), reused: true };
}

async function drop(ds: DataSet): Promise<void> {
  if (KEEP || ds.reused) return;
  if (ds.spec.kind === 'sqlite') { fs.rmSync(path.dirname(ds.config), { recursive: true, force: true }); return; }
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${new URL(ds.spec.url).pathname.slice(1)} WITH (FORCE)`);
  await admin.end();
}

const sink = spawn('smtp-sink', ['-u', 'nobody', '-c', `${SINK_HOST}:${SINK_PORT}`, '1024'], { stdio: ['ignore', fs.openSync(sinkOut, 'w'), 'ignore'] });
const results: Record<string, unknown>[] = [];
try {
  await sleep(300);
  log(`results in ${OUT}; load ${loadavg()}; commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim()}`);
  for (const store of STORES) {
    const empty = FILL_ONLY ? undefined! : await prepare(store, 0);
    for (const n of SIZES) {
      const reused = store === 'sqlite' ? process.env.REUSE_SQLITE : process.env.REUSE_PG;
      const full = reused ? await reuse(store, reused, n) : await prepare(store, n);
      if (process.env.FILL_ONLY === '1') { log(`${store}-${n}: filled, kept (FILL_ONLY): ${full.spec.kind === 'sqlite' ? full.spec.dataDir : full.spec.url}`); continue; }
      for (let rep = 0; rep < REPS; rep++) {
        for (const ds of rep % 2 === 0 ? [empty, full] : [full, empty]) results.push(await run(ds, `${store}-${n}`, rep));
      }
      await drop(full);
    }
    if (!FILL_ONLY) await drop(empty);
  }
} finally {
  sink.kill();
  if (!KEEP) fs.rmSync(WORK, { recursive: true, force: true });
}

// Medians per (store, N, empty|filled), and the median of the paired ratios filled / empty.
console.log('| store | queued | restart ms | idle PSS MB | peak PSS MB | e2e msg/s | filled/empty e2e | CPU ms/msg | queue stats ms | queue list ms | --version ms | events API ms |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const pairName of [...new Set(results.map((r) => r.pair as string))]) {
  const rows = results.filter((r) => r.pair === pairName);
  for (const n of [...new Set(rows.map((r) => r.n as number))].sort((a, b) => a - b)) {
    const rs = rows.filter((r) => r.n === n);
    const m = (k: string) => median(rs.map((r) => r[k] as number));
    const ratios = n === 0 ? [] : [...Array(REPS).keys()].map((rep) => {
      const f = rows.find((r) => r.rep === rep && r.n === n)!, e = rows.find((r) => r.rep === rep && r.n === 0)!;
      return (f.e2e_msgs_per_s as number) / (e.e2e_msgs_per_s as number);
    });
    console.log(`| ${rs[0]!.store} | ${n === 0 ? 'empty' : n.toLocaleString('en')} | ${m('restart_ms')} | ${m('idle_pss_mb')} | ${m('peak_pss_mb')} | ${m('e2e_msgs_per_s')} | ${n === 0 ? '' : median(ratios).toFixed(2)} | ${m('relay_cpu_ms_per_msg')} | ${m('queue_stats_ms')} | ${m('queue_list_ms')} | ${m('cli_version_ms')} | ${m('events_api_ms')} |`);
  }
}
