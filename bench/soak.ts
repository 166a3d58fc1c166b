// Soak: the built relay (a child process, as in production) under steady load for a long time —
// SMTP submissions at a fixed rate, a receiving MX that defers 5 % and bounces 2 % of recipients,
// a webhook receiver that fails 10 % of its POSTs, and the HTTP API polled for statistics — while
// the relay's resident memory, open file descriptors, queue depth and database size are sampled.
// The point is the shape: after warm-up, every one of them must stay flat (finished mail and old
// events purged on schedule, no leak). Prints one JSON line per sample and a summary comparing the
// first and last quarters.
//   npx tsc -p bench/tsconfig.json && SOAK_MINUTES=60 SOAK_RATE=40 node dist/bench/soak.js
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { SMTPServer } from 'smtp-server';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import YAML from 'yaml';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 60);
const RATE = Number(process.env.SOAK_RATE ?? 40); // messages per second
const SAMPLE_MS = 30_000;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const BIN = path.join(ROOT, 'bin/postlane.js');

let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

async function startMx(): Promise<{ port: number; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    logger: false, authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], disableReverseLookup: true,
    onRcptTo(_a, _s, cb) {
      const x = rnd();
      if (x < 0.05) return cb(Object.assign(new Error('4.2.1 try again later'), { responseCode: 451 }));
      if (x < 0.07) return cb(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
      cb();
    },
    onData(stream, _s, cb) { stream.on('end', () => { received++; cb(); }); stream.resume(); },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { port: (server.server.address() as { port: number }).port, received: () => received, close: () => new Promise((r) => server.close(() => r())) };
}

async function startHook(): Promise<{ url: string; posts: () => number; close: () => Promise<void> }> {
  let posts = 0;
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { posts++; res.writeHead(rnd() < 0.1 ? 500 : 200).end(); }); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, posts: () => posts, close: () => new Promise((r) => server.close(() => r())) };
}

function cli(configFile: string, ...args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args, '--config', configFile], { encoding: 'utf8' });
}

const kb = (pid: number, field: string) => Number(/(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field)) ?? '')?.[1] ?? 0);
const dirBytes = (dir: string): number => fs.readdirSync(dir, { withFileTypes: true })
  .reduce((n, e) => n + (e.isDirectory() ? dirBytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size), 0);

async function main(): Promise<void> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'postlane-soak-'));
  const mx = await startMx();
  const hook = await startHook();
  const configFile = path.join(dir, 'postlane.yaml');
  const dataDir = path.join(dir, 'data');
  await fsp.writeFile(configFile, YAML.stringify({
    hostname: 'relay.soak.test', dataDir, log: { level: 'info' },
    smtp: { submission: false, submissions: false, mx: false, alt: { host: '127.0.0.1', port: 0 }, relayNetworks: ['127.0.0.0/8'] },
    http: { host: '127.0.0.1', port: 0 }, metrics: false,
    delivery: { smarthost: `127.0.0.2:${mx.port}`, tls: 'none', retrySchedule: { initial: '30s', factor: 2, max: '5m', jitter: 0.1 }, maxQueueTime: '10m' },
    storage: { retainFinished: '5m' }, events: { retention: '10m' },
    webhooks: { allowPrivateDestinations: true, retryFor: '2m', disableAfter: '1h' },
  }));
  cli(configFile, 'webhooks', 'add', '--url', hook.url);
  const key = JSON.parse(cli(configFile, 'keys', 'create', '--scope', 'read', '--json')).token as string;
  const relay = spawn(process.execPath, [BIN, 'start', '--config', configFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const addresses = await new Promise<Record<string, { port: number }>>((resolve) => {
    readline.createInterface({ input: relay.stdout! }).on('line', (l) => { try { const j = JSON.parse(l); if (j.event === 'relay.started') resolve(j.listeners); } catch { /* not JSON */ } });
  });
  const pid = relay.pid!;
  let sent = 0; let refused = 0; let running = true;
  const body = `Subject: soak\r\n\r\n${`${'x'.repeat(70)}\r\n`.repeat(40)}`;
  const WORKERS = 8;
  /** One SMTP session per worker, one message at a time, paced to RATE / WORKERS per second; a broken session is replaced. */
  const worker = async () => {
    let c: SMTPConnection | null = null;
    const gapMs = 1000 * WORKERS / RATE;
    while (running) {
      const t0 = Date.now();
      try {
        if (!c) {
          const conn = new SMTPConnection({ host: '127.0.0.1', port: addresses.alt!.port, ignoreTLS: true });
          conn.on('error', () => undefined);
          await new Promise<void>((resolve, reject) => { conn.once('error', reject); conn.connect(() => resolve()); });
          c = conn;
        }
        const conn = c;
        await new Promise<void>((resolve, reject) => conn.send({ from: 'app@soak.test', to: [`u${Math.floor(rnd() * 5000)}@dest.test`] }, body, (err) => (err ? reject(err) : resolve())));
        sent++;
      } catch (err) {
        if (refused++ === 0) console.error(`first refusal: ${(err as Error).message}`);
        c?.close(); c = null;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, gapMs - (Date.now() - t0))));
    }
    c?.quit();
  };
  const workers = Array.from({ length: WORKERS }, () => worker());
  const samples: Record<string, number>[] = [];
  const started = Date.now();
  const sample = async () => {
    const stats = await (await fetch(`http://127.0.0.1:${addresses.http!.port}/v1/stats?group_by=total`, { headers: { authorization: `Bearer ${key}` } })).json() as { total: { counts: Record<string, number> } };
    const counts = JSON.parse(cli(configFile, 'queue', 'stats', '--json')) as Record<string, number>;
    const s = {
      minute: Math.round((Date.now() - started) / 60_000), rssMb: Math.round(kb(pid, 'VmRSS:') / 1024), fds: fs.readdirSync(`/proc/${pid}/fd`).length,
      waiting: (counts.queued ?? 0) + (counts.deferred ?? 0) + (counts.delivering ?? 0), retained: (counts.delivered ?? 0) + (counts.bounced ?? 0) + (counts.expired ?? 0),
      dataMb: Math.round(dirBytes(dataDir) / 1e5) / 10, sent, refused, received: mx.received(), hookPosts: hook.posts(), acceptedLastWindow: stats.total.counts.accepted,
    };
    samples.push(s);
    console.log(JSON.stringify(s));
  };
  const sampler = setInterval(() => void sample().catch((e: Error) => console.error('sample failed', e.message)), SAMPLE_MS);
  await new Promise((r) => setTimeout(r, MINUTES * 60_000));
  running = false;
  clearInterval(sampler);
  await Promise.all(workers);
  await sample();
  relay.kill('SIGTERM');
  await new Promise((r) => relay.once('exit', r));
  await mx.close(); await hook.close();
  const q = Math.max(1, Math.floor(samples.length / 4));
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log('\n| metric | first quarter (median) | last quarter (median) | max |');
  console.log('|---|---|---|---|');
  for (const k of ['rssMb', 'fds', 'waiting', 'retained', 'dataMb']) {
    const xs = samples.map((s) => s[k]!);
    console.log(`| ${k} | ${med(xs.slice(1, q + 1))} | ${med(xs.slice(-q))} | ${Math.max(...xs)} |`);
  }
  console.log(`\n${MINUTES} min at ${RATE} msg/s: ${sent} accepted, ${refused} refused, ${mx.received()} received by the MX, ${hook.posts()} webhook POSTs`);
  await fsp.rm(dir, { recursive: true, force: true });
}

await main();
