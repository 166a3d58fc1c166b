// The client side of bench/api-send.ts, run as its own process: `concurrency` clients, each with
// its own keep-alive connection (undici Pool), POST the same ≈3 KB JSON message to /v1/messages
// until `messages` have been sent; every answer must be 202. Prints {rate, p50, p99} (msg/s, ms).
//   node dist/bench/api-client.js URL TOKEN CONCURRENCY MESSAGES [SEND_AT_S] [--rate R]
// Closed loop (the default): each client sends its next request when its previous answer arrives, so a slow
// relay slows the senders and its latency is partly hidden (coordinated omission).
// Open loop (--rate R, as wrk2): request k is due at start + k/R seconds whatever the answers do; at most
// CONCURRENCY are in flight (one keep-alive connection each); a due request that finds no free connection waits
// for one, and its latency is counted from its due time, so the wait is in it. Prints in addition p999, the
// service time's p50/p99 (from the actual send), how many requests started 5 ms or more after their due
// time for want of a connection (lateStarts), the rate asked and open: true. rate is messages / (last answer - start).
import { appendFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values: flags, positionals } = parseArgs({ options: { rate: { type: 'string' } }, allowPositionals: true });
const [url, token, concurrencyArg, messagesArg, sendAtArg] = positionals;
const openRate = flags.rate !== undefined ? Number(flags.rate) : 0;
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
// PL_BENCH_CLIENT=raw (api25): the requests are written as prebuilt bytes on `concurrency` plain sockets and the answers
// read by their Content-Length (HTTP/1.1 keep-alive, no pipelining), instead of undici's Pool: the same requests and
// timing, at a fraction of the client's CPU (which shares the relay's two cores; bench/README.md, twenty-fifth session).
const raw = process.env.PL_BENCH_CLIENT === 'raw';
const pool = raw ? null : new Pool(target.origin, { connections: concurrency, pipelining: 1 });
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
// PL_TRACE=PREFIX (api25's attribution, bench/api-trace.py): each request carries x-seq (this process's id and its index) and
// its due, send and answer times (CLOCK_MONOTONIC ms, as the relay's trace) go to PREFIX.client-MESSAGES.json.
const tracePrefix = process.env.PL_TRACE || null;
const seqBase = (process.pid % 1000) * 100_000;
const hrOffset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const traced: number[][] | null = tracePrefix ? [] : null;

const latencies: number[] = [];
// PL_BENCH_LAT_FILE=FILE: every request's start (epoch ms) and latency (ms) appended to FILE as one JSON line per run (where the p99 comes from).
const perRequest: [number, number][] | null = process.env.PL_BENCH_LAT_FILE ? [] : null;
// p99Steady: the p99 of the requests sent after the first tenth of the run. A run starts with a new client
// process whose connections all send at once: its first tenth was 1.3-3x slower at the median (bench/README.md,
// fourteenth session, api14), also after 1,500 warm-up messages; the target is about the steady state.
const steady: number[] = [];
const first: number[] = []; // p99First: the first tenth's p99 (with api-send --warmup 0, a relay's start)
interface RawConn { socket: Socket; chunks: Buffer[]; done: ((r: { statusCode: number; text: string }) => void) | null; fail: ((e: Error) => void) | null }
const freeConns: RawConn[] = [];
const head = (seq: string | null) => `POST ${target.pathname} HTTP/1.1\r\nhost: ${target.host}\r\nauthorization: Bearer ${token}\r\n`
  + `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${seq !== null ? `x-seq: ${seq}\r\n` : ''}\r\n`;
const request = Buffer.from(head(null) + body);
/** One request on a free connection (the caller keeps at most `concurrency` in flight, so there is one). */
function rawRequest(seq: string | null): Promise<{ statusCode: number; text: string }> {
  const c = freeConns.pop()!;
  return new Promise((resolve, reject) => {
    c.done = (r) => { c.done = c.fail = null; freeConns.push(c); resolve(r); };
    c.fail = reject;
    c.socket.write(seq === null ? request : Buffer.from(head(seq) + body));
  });
}
/** The answer in `c`'s bytes, once whole: its header's end and Content-Length. */
function rawAnswer(c: RawConn): void {
  const all = c.chunks.length === 1 ? c.chunks[0]! : Buffer.concat(c.chunks);
  c.chunks = [all];
  const end = all.indexOf('\r\n\r\n');
  if (end < 0) return;
  const header = all.subarray(0, end).toString('latin1');
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(header);
  if (!length) return c.fail?.(new Error(`an answer without Content-Length: ${header}`));
  const total = end + 4 + Number(length[1]);
  if (all.length < total) return;
  c.chunks = all.length > total ? [all.subarray(total)] : [];
  c.done?.({ statusCode: Number(header.slice(9, 12)), text: all.subarray(end + 4, total).toString() });
}
if (raw) {
  await Promise.all(Array.from({ length: concurrency }, () => new Promise<void>((resolve, reject) => {
    const socket = connect({ host: target.hostname, port: Number(target.port) }, () => resolve());
    socket.setNoDelay(true);
    const c: RawConn = { socket, chunks: [], done: null, fail: null };
    socket.on('data', (d: Buffer) => { c.chunks.push(d); rawAnswer(c); });
    socket.on('error', (e) => (c.fail ? c.fail(e) : reject(e)));
    freeConns.push(c);
  })));
}
let next = 0;
const started = performance.now();
const service: number[] = []; // open loop: from the actual send to the answer
let lateStarts = 0;
async function send(index: number, due: number): Promise<void> {
  const t0 = performance.now();
  if (t0 - due >= 5) lateStarts++; // a timer's lateness is ~1 ms; 5 ms: it waited for a connection
  if (raw) {
    const res = await rawRequest(traced ? String(seqBase + index) : null);
    if (res.statusCode !== 202) throw new Error(`status ${res.statusCode}: ${res.text}`);
  } else {
    const res = await pool!.request({ method: 'POST', path: target.pathname, headers: traced ? { ...headers, 'x-seq': String(seqBase + index) } : headers, body });
    const text = await res.body.text();
    if (res.statusCode !== 202) throw new Error(`status ${res.statusCode}: ${text}`);
  }
  const done = performance.now();
  latencies.push(done - due);
  service.push(done - t0);
  perRequest?.push([performance.timeOrigin + due, done - due]);
  traced?.push([seqBase + index, due + hrOffset, t0 + hrOffset, done + hrOffset]);
  if (index >= messages / 10) steady.push(done - due);
  else first.push(done - due);
}
if (openRate > 0) {
  // Open loop: a dispatcher starts every request whose due time has come while a connection is free; an
  // answer frees one and runs the dispatcher again; otherwise a timer wakes it at the next due time.
  const interval = 1000 / openRate;
  await new Promise<void>((resolve, reject) => {
    let inFlight = 0, timer: NodeJS.Timeout | null = null;
    const pump = (): void => {
      timer = null;
      const now = performance.now();
      while (next < messages && inFlight < concurrency && started + next * interval <= now) {
        const index = next++;
        inFlight++;
        send(index, started + index * interval).then(() => { inFlight--; if (next >= messages && inFlight === 0) resolve(); else if (!timer) pump(); }, reject);
      }
      if (next < messages && inFlight < concurrency && !timer) timer = setTimeout(pump, Math.max(0, started + next * interval - performance.now()));
    };
    pump();
  });
} else {
  // Closed loop: each client's next request is due when its previous answer arrives.
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < messages) await send(next++, performance.now());
  }));
}
const elapsed = (performance.now() - started) / 1000;
if (pool) await pool.close(); else for (const c of freeConns) c.socket.destroy();
if (traced) writeFileSync(`${tracePrefix}.client-${messages}.json`, JSON.stringify(traced));
if (perRequest) appendFileSync(process.env.PL_BENCH_LAT_FILE!, `${JSON.stringify({ messages, concurrency, requests: perRequest })}\n`);
latencies.sort((a, b) => a - b);
steady.sort((a, b) => a - b);
first.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ rate: messages / elapsed, p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)],
  p99Steady: steady[Math.floor(steady.length * 0.99)] ?? null, p99First: first[Math.floor(first.length * 0.99)] ?? null,
  clientCpuMsPerMsg: ((u) => (u.user + u.system) / 1000 / messages)(process.cpuUsage()),
  ...(openRate > 0 ? ((sv) => ({ open: true, rateAsked: openRate, p999: latencies[Math.floor(latencies.length * 0.999)], lateStarts,
    serviceP50: sv[Math.floor(sv.length / 2)], serviceP99: sv[Math.floor(sv.length * 0.99)] }))(service.sort((a, b) => a - b)) : {}) })}\n`);
