// Benchmark: CPU per 100 KB message on the way out, nodemailer's DataStream (dot-stuffing and
// bare CR/LF repair walked byte by byte in JavaScript) against the same stream with Postlane's
// fast path (delivery/dot-stuffing.ts: a chunk that needs nothing passes through), interleaved in
// one invocation. The message is shaped like smtp-source's (workload ii): 78-octet lines, CRLF.
// Sent as one chunk (an inline body, up to 256 KiB) and as 64 KiB chunks (a spool file).
// CPU ms per message (process.cpuUsage over a batch), median of ROUNDS batches, ratio of medians.
//   npx tsc -p bench/tsconfig.json && node dist/bench/large-body.js [rounds=9] [batch=300]
import { withFastPath } from '../src/delivery/smtp-connection.js';

type DataStream = Parameters<typeof withFastPath>[0];
const { default: DataStreamClass } = await import(new URL('./smtp-connection/data-stream.js', import.meta.resolve('nodemailer')).href) as
  { default: new () => DataStream };

const ROUNDS = Number(process.argv[2] ?? 9);
const BATCH = Number(process.argv[3] ?? 300);
const header = 'From: <foo@vm>\r\nTo: <foo@vm>\r\nDate: Fri,  4 Dec 2026 14:57:47 +0000 (UTC)\r\nMessage-Id: <74db.0003.0000@vm>\r\n\r\n';
const lines = Array.from({ length: 1280 }, (_, i) => `${i}`.padEnd(78, 'X') + '\r\n');
const message = Buffer.from(header + lines.join(''));
const inline = [message];
const spooled: Buffer[] = [];
for (let o = 0; o < message.length; o += 65536) spooled.push(message.subarray(o, o + 65536));

function send(chunks: Buffer[], fast: boolean): void {
  const s = new DataStreamClass();
  if (fast) withFastPath(s);
  s.on('data', () => undefined);
  for (const c of chunks) s.write(c);
  s.end();
}

function cpuMsPerMessage(chunks: Buffer[], fast: boolean): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < BATCH; i++) send(chunks, fast);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000 / BATCH;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, chunks] of [['inline (1 chunk)', inline], ['spool (64 KiB chunks)', spooled]] as const) {
  cpuMsPerMessage(chunks, false); cpuMsPerMessage(chunks, true); // warm-up
  const before: number[] = [];
  const after: number[] = [];
  for (let r = 0; r < ROUNDS; r++) { before.push(cpuMsPerMessage(chunks, false)); after.push(cpuMsPerMessage(chunks, true)); }
  const b = median(before);
  const a = median(after);
  console.log(JSON.stringify({ bench: 'large-body-egress', shape: name, bytes: message.length, rounds: ROUNDS, batch: BATCH,
    datastream_ms_per_msg: +b.toFixed(4), fast_path_ms_per_msg: +a.toFixed(4), ratio: +(b / a).toFixed(1) }));
}
