// The relay side of bench/api-send.ts, run as its own process: the HTTP API wired as main.ts wires
// it (store, DKIM signer, quota service and account cache), on SQLite in a temp data directory or on
// a fresh PostgreSQL database, with one account, one sending domain (Ed25519) and one API key.
// Imports the relay from the dist tree given as argv[2] (this checkout's by default), so one
// invocation can compare two builds. Prints {port, token}; then answers stdin lines:
// "cpu" -> {cpuMs, loopMs} (cpuMs: this process, SQLite worker thread and libuv's pool included;
// loopMs: the main thread's event loop busy, performance.eventLoopUtilization, wall time;
// mainCpuMs: the main thread's own CPU, /proc/self/task/PID/schedstat; threads: [tid, CPU ms] of every thread), "stop" -> closes and exits.
//   node dist/bench/api-server.js [distRoot] [sqlite|postgres]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { constants as perfConstants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
const storeKind = process.argv[3] ?? 'sqlite';
const pgAdminUrl = process.env.PL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const load = (rel: string) => import(pathToFileURL(path.join(root, rel)).href);

const [{ systemClock }, { configSchema }, { MessageSigner }, { startApi }, { openStore }, { fixedSecrets }, { seedTenant }, { QuotaService }, { AccountCache }] =
  await Promise.all(['src/clock.js', 'src/config/schema.js', 'src/domains/message-signer.js', 'src/http/index.js', 'src/store/open-store.js',
    'src/events/secret-ring.js', 'test/helpers/api-fixture.js', 'src/accounts/quota.js', 'src/accounts/account-cache.js'].map(load));

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bench-api-'));
let dbName: string | null = null;
let storageUrl: string | null = null;
if (storeKind === 'postgres') {
  dbName = `${process.env.PL_BENCH_DB_PREFIX ?? 'postlane_bench_api'}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const u = new URL(pgAdminUrl);
  u.pathname = `/${dbName}`;
  storageUrl = u.href;
}
// PL_BENCH_API_HOST / PL_BENCH_API_PORT: the address to listen on (helpers sharing the machine keep to their own block).
const httpHost = process.env.PL_BENCH_API_HOST ?? '127.0.0.1';
// PL_BENCH_BUILD_AT_START=ROOT: http.buildAtStart for the relay of that dist root only (a build without the option refuses the key).
const buildAtStart = process.env.PL_BENCH_BUILD_AT_START !== undefined && path.resolve(process.env.PL_BENCH_BUILD_AT_START) === root ? { buildAtStart: true } : {};
const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, http: { host: httpHost, port: Number(process.env.PL_BENCH_API_PORT ?? 0), ...buildAtStart }, storage: { url: storageUrl } });
const logger = pino({ level: process.env.PL_BENCH_LOG ?? 'silent' });
const store = await openStore(config, logger, 'relay'); // a promise since the fifth memory session, a store before: await takes both
await store.open();
const tenant = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { send: ['send'] } });
const accounts = new AccountCache(store, systemClock);
const quota = new QuotaService(store, systemClock, accounts);
const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
const api = await startApi({ config, store, clock: systemClock, logger, tls: { cert: '', key: '' }, signer, quota, accounts, bounceSecrets: fixedSecrets(randomBytes(32)) });
process.stdout.write(`${JSON.stringify({ host: httpHost, port: api.address.port, token: tenant.tokens.send })}\n`);

// The event loop's delay (a 10 ms resolution timer's lateness) between two 'cpu' lines: p99 and max, ms.
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
// The main thread's GCs (perf_hooks 'gc' entries): scavenges and mark-compacts (count, pause ms, cumulative) and
// the longest mark-compact pause between two 'cpu' lines (a pause stops every request in flight: issue 14's p99).
const gc = { scav: 0, scavMs: 0, mc: 0, mcMs: 0, mcMaxMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = ((e as unknown as { detail?: { kind?: number } | null }).detail)?.kind;
    if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) { gc.mc++; gc.mcMs += e.duration; gc.mcMaxMs = Math.max(gc.mcMaxMs, e.duration); }
    else { gc.scav++; gc.scavMs += e.duration; }
  }
}).observe({ entryTypes: ['gc'] });
// The main thread's user and system CPU (clock ticks of /proc/self/task/PID/stat, 10 ms each on Linux): which of
// the two a change moves (callgrind counts user-space instructions only; the kernel's work is not in instr.sh).
const TICK_MS = 10;
function mainUserSys(): { mainUserMs: number; mainSysMs: number } {
  const s = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { mainUserMs: Number(f[11]) * TICK_MS, mainSysMs: Number(f[12]) * TICK_MS };
}
// Every thread's CPU (utime + stime ticks of /proc/self/task/*/stat, ms), by thread id: api-send splits the relay's
// CPU a message into the main thread, the busiest other thread (the SQLite worker under load) and the rest (V8's
// helpers: GC and the optimising compiler; libuv's pool: the WAL fsync).
function threadsCpu(): [number, number][] {
  const out: [number, number][] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.push([Number(tid), (Number(f[11]) + Number(f[12])) * TICK_MS]);
    } catch { /* the thread ended */ }
  }
  return out;
}
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line === 'cpu') {
    const eldP99Ms = delay.percentile(99) / 1e6, eldMaxMs = delay.max / 1e6;
    delay.reset();
    const u = process.cpuUsage();
    const mainCpuMs = Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    // The main thread's context switches: voluntary (it waited: epoll) and involuntary (preempted).
    const status = readFileSync(`/proc/self/task/${process.pid}/status`, 'utf8');
    const csw = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    const vcsw = csw('voluntary_ctxt_switches'), ivcsw = csw('nonvoluntary_ctxt_switches');
    process.stdout.write(`${JSON.stringify({ cpuMs: (u.user + u.system) / 1000, loopMs: performance.eventLoopUtilization().active, mainCpuMs, eldP99Ms, eldMaxMs, vcsw, ivcsw, ...mainUserSys(), gc, threads: threadsCpu() })}\n`);
    gc.mcMaxMs = 0;
  } else if (line === 'stop') break;
}
await api.close();
await store.close();
await fs.rm(dir, { recursive: true, force: true });
if (dbName) {
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
process.exit(0);
