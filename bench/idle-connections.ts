// Idle connections (issue 14): the built relay (a child process, through the launcher as
// deployed) holds N concurrent idle SMTP sessions opened by a separate client process from many
// loopback source addresses (127.0.x.y, IDLE_PER_IP sessions each, within smtp.maxConnectionsPerIp).
// Each session reads the greeting, says EHLO, reads the reply and then idles. The relay's PSS is
// sampled from /proc at 0, 1k, 5k and N sessions; then, with all N open, a new client from an
// address of its own is timed from connect to its 220 greeting, 20 times one after the other, and
// the median printed. One JSON line per sample, then a summary line.
//   npx tsc -p bench/tsconfig.json && IDLE_N=10000 node dist/bench/idle-connections.js
// File descriptors: the relay needs one per session (+ about 50 of its own), and so does the client
// process; both are started under `ulimit -n IDLE_NOFILE` (default N + 1000, capped by the hard limit).
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import YAML from 'yaml';

const N = Number(process.env.IDLE_N ?? 10_000);
const PER_IP = Number(process.env.IDLE_PER_IP ?? 40);
const NOFILE = Number(process.env.IDLE_NOFILE ?? N + 1000);
const MARKS = [...new Set([0, 1000, 5000, N].filter((m) => m <= N))];
const GREETINGS = 20;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
/** IDLE_ROOT: another checkout's built relay (a before/after comparison); default this one. */
const BIN = path.join(process.env.IDLE_ROOT ?? ROOT, 'bin/postlane.js');

/** IDLE_NET=127.0.X: every address in that /24 (sessions from .1 up, PER_IP each, the listener on
 *  .254, the timed clients from .251–.253) and IDLE_PORT, so that benches of others run beside it. */
const NET = process.env.IDLE_NET;
/** The i-th idle session's source address: 127.0.x.y from 127.0.1.1 up, PER_IP sessions each. */
function sourceOf(i: number): string {
  const k = Math.floor(i / PER_IP);
  if (NET) { if (k >= 250) throw new Error('IDLE_NET: at most 250 × IDLE_PER_IP sessions'); return `${NET}.${1 + k}`; }
  return `127.0.${1 + Math.floor(k / 254)}.${1 + (k % 254)}`;
}
const LISTEN = NET ? `${NET}.254` : '127.0.0.1';

/** Connects from `localAddress`, reads the greeting, optionally says EHLO and reads its reply. */
function openSession(port: number, localAddress: string, ehlo: boolean): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: LISTEN, port, localAddress });
    let text = '';
    let greeted = false;
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      if (!greeted && /^220 .*\r\n/m.test(text)) {
        greeted = true;
        text = '';
        if (!ehlo) { s.off('data', onData); return resolve(s); }
        s.write('EHLO idle.bench.test\r\n');
      } else if (greeted && /^250 .*\r\n/m.test(text)) {
        s.off('data', onData);
        resolve(s);
      } else if (/^[45]\d\d /m.test(text)) {
        s.destroy();
        reject(new Error(`refused: ${text.trim()}`));
      }
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

/** The client process: opens sessions up to each target the parent sends, reports when there. */
async function runClient(port: number): Promise<void> {
  const held: net.Socket[] = [];
  process.on('message', async (msg: { target: number }) => {
    const BATCH = 200;
    while (held.length < msg.target) {
      const n = Math.min(BATCH, msg.target - held.length);
      const start = held.length;
      held.push(...await Promise.all(Array.from({ length: n }, (_, k) => openSession(port, sourceOf(start + k), true))));
    }
    for (const s of held) s.on('error', () => undefined);
    process.send!({ open: held.length });
  });
  process.send!({ ready: true });
}

function pssKb(pid: number): { pss: number; rss: number } {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)![1]);
  return { pss: field('Pss'), rss: field('Rss') };
}

async function startRelay(dir: string, port: number): Promise<ChildProcess> {
  const config = {
    hostname: 'relay.bench.test', dataDir: path.join(dir, 'data'), metrics: false,
    smtp: {
      submission: false, submissions: false, mx: false, alt: { host: LISTEN, port },
      relayNetworks: ['127.0.0.0/8'], maxConnections: N + 100, maxConnectionsPerIp: 50, commandTimeout: '30m',
    },
    delivery: { smarthost: '127.0.0.1:9', tls: 'none' },
    http: false, log: { level: 'info' },
  };
  fs.writeFileSync(path.join(dir, 'postlane.yaml'), YAML.stringify(config));
  // exec keeps the pid: it is the relay's own, whose memory is sampled
  const relay = spawn('/bin/sh', ['-c', `ulimit -n ${NOFILE} && exec "$0" start --config "$1"`, BIN, path.join(dir, 'postlane.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] });
  relay.stdout!.resume(); // info lines (relay.started) are read below; the rest is dropped
  await new Promise<void>((resolve, reject) => {
    relay.once('exit', (code) => reject(new Error(`relay exited (${code})`)));
    readline.createInterface({ input: relay.stdout! }).on('line', (l) => {
      try { if (JSON.parse(l).event === 'relay.started') resolve(); } catch { /* not JSON */ }
    });
  });
  return relay;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--client') return runClient(Number(process.argv[3]));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postlane-idle-'));
  const port = Number(process.env.IDLE_PORT ?? 20000 + (process.pid % 20000));
  const relay = await startRelay(dir, port);
  const client = fork(new URL(import.meta.url).pathname, ['--client', String(port)], { execArgv: [], stdio: 'inherit' });
  // the client needs the same number of descriptors: it inherits the limit of this process, raised below if needed
  const replies: ((m: { open?: number; ready?: boolean }) => void)[] = [];
  client.on('message', (m: { open?: number; ready?: boolean }) => replies.shift()?.(m));
  const next = () => new Promise<{ open?: number; ready?: boolean }>((r) => replies.push(r));
  await next();
  const load = os.loadavg()[0]!.toFixed(2);
  const samples: { sessions: number; pssKb: number; rssKb: number }[] = [];
  try {
    for (const target of MARKS) {
      if (target > 0) { client.send({ target }); await next(); }
      await new Promise((r) => setTimeout(r, 3000)); // let the relay settle (young GC) before sampling
      const m = pssKb(relay.pid!);
      samples.push({ sessions: target, pssKb: m.pss, rssKb: m.rss });
      console.log(JSON.stringify({ sessions: target, pss_mb: +(m.pss / 1024).toFixed(1), rss_mb: +(m.rss / 1024).toFixed(1) }));
    }
    const times: number[] = [];
    for (let i = 0; i < GREETINGS; i++) {
      const t0 = performance.now();
      const s = await openSession(port, NET ? `${NET}.${251 + (i % 3)}` : `127.1.0.${i + 1}`, false);
      times.push(performance.now() - t0);
      s.end('QUIT\r\n');
    }
    times.sort((a, b) => a - b);
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    console.log(JSON.stringify({
      summary: true, sessions: N, per_ip: PER_IP, load_1m: +load, idle_pss_mb: +(first.pssKb / 1024).toFixed(1), pss_mb_at_n: +(last.pssKb / 1024).toFixed(1),
      kb_per_session_pss: +((last.pssKb - first.pssKb) / Math.max(1, N)).toFixed(1), kb_per_session_rss: +((last.rssKb - first.rssKb) / Math.max(1, N)).toFixed(1),
      greeting_ms_median: +((times[GREETINGS / 2 - 1]! + times[GREETINGS / 2]!) / 2).toFixed(2), greeting_ms_max: +times[GREETINGS - 1]!.toFixed(2),
    }));
  } finally {
    client.kill();
    relay.kill('SIGKILL');
    await new Promise((r) => relay.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] !== '--client') {
  // Raise this process's own descriptor limit for the client (children inherit it) by re-running under `ulimit -n`.
  const soft = Number(execFileSync('/bin/sh', ['-c', 'ulimit -n']).toString().trim());
  if (soft < NOFILE && !process.env.IDLE_RAISED) {
    const child = spawn('/bin/sh', ['-c', `ulimit -n ${NOFILE} && exec "$0" "$1"`, process.execPath, new URL(import.meta.url).pathname], { stdio: 'inherit', env: { ...process.env, IDLE_RAISED: '1' } });
    child.on('exit', (code) => process.exit(code ?? 1));
  } else {
    main().catch((err) => { console.error(err); process.exit(1); });
  }
} else {
  void main();
}
