// node tf-bench.mjs DIST [ROUNDS=7]: real CPU (TurboFan on) of the DATA reader over a smtp-source-like 100 KB
// message in 64 KB reads, and of needsStuffing over the whole 100 KB body; µs a message, median of rounds
const [dist, R] = [process.argv[2], Number(process.argv[3] ?? 7)];
const { DataReader } = await import(`${dist}/dist/src/ingress/smtp/data-reader.js`);
const { needsStuffing } = await import(`${dist}/dist/src/delivery/dot-stuffing.js`);
const hdr = 'From: <sender@src.test>\r\nTo: <rcpt@dst.test>\r\nSubject: x\r\n\r\n';
let body = ''; let n = 0; while (body.length < 102400) body += String(++n % 10) + 'X'.repeat(77) + '\r\n';
const size = Number(process.env.SIZE ?? 0);
if (size) body = body.slice(0, size);
const msg = Buffer.from(hdr + body + '.\r\n', 'latin1');
const stored = Buffer.from(hdr + body, 'latin1');
const reads = []; for (let at = 0; at < msg.length; at += 65536) reads.push(msg.subarray(at, at + 65536));
const M = size ? 20000 : 2000;
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const rd = [], st = [];
let sink = 0;
for (let r = 0; r < R; r++) {
  let t = process.cpuUsage();
  for (let i = 0; i < M; i++) { const d = new DataReader({ maxMessageSize: 1e7, maxLineLength: 1000 }); for (const c of reads) sink += d.push(c).data.length; }
  let u = process.cpuUsage(t); rd.push((u.user + u.system) / M);
  t = process.cpuUsage();
  for (let i = 0; i < M; i++) sink += needsStuffing(stored, false) ? 1 : 0;
  u = process.cpuUsage(t); st.push((u.user + u.system) / M);
}
console.log(JSON.stringify({ dist, size: msg.length, reader_us: +med(rd).toFixed(2), stuffing_us: +med(st).toFixed(2), sink }));
