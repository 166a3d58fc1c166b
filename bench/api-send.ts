// Benchmark: POST /v1/messages (≈3 KB JSON, text + HTML, Ed25519 DKIM) with the relay and the
// client in separate processes (bench/api-server.ts, bench/api-client.ts: undici, one keep-alive
// connection per client), at 1, 20 and 50 concurrent clients, on SQLite and/or PostgreSQL. Each
// run starts a fresh relay (fresh data directory or database), warms it up with 100 messages, then
// sends MESSAGES; it reports msg/s, p50/p99 latency (and the p99 of the requests after the first tenth of the run), the relay's CPU ms per message (its own
// process, SQLite worker and libuv's pool included; not PostgreSQL's), its main thread's own CPU
// ms per message (the thread every request waits for) and its event loop's busy ms per message
// (wall time: inflated when the machine is loaded). Median of RUNS runs by rate.
// With --before DIST (the dist/ root of another build, e.g. the base commit's), each run is made
// against both builds in turn, interleaved (A B / B A / A B ...), and the ratio after/before is printed.
// With API_BENCH_JSON=FILE it appends one JSON line per (store, build, concurrency) (bench/run.sh all).
// Each run's figures are printed too (with the relay's event-loop delay p99/max and its main thread's
// voluntary and preempted context switches per message, its main thread's user and system CPU apart, and its
// main thread's GCs: scavenges per 1,000 messages and their ms, mark-compacts and the longest one), and with --before the per-pair ratios.
// PL_BENCH_API_HOST=ADDR PL_BENCH_API_PORT=FIRST: the relays listen there (FIRST, FIRST+1, ...), not on any free port.
//   npx tsc -p bench/tsconfig.json && node dist/bench/api-send.js [--store sqlite|postgres|both]
//     [--clients 1,20,50] [--messages 1000] [--runs 3] [--before DIR] [--server-flags="--cpu-prof ..."] [--warmup 100]
// --rate R: the measured requests are sent open-loop (bench/api-client.ts: request k due at k/R s, at most CLIENTS in
// flight, latency from the due time, as wrk2, so a stall is not hidden by the clients slowing down); the warm-up stays
// closed-loop. Each run then also prints p99.9, the service time (send to answer) and the late starts; rate is the
// achieved one, and the JSON line has open: true and rateAsked.
// The relay runs with its build's launcher flags (bin/postlane.js's shebang: what `postlane start` and the
// systemd unit run with); --server-flags="…" replaces them (--server-flags= : none, Node's defaults).
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({ options: {
  store: { type: 'string', default: 'sqlite' }, clients: { type: 'string', default: '1,20,50' },
  messages: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' },
  before: { type: 'string' }, rate: { type: 'string' }, 'server-flags': { type: 'string' }, warmup: { type: 'string', default: '100' },
} });
const stores = opt.store === 'both' ? ['sqlite', 'postgres'] : [opt.store!];
const clients = opt.clients!.split(',').map(Number);
const MESSAGES = Number(opt.messages);
const RUNS = Number(opt.runs);
const OPEN_RATE = opt.rate !== undefined ? Number(opt.rate) : 0; // --rate R: open loop
const WARMUP = Number(opt.warmup); // --warmup 0: the run starts on a relay that has answered nothing (its first second, as after a start)
const builds: [string, string][] = [['after', path.join(here, '..')], ...(opt.before ? [['before', path.resolve(opt.before)] as [string, string]] : [])];
// The relay runs with the V8 flags and environment (GLIBC_TUNABLES) an operator's relay gets: those
// of the build's own launcher (the `#!/usr/bin/env -S [VAR=value …] node …` line of bin/postlane.js
// next to its dist/), read at each start so they cannot drift from it. --server-flags="…" replaces
// the flags for every build (--server-flags= with nothing: Node's defaults); the variables stay.
function launcherLine(distRoot: string): { flags: string[]; env: Record<string, string> } {
  const launcher = path.join(distRoot, '..', 'bin', 'postlane.js');
  const first = readFileSync(launcher, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\S*env -S((?:\s+[A-Z_]+=\S*)*)\s+node((?:\s+--\S+)*)\s*$/.exec(first);
  if (!m) throw new Error(`${launcher}: its first line is not '#!/usr/bin/env -S [VAR=value ...] node [--flag ...]': ${first}`);
  // env -S expands ${NAME} from the environment (empty when unset)
  const env = Object.fromEntries(m[1]!.split(/\s+/).filter(Boolean).map((a) => {
    const eq = a.indexOf('=');
    return [a.slice(0, eq), a.slice(eq + 1).replace(/\$\{(\w+)\}/g, (_, n: string) => process.env[n] ?? '')];
  }));
  return { flags: m[2]!.split(/\s+/).filter(Boolean), env };
}
const serverFlagsFor = (distRoot: string): string[] =>
  opt['server-flags'] !== undefined ? opt['server-flags'].split(' ').filter(Boolean) : launcherLine(distRoot).flags;

/** The relay's main-thread GCs so far (api-server.ts): counts and pause ms; mcMaxMs: the longest mark-compact since the last 'cpu' line. */
interface GcCounts { scav: number; scavMs: number; mc: number; mcMs: number; mcMaxMs: number }
interface OpenFields { open?: boolean; rateAsked?: number; p999?: number; lateStarts?: number; serviceP50?: number; serviceP99?: number }
interface Result extends OpenFields { rate: number; p50: number; p99: number; p99Steady?: number | null; p99First?: number | null; clientCpuMsPerMsg?: number; cpuMsPerMsg: number; mainCpuMsPerMsg: number; loopMsPerMsg: number; eldP99Ms?: number; eldMaxMs?: number; vcswPerMsg?: number; ivcswPerMsg?: number; mainUserMsPerMsg?: number; mainSysMsPerMsg?: number; scavPerKMsg?: number; scavMsPerMsg?: number; mcCount?: number; mcMs?: number; mcMaxMs?: number; busiestOtherMsPerMsg?: number; restMsPerMsg?: number }

function lines(child: ChildProcess): () => Promise<string> {
  const rl = readline.createInterface({ input: child.stdout! });
  const queue: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  rl.on('line', (l) => { const w = waiting.shift(); if (w) w(l); else queue.push(l); });
  return () => new Promise((resolve, reject) => {
    const l = queue.shift();
    if (l !== undefined) return resolve(l);
    waiting.push(resolve);
    child.once('exit', (code) => reject(new Error(`process exited (${code})`)));
  });
}

function runClient(url: string, token: string, concurrency: number, messages: number, rate = 0): Promise<{ rate: number; p50: number; p99: number; p99Steady?: number | null; p99First?: number | null; clientCpuMsPerMsg?: number } & OpenFields> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [path.join(here, 'api-client.js'), url, token, String(concurrency), String(messages), ...(rate > 0 ? ['--rate', String(rate)] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`client exited ${code}`))));
  });
}

// PL_BENCH_API_PORT=FIRST: each relay listens on the next port from FIRST (up to FIRST + 99), on PL_BENCH_API_HOST; default: any free port on 127.0.0.1.
const firstPort = Number(process.env.PL_BENCH_API_PORT ?? 0);
let runNo = 0;

async function run(root: string, store: string, concurrency: number): Promise<Result> {
  const env = { ...process.env, ...launcherLine(root).env, ...(firstPort ? { PL_BENCH_API_PORT: String(firstPort + (runNo++ % 100)) } : {}) };
  const server = spawn(process.execPath, [...serverFlagsFor(root), path.join(here, 'api-server.js'), path.join(root), store], { stdio: ['pipe', 'pipe', 'inherit'], env });
  const next = lines(server);
  const { host, port, token } = JSON.parse(await next());
  const url = `http://${host ?? '127.0.0.1'}:${port}/v1/messages`;
  const cpu = async () => { server.stdin!.write('cpu\n'); return JSON.parse(await next()) as { cpuMs: number; loopMs: number; mainCpuMs: number; eldP99Ms?: number; eldMaxMs?: number; vcsw?: number; ivcsw?: number; mainUserMs?: number; mainSysMs?: number; gc?: GcCounts; threads?: [number, number][] }; };
  if (WARMUP > 0) await runClient(url, token, concurrency, WARMUP);
  const cpu0 = await cpu();
  const r = await runClient(url, token, concurrency, MESSAGES, OPEN_RATE);
  const cpu1 = await cpu();
  const cpuMsPerMsg = (cpu1.cpuMs - cpu0.cpuMs) / MESSAGES;
  const loopMsPerMsg = (cpu1.loopMs - cpu0.loopMs) / MESSAGES;
  const mainCpuMsPerMsg = (cpu1.mainCpuMs - cpu0.mainCpuMs) / MESSAGES;
  // The threads other than the main one: the busiest (under load the SQLite worker) and the rest together (ticks: ±10 ms a thread).
  let threadSplit = {};
  if (cpu0.threads && cpu1.threads) {
    const before = new Map(cpu0.threads);
    const others = cpu1.threads.filter(([tid]) => tid !== server.pid).map(([tid, ms]) => ms - (before.get(tid) ?? 0)).sort((x, y) => y - x);
    threadSplit = { busiestOtherMsPerMsg: (others[0] ?? 0) / MESSAGES, restMsPerMsg: others.slice(1).reduce((a, b) => a + b, 0) / MESSAGES };
  }
  server.stdin!.write('stop\n');
  await new Promise((resolve) => server.once('exit', resolve));
  return { ...r, cpuMsPerMsg, mainCpuMsPerMsg, loopMsPerMsg, ...threadSplit, eldP99Ms: cpu1.eldP99Ms, eldMaxMs: cpu1.eldMaxMs,
    ...(cpu1.vcsw !== undefined ? { vcswPerMsg: (cpu1.vcsw - cpu0.vcsw!) / MESSAGES, ivcswPerMsg: (cpu1.ivcsw! - cpu0.ivcsw!) / MESSAGES } : {}),
    ...(cpu1.mainUserMs !== undefined ? { mainUserMsPerMsg: (cpu1.mainUserMs - cpu0.mainUserMs!) / MESSAGES, mainSysMsPerMsg: (cpu1.mainSysMs! - cpu0.mainSysMs!) / MESSAGES } : {}),
    ...(cpu1.gc && cpu0.gc ? { scavPerKMsg: (cpu1.gc.scav - cpu0.gc.scav) * 1000 / MESSAGES, scavMsPerMsg: (cpu1.gc.scavMs - cpu0.gc.scavMs) / MESSAGES,
      mcCount: cpu1.gc.mc - cpu0.gc.mc, mcMs: cpu1.gc.mcMs - cpu0.gc.mcMs, mcMaxMs: cpu1.gc.mcMaxMs } : {}) };
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
// closed loop: the run of median rate; open loop (the rate is the one asked while the relay keeps up): the run of median p99
const median = (rs: Result[]) => [...rs].sort((a, b) => (OPEN_RATE > 0 ? a.p99 - b.p99 : a.rate - b.rate))[Math.floor(rs.length / 2)]!;
const loopName = OPEN_RATE > 0 ? ` open loop at ${OPEN_RATE} msg/s,` : '';
const openPart = (r: Result) => (r.open ? `, p99.9 ${r.p999?.toFixed(1)} ms [open loop, asked ${r.rateAsked} msg/s: service p50 ${r.serviceP50?.toFixed(1)} p99 ${r.serviceP99?.toFixed(1)} ms, late starts ${r.lateStarts}]` : '');
console.log(`${MESSAGES} messages per run,${loopName} median of ${RUNS}; builds: ${builds.map(([n, r]) => `${n}=${r} (relay flags: '${serverFlagsFor(r).join(' ')}', env: '${Object.entries(launcherLine(r).env).map(([k, v]) => `${k}=${v}`).join(' ')}')`).join(', ')}; load ${loadavg()}`);
for (const store of stores) {
  for (const c of clients) {
    const results = new Map<string, Result[]>(builds.map(([n]) => [n, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [name, root] of i % 2 === 0 ? builds : [...builds].reverse()) {
        const r = await run(root, store, c);
        results.get(name)!.push(r);
        console.log(`  run ${i + 1} ${store} ${name} ${c} clients: ${r.rate.toFixed(0)} msg/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (after the first tenth ${r.p99Steady?.toFixed(1) ?? '-'}, first tenth ${r.p99First?.toFixed(1) ?? '-'})${openPart(r)}, relay CPU ${r.cpuMsPerMsg.toFixed(2)} ms/msg, main thread ${r.mainCpuMsPerMsg.toFixed(2)} ms/msg (busiest other thread ${r.busiestOtherMsPerMsg?.toFixed(2) ?? '-'}, the rest ${r.restMsPerMsg?.toFixed(2) ?? '-'}), client process CPU ${r.clientCpuMsPerMsg?.toFixed(2) ?? '-'} ms/msg (its start included), loop delay p99 ${r.eldP99Ms?.toFixed(1) ?? '-'} max ${r.eldMaxMs?.toFixed(1) ?? '-'} ms, main thread switches/msg ${r.vcswPerMsg?.toFixed(2) ?? '-'} voluntary ${r.ivcswPerMsg?.toFixed(2) ?? '-'} preempted, main thread user ${r.mainUserMsPerMsg?.toFixed(3) ?? '-'} sys ${r.mainSysMsPerMsg?.toFixed(3) ?? '-'} ms/msg, scavenges ${r.scavPerKMsg?.toFixed(1) ?? '-'}/1000 msgs (${r.scavMsPerMsg?.toFixed(3) ?? '-'} ms/msg), mark-compacts ${r.mcCount ?? '-'} (${r.mcMs?.toFixed(1) ?? '-'} ms, longest ${r.mcMaxMs?.toFixed(1) ?? '-'} ms)`);
      }
    }
    const meds = new Map([...results].map(([n, rs]) => [n, median(rs)]));
    for (const [name, m] of meds) {
      console.log(`${store} ${name} ${c} clients: ${m.rate.toFixed(0)} msg/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms (after the first tenth ${m.p99Steady?.toFixed(1) ?? '-'})${openPart(m)}, relay CPU ${m.cpuMsPerMsg.toFixed(2)} ms/msg, main thread ${m.mainCpuMsPerMsg.toFixed(2)} ms/msg, event loop ${m.loopMsPerMsg.toFixed(2)} ms/msg`);
      const json = process.env.API_BENCH_JSON;
      if (json) {
        appendFileSync(json, `${JSON.stringify({ ts: new Date().toISOString(), bench: 'api-send', store, build: name, concurrency: c, messages: MESSAGES, runs: RUNS, warmup: WARMUP, ...(process.env.API_BENCH_TAG ? { tag: process.env.API_BENCH_TAG } : {}), client: process.env.PL_BENCH_CLIENT === 'raw' ? 'raw' : 'undici', ...m, loadavg_after: loadavg() })}\n`);
      }
    }
    if (meds.has('before')) {
      const pairs = results.get('after')!.map((x, i) => [x, results.get('before')![i]!] as const);
      const f = (k: keyof Result) => pairs.map(([x, y]) => ((x[k] as number) / (y[k] as number)).toFixed(2)).join(' ');
      console.log(`${store} ${c} clients, pair ratios after/before: msg/s ${f('rate')}; p99 ${f('p99')}; p99 after the first tenth ${f('p99Steady')}; p99 of the first tenth ${f('p99First')}; relay CPU/msg ${f('cpuMsPerMsg')}; main thread/msg ${f('mainCpuMsPerMsg')}; busiest other thread/msg ${f('busiestOtherMsPerMsg')}; the rest/msg ${f('restMsPerMsg')}; main thread user/msg ${f('mainUserMsPerMsg')}; sys/msg ${f('mainSysMsPerMsg')}; voluntary switches/msg ${f('vcswPerMsg')}; scavenge ms/msg ${f('scavMsPerMsg')}`);
      const a = meds.get('after')!, b = meds.get('before')!;
      console.log(`${store} ${c} clients: after/before msg/s ${(a.rate / b.rate).toFixed(2)}x, CPU/msg ${(a.cpuMsPerMsg / b.cpuMsPerMsg).toFixed(2)}x, main thread/msg ${(a.mainCpuMsPerMsg / b.mainCpuMsPerMsg).toFixed(2)}x, loop/msg ${(a.loopMsPerMsg / b.loopMsPerMsg).toFixed(2)}x (load ${loadavg()})`);
    }
  }
}
