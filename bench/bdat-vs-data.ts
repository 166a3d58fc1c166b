// Benchmark (issue 13, outbound CHUNKING): is BDAT cheaper than DATA for the relay's outbound
// sessions? N messages over ONE connection to a sink, three ways, interleaved, RUNS times each.
// Postfix 3.7's smtp-sink (Debian 12) offers no CHUNKING, and smtp-server no BDAT, so the sink is a
// minimal one in a child process of this script (`sink` mode): PIPELINING, CHUNKING; DATA read
// to the "\r\n.\r\n" terminator (no unstuffing), BDAT by count; every command answered 250/354.
//   nodemailer-data  what delivery does today: SMTPConnection.send (pipelined MAIL/RCPT/DATA,
//                    nodemailer's streaming dot-stuffer), one message after the other;
//   raw-data         a minimal client: MAIL+RCPT+DATA pipelined, wait for 354, the body
//                    dot-stuffed in one pass, ".", wait for 250;
//   raw-bdat         the same client with BDAT: MAIL+RCPT+"BDAT <n> LAST"+body in one write,
//                    three replies (no 354 round trip, no dot-stuffing).
// Reported per mode: wall ms/msg and client CPU ms/msg (process.cpuUsage), median of RUNS.
// bench/ is outside tsconfig's include; build and run with:
//   npx tsc -p bench/tsconfig.json && node dist/bench/bdat-vs-data.js [N] [SIZE_KB]
import { fork } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

const SINK_MODE = process.argv[2] === 'sink';
const N = Number(process.argv[2] ?? 2000);
const SIZE = Number(process.argv[3] ?? 20) * 1024;
const RUNS = 5;
const HOST = '127.0.0.9';
const PORT = SINK_MODE ? Number(process.argv[3]) : 25000 + (process.pid % 1000);

/** A message of about SIZE bytes, 76-character lines, one line in ten starting with a dot. */
function makeMessage(): Buffer {
  const lines = ['From: a@bench.test', 'To: b@sink.test', 'Subject: bench', ''];
  for (let i = 0; lines.join('\r\n').length < SIZE; i++) lines.push((i % 10 === 0 ? '.' : 'x') + 'y'.repeat(75));
  return Buffer.from(lines.join('\r\n') + '\r\n');
}

/** Reads SMTP replies (final lines) off a socket, one promise per expected reply. */
class Replies {
  #buf = '';
  #waiting: ((line: string) => void)[] = [];
  #ready: string[] = [];
  constructor(socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.#buf += d.toString('latin1');
      let i: number;
      while ((i = this.#buf.indexOf('\r\n')) >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 2);
        if (line[3] === '-') continue;
        const w = this.#waiting.shift();
        if (w) w(line); else this.#ready.push(line);
      }
    });
  }
  next(): Promise<string> {
    const r = this.#ready.shift();
    return r !== undefined ? Promise.resolve(r) : new Promise((resolve) => this.#waiting.push(resolve));
  }
  async expect(code: string): Promise<void> {
    const line = await this.next();
    if (!line.startsWith(code)) throw new Error(`expected ${code}, got ${line}`);
  }
}

async function rawSession(): Promise<{ socket: net.Socket; replies: Replies }> {
  const socket = net.connect(PORT, HOST);
  socket.setNoDelay(true); // as nodemailer's client: no Nagle delay before the reply is awaited
  socket.on('error', () => undefined); // a reset after QUIT is not a result
  await once(socket, 'connect');
  const replies = new Replies(socket);
  await replies.expect('220');
  socket.write('EHLO bench.test\r\n');
  await replies.expect('250');
  return { socket, replies };
}

const dotStuff = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/(^|\r\n)\./g, '$1..'), 'latin1');

async function rawData(msg: Buffer): Promise<void> {
  const { socket, replies } = await rawSession();
  for (let i = 0; i < N; i++) {
    socket.write('MAIL FROM:<a@bench.test>\r\nRCPT TO:<b@sink.test>\r\nDATA\r\n');
    await replies.expect('250'); await replies.expect('250'); await replies.expect('354');
    socket.write(Buffer.concat([dotStuff(msg), Buffer.from('.\r\n')]));
    await replies.expect('250');
  }
  socket.end('QUIT\r\n');
}

async function rawBdat(msg: Buffer): Promise<void> {
  const { socket, replies } = await rawSession();
  for (let i = 0; i < N; i++) {
    socket.write(Buffer.concat([Buffer.from(`MAIL FROM:<a@bench.test>\r\nRCPT TO:<b@sink.test>\r\nBDAT ${msg.length} LAST\r\n`), msg]));
    await replies.expect('250'); await replies.expect('250'); await replies.expect('250');
  }
  socket.end('QUIT\r\n');
}

async function nodemailerData(msg: Buffer): Promise<void> {
  const conn = new SMTPConnection({ host: HOST, port: PORT, ignoreTLS: true, name: 'bench.test', logger: false });
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  for (let i = 0; i < N; i++) {
    await new Promise<void>((resolve, reject) => conn.send({ from: 'a@bench.test', to: ['b@sink.test'], size: msg.length }, msg, (err) => (err ? reject(err) : resolve())));
  }
  conn.quit();
}

const MODES = { 'nodemailer-data': nodemailerData, 'raw-data': rawData, 'raw-bdat': rawBdat } as const;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The sink: one state machine per connection over a byte buffer. */
function runSink(): void {
  const server = net.createServer((socket) => {
    let buf: Buffer = Buffer.alloc(0);
    let mode: { kind: 'line' } | { kind: 'data' } | { kind: 'bdat'; left: number } = { kind: 'line' };
    socket.setNoDelay(true);
    socket.write('220 sink ESMTP\r\n');
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      const out: string[] = [];
      for (;;) {
        if (mode.kind === 'bdat') {
          const take = Math.min(mode.left, buf.length);
          buf = buf.subarray(take);
          mode.left -= take;
          if (mode.left > 0) break;
          out.push('250 2.0.0 Ok');
          mode = { kind: 'line' };
          continue;
        }
        if (mode.kind === 'data') {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) { buf = buf.subarray(Math.max(0, buf.length - 4)); break; }
          buf = buf.subarray(end + 5);
          out.push('250 2.0.0 Ok');
          mode = { kind: 'line' };
          continue;
        }
        const eol = buf.indexOf('\r\n');
        if (eol < 0) break;
        const line = buf.subarray(0, eol).toString('latin1');
        buf = buf.subarray(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') out.push('250-sink', '250-PIPELINING', '250-8BITMIME', '250 CHUNKING');
        else if (verb === 'DATA') { out.push('354 go'); mode = { kind: 'data' }; buf = Buffer.concat([Buffer.from('\r\n'), buf]); }
        else if (verb === 'BDAT') mode = { kind: 'bdat', left: Number(line.split(' ')[1]) };
        else if (verb === 'QUIT') { out.push('221 bye'); socket.end(out.join('\r\n') + '\r\n'); return; }
        else out.push('250 2.0.0 Ok');
      }
      if (out.length) socket.write(out.join('\r\n') + '\r\n');
    });
  });
  server.listen(PORT, HOST, () => process.send?.('ready'));
}

async function main(): Promise<void> {
  const sink = fork(new URL(import.meta.url).pathname, ['sink', String(PORT)], { silent: true });
  sink.stderr?.pipe(process.stderr);
  await once(sink, 'message');
  const msg = makeMessage();
  const results: Record<string, { wall: number[]; cpu: number[] }> = {};
  try {
    for (let run = 0; run < RUNS; run++) {
      const order = Object.keys(MODES) as (keyof typeof MODES)[];
      if (run % 2 === 1) order.reverse();
      for (const mode of order) {
        const cpu0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await MODES[mode](msg);
        const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
        const cpu = process.cpuUsage(cpu0);
        (results[mode] ??= { wall: [], cpu: [] }).wall.push(wallMs / N);
        results[mode].cpu.push((cpu.user + cpu.system) / 1000 / N);
      }
    }
  } finally {
    sink.kill();
  }
  console.log(`${N} messages of ${msg.length} bytes over one connection to the sink, median of ${RUNS} interleaved runs`);
  for (const [mode, r] of Object.entries(results)) {
    console.log(JSON.stringify({ mode, wallMsPerMsg: +median(r.wall).toFixed(4), clientCpuMsPerMsg: +median(r.cpu).toFixed(4), runs: r.wall.map((w) => +w.toFixed(4)) }));
  }
}

if (SINK_MODE) runSink(); else await main();
