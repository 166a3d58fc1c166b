// The client side of bench/api-send.ts, run as its own process: `concurrency` clients, each with
// its own keep-alive connection (undici Pool), POST the same ≈3 KB JSON message to /v1/messages
// until `messages` have been sent; every answer must be 202. Prints {rate, p50, p99} (msg/s, ms).
//   node dist/bench/api-client.js URL TOKEN CONCURRENCY MESSAGES [SEND_AT_S]
import { appendFileSync } from 'node:fs';
import { Pool } from 'undici';

const [url, token, concurrencyArg, messagesArg, sendAtArg] = process.argv.slice(2);
// SEND_AT_S (optional, bench/instr.sh's api mode): each message scheduled that many seconds ahead (send_at), so that the
// relay only accepts and queues it (no delivery in the measured window).
const concurrency = Number(concurrencyArg);
const messages = Number(messagesArg);
const body = JSON.stringify({
  from: 'App <app@acme.test>', to: ['bob@dest.test'], subject: 'Your receipt', text: 'Thanks! '.repeat(200),
  html: `<p>${'Thanks! '.repeat(200)}</p>`, tags: ['receipt'], metadata: { order: '1' },
  ...(sendAtArg ? { send_at: new Date(Date.now() + Number(sendAtArg) * 1000).toISOString() } : {}),
});
const target = new URL(url!);
const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

const latencies: number[] = [];
// PL_BENCH_LAT_FILE=FILE: every request's start (epoch ms) and latency (ms) appended to FILE as one JSON line per run (where the p99 comes from).
const perRequest: [number, number][] | null = process.env.PL_BENCH_LAT_FILE ? [] : null;
// p99Steady: the p99 of the requests sent after the first tenth of the run. A run starts with a new client
// process whose connections all send at once: its first tenth was 1.3-3x slower at the median (bench/README.md,
// fourteenth session, api14), also after 1,500 warm-up messages; the target is about the steady state.
const steady: number[] = [];
const first: number[] = []; // p99First: the first tenth's p99 (with api-send --warmup 0, a relay's start)
let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < messages) {
    const index = next++;
    const t0 = performance.now();
    const res = await pool.request({ method: 'POST', path: target.pathname, headers, body });
    const text = await res.body.text();
    if (res.statusCode !== 202) throw new Error(`status ${res.statusCode}: ${text}`);
    latencies.push(performance.now() - t0);
    perRequest?.push([performance.timeOrigin + t0, performance.now() - t0]);
    if (index >= messages / 10) steady.push(performance.now() - t0);
    else first.push(performance.now() - t0);
  }
}));
const elapsed = (performance.now() - started) / 1000;
await pool.close();
if (perRequest) appendFileSync(process.env.PL_BENCH_LAT_FILE!, `${JSON.stringify({ messages, concurrency, requests: perRequest })}\n`);
latencies.sort((a, b) => a - b);
steady.sort((a, b) => a - b);
first.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ rate: messages / elapsed, p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)],
  p99Steady: steady[Math.floor(steady.length * 0.99)] ?? null, p99First: first[Math.floor(first.length * 0.99)] ?? null,
  clientCpuMsPerMsg: ((u) => (u.user + u.system) / 1000 / messages)(process.cpuUsage()) })}\n`);
