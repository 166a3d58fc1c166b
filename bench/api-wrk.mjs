// The API's closed loop read by an independent client, wrk (C, one thread, 50 keep-alive connections), against
// api-send's (undici) — bench/README.md, twenty-fifth session (api25). Starts bench/api-server.js of DIST_ROOT with its
// launcher's flags, warms it with api-client.js (closed loop, 50 clients), then runs wrk -t1 -cCONNS -dDURs --latency
// with bench/api-wrk.lua's request (api-client.ts's body and key) and prints one JSON line: wrk's rate and latency
// percentiles, the relay's CPU a message (its process, all threads) and its main thread's, and wrk's own CPU a message.
//   node bench/api-wrk.mjs DIST_ROOT [sqlite|postgres] [WARMUP=5000] [DURATION_S=20] [CONNS=50]
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [distArg, store = 'sqlite', warmArg = '5000', durArg = '20', connArg = '50'] = process.argv.slice(2);
const dist = path.resolve(distArg);
const first = readFileSync(path.join(dist, '..', 'bin', 'postlane.js'), 'utf8').split('\n', 1)[0];
const flags = (/\snode((?:\s+--\S+)*)\s*$/.exec(first)?.[1] ?? '').split(/\s+/).filter(Boolean);
const server = spawn(process.execPath, [...flags, path.join(dist, 'bench', 'api-server.js'), dist, store], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = readline.createInterface({ input: server.stdout })[Symbol.asyncIterator]();
const next = async () => JSON.parse((await lines.next()).value);
const { host, port, token } = await next();
const url = `http://${host ?? '127.0.0.1'}:${port}/v1/messages`;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
if (Number(warmArg) > 0) {
  const w = spawnSync(process.execPath, [path.join(dist, 'bench', 'api-client.js'), url, token, '50', warmArg], { encoding: 'utf8' });
  if (w.status !== 0) throw new Error(`warm-up failed: ${w.stderr}`);
}
const cpu = async () => { server.stdin.write('cpu\n'); return next(); };
const c0 = await cpu();
// bash's `times`: wrk's own user and system CPU (its children's line)
const r = spawnSync('bash', ['-c', `wrk -t1 -c${connArg} -d${durArg}s --latency -s ${path.join(here, 'api-wrk.lua')} ${url}; times`],
  { encoding: 'utf8', env: { ...process.env, WRK_TOKEN: token } });
const c1 = await cpu();
server.stdin.write('stop\n');
const out = r.stdout;
const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
const ms = (s) => (s.endsWith('us') ? Number(s.slice(0, -2)) / 1000 : s.endsWith('ms') ? Number(s.slice(0, -2)) : Number(s.slice(0, -1)) * 1000);
const pct = (p) => ms(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? 'NaNs');
const times = [...out.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].map((m) => (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000);
const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
console.log(JSON.stringify({ client: 'wrk', store, conns: Number(connArg), warmup: Number(warmArg), requests, rate: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
  p50: pct(50), p90: pct(90), p99: pct(99), non2xx, cpuMsPerMsg: (c1.cpuMs - c0.cpuMs) / requests, mainCpuMsPerMsg: (c1.mainCpuMs - c0.mainCpuMs) / requests,
  clientCpuMsPerMsg: times.length > 1 ? times[1] / requests : null, eldMaxMs: c1.eldMaxMs, mc: c1.gc.mc - c0.gc.mc, mcMaxMs: c1.gc.mcMaxMs, loadavg: loadavg() }));
if (process.env.API_WRK_RAW) process.stderr.write(out);
