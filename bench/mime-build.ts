// Benchmark: CPU per composed API message, MailComposer's tree written by MimeNode.build() (streams,
// as before issue 14) against buildMimeBytes (src/ingress/http/mime-bytes.ts, the same bytes),
// interleaved in one invocation, on the api-send message (text + HTML, ≈3 KB) through
// prepareMessage().build() minus the writer, so compile() is in both. CPU ms per message
// (process.cpuUsage over a batch), median of ROUNDS batches of BATCH messages, ratio of medians.
// Third way (2026-12-05, eighth session): buildSimpleMessage (src/ingress/http/mime-simple.ts, no
// composer at all, the same bytes), what prepareMessage().build() now does for a message without
// attachments.
//   npx tsc -p bench/tsconfig.json && node dist/bench/mime-build.js [rounds=9] [batch=300]
import MailComposer from 'nodemailer/lib/mail-composer';
import { buildMimeBytes } from '../src/ingress/http/mime-bytes.js';
import { buildSimpleMessage } from '../src/ingress/http/mime-simple.js';

const ROUNDS = Number(process.argv[2] ?? 9);
const BATCH = Number(process.argv[3] ?? 300);
const mail = {
  from: { name: 'App', address: 'app@acme.test' }, to: [{ name: '', address: 'bob@dest.test' }], cc: [], bcc: [],
  subject: 'Your receipt', text: 'Thanks! '.repeat(200), html: `<p>${'Thanks! '.repeat(200)}</p>`, headers: {}, attachments: [],
  disableFileAccess: true, disableUrlAccess: true, newline: 'windows',
};
const compile = (i: number) => new MailComposer({ ...mail, messageId: `<m${i}@relay.test>`, date: new Date() }).compile();

const ways: Record<string, (i: number) => Promise<Buffer>> = {
  'MimeNode.build': (i) => compile(i).build(),
  buildMimeBytes: async (i) => buildMimeBytes(compile(i))!,
  buildSimpleMessage: async (i) => buildSimpleMessage({ ...mail, messageId: `<m${i}@relay.test>`, date: new Date() })!,
};

async function cpuMsPerMessage(build: (i: number) => Promise<Buffer>): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < BATCH; i++) await build(i);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000 / BATCH;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = new Map<string, number[]>(Object.keys(ways).map((w) => [w, []]));
for (const [, build] of Object.entries(ways)) await cpuMsPerMessage(build); // warm-up
for (let r = 0; r < ROUNDS; r++) for (const [name, build] of Object.entries(ways)) results.get(name)!.push(await cpuMsPerMessage(build));
const [before, after] = [median(results.get('MimeNode.build')!), median(results.get('buildMimeBytes')!)];
console.log(`${BATCH} messages a batch, median of ${ROUNDS}: MimeNode.build ${before.toFixed(3)} ms, buildMimeBytes ${after.toFixed(3)} ms CPU per message: ${(after / before).toFixed(2)}x`);
const simple = median(results.get('buildSimpleMessage')!);
console.log(`buildSimpleMessage ${simple.toFixed(3)} ms CPU per message: ${(simple / after).toFixed(2)}x buildMimeBytes, ${(simple / before).toFixed(2)}x MimeNode.build`);
