// Benchmark (issue 14, outbound PIPELINING): the delivery client of two builds side by side, N
// messages of 4 KB with R recipients through SmtpAttempt + ConnectionPool (sessions reused, so each
// message but the first of a session starts with RSET) to Postfix's smtp-sink, which offers
// PIPELINING. Builds interleaved A B / B A …, ROUNDS rounds; per round and build: client CPU ms per
// message (process.cpuUsage: this process only, the sink is another) and wall ms per message.
//   node bench/outbound-rset.mjs BASE_ROOT BRANCH_ROOT [N=2000] [SESSIONS=4] [RCPTS=1] [ROUNDS=8]
// (each ROOT a checkout with a built dist/, e.g. bench/build-ref.sh's copy of main in /tmp).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

const [baseRoot, branchRoot] = process.argv.slice(2, 4);
const N = Number(process.argv[4] ?? 2000);
const SESSIONS = Number(process.argv[5] ?? 4);
const RCPTS = Number(process.argv[6] ?? 1);
const ROUNDS = Number(process.argv[7] ?? 8);
const HOST = '127.0.61.20';
const PORT = 18600 + (process.pid % 100);
if (!baseRoot || !branchRoot) { console.error('usage: node bench/outbound-rset.mjs BASE_ROOT BRANCH_ROOT [N] [SESSIONS] [RCPTS] [ROUNDS]'); process.exit(2); }

const lines = ['From: a@bench.test', 'To: b@sink.test', 'Subject: bench', ''];
for (let i = 0; lines.join('\r\n').length < 4096; i++) lines.push('x'.repeat(76));
const BODY = Buffer.from(lines.join('\r\n') + '\r\n');
const recipients = Array.from({ length: RCPTS }, (_, i) => `r${i}@sink.test`);

async function load(root) {
  const { SmtpAttempt } = await import(`${root}/dist/src/delivery/attempt.js`);
  const { ConnectionPool } = await import(`${root}/dist/src/delivery/connection-pool.js`);
  const { loadConfig } = await import(`${root}/dist/src/config/load.js`);
  const config = loadConfig({ env: {}, overrides: { hostname: 'relay.bench.test', 'delivery.maxMessagesPerConnection': 100 } });
  return { SmtpAttempt, ConnectionPool, config };
}

const target = { host: 'sink.test', address: HOST, port: PORT, auth: null, security: { level: 'none', source: 'policy', names: [], tlsa: [] } };

/** N messages through a fresh pool with SESSIONS workers; returns CPU and wall ms per message. */
async function run(build, n) {
  const pool = new build.ConnectionPool({ config: build.config });
  const attempt = new build.SmtpAttempt({ pool, store: { readBody: () => Readable.from([BODY]) } });
  let next = 0;
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: SESSIONS }, async () => {
    while (next < n) {
      next++;
      const r = await attempt.run({ messageId: 'M', mailFrom: 'a@bench.test', size: BODY.length, recipients, destination: 'sink.test' }, target);
      if (r.hostFailure || r.recipients.some((x) => x.outcome !== 'delivered')) failed++;
    }
  }));
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  pool.closeAll();
  await pool.drain(2000);
  if (failed) throw new Error(`${failed} deliveries failed`);
  return { cpu: (cpu.user + cpu.system) / 1000 / n, wall: wall / n };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

const sink = spawn('smtp-sink', [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), '-c', `${HOST}:${PORT}`, '256'], { stdio: 'ignore' });
try {
  for (let i = 0; i < 50; i++) {
    const up = await new Promise((resolve) => { const s = net.connect(PORT, HOST, () => { s.destroy(); resolve(true); }); s.on('error', () => resolve(false)); });
    if (up) break;
    await sleep(100);
  }
  const builds = { base: await load(baseRoot), branch: await load(branchRoot) };
  for (const b of Object.values(builds)) await run(b, 300); // warm-up
  const res = { base: [], branch: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ['branch', 'base'] : ['base', 'branch'];
    for (const name of order) res[name].push(await run(builds[name], N));
    const [a, b] = [res.base.at(-1), res.branch.at(-1)];
    console.error(`round ${round + 1}: base ${a.cpu.toFixed(3)} cpu / ${a.wall.toFixed(3)} wall ms/msg, branch ${b.cpu.toFixed(3)} / ${b.wall.toFixed(3)}`);
  }
  const summary = {
    bench: 'outbound-rset', n: N, sessions: SESSIONS, rcpts: RCPTS, rounds: ROUNDS, load: (await import('node:os')).loadavg()[0],
    base_cpu_ms: median(res.base.map((r) => r.cpu)), branch_cpu_ms: median(res.branch.map((r) => r.cpu)),
    base_wall_ms: median(res.base.map((r) => r.wall)), branch_wall_ms: median(res.branch.map((r) => r.wall)),
    cpu_ratio_median_of_pairs: median(res.base.map((r, i) => r.cpu / res.branch[i].cpu)),
    wall_ratio_median_of_pairs: median(res.base.map((r, i) => r.wall / res.branch[i].wall)),
  };
  console.log(JSON.stringify(summary));
} finally {
  sink.kill('SIGTERM');
}
