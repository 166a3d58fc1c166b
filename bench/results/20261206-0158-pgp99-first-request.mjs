// One fresh relay (api-server), one client request at a time: the first request's latency (lazy app build, cold pools/JIT) against the next ones.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
const [store, root, delayArg] = [process.argv[2] ?? "postgres", process.argv[3] ?? "/work/wt-pgp99/dist", process.argv[4] ?? "0"];
const server = spawn(process.execPath, ['/work/wt-pgp99/dist/bench/api-server.js', root, store], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PL_BENCH_API_HOST: '127.0.63.1', PL_BENCH_API_PORT: '46399', PL_BENCH_DB_PREFIX: 'pgp99_first' } });
const rl = readline.createInterface({ input: server.stdout });
const first = await new Promise((r) => rl.once('line', r));
const { host, port, token } = JSON.parse(first);
let readyAfter = null;
if (delayArg === 'ready') { // as a load balancer: /readyz polled every 20 ms until 200, then the requests
  const t0 = performance.now();
  for (;;) { const r = await fetch(`http://${host}:${port}/readyz`); await r.text(); if (r.status === 200) break; await new Promise((res) => setTimeout(res, 20)); }
  readyAfter = (performance.now() - t0).toFixed(0);
} else await new Promise((r) => setTimeout(r, Number(delayArg)));
const body = JSON.stringify({ from: 'App <app@acme.test>', to: ['bob@dest.test'], subject: 'Your receipt', text: 'Thanks! '.repeat(200), html: `<p>${'Thanks! '.repeat(200)}</p>`, tags: ['receipt'], metadata: { order: '1' } });
const out = [];
for (let i = 0; i < 3; i++) { const t0 = performance.now(); const r = await fetch(`http://${host}:${port}/healthz`); await r.text(); out.push(`healthz ${r.status} ${(performance.now() - t0).toFixed(1)}`); }
for (let i = 0; i < 6; i++) {
  const t0 = performance.now();
  const res = await fetch(`http://${host}:${port}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
  await res.text();
  out.push(`${res.status} ${(performance.now() - t0).toFixed(1)}`);
}
console.log(store, root, 'delay', delayArg, readyAfter === null ? '' : `ready after ${readyAfter} ms`, out.join(', '));
server.stdin.write('stop\n');
await new Promise((r) => server.once('exit', r));
