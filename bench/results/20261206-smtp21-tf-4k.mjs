// node tf-4k-scan.mjs DIST [ROUNDS=7]: real CPU (TurboFan on) of DataReader.push over a mgen-like 4 KB message in one read,
// data19's plain scan on and off (DataReader.plainScan), alternating in one process; µs a message, median of rounds
const [dist, R] = [process.argv[2], Number(process.argv[3] ?? 7)];
const { DataReader } = await import(`${dist}/dist/src/ingress/smtp/data-reader.js`);
const hdr = 'From: <s@x.test>\r\nTo: <0-0-u@a.test>\r\nDate: Sun, 06 Dec 2026 14:00:00 +0000\r\nMessage-Id: <mgen.1.2@h>\r\nSubject: mgen 1\r\n\r\n';
let body = ''; let n = 0; while (body.length < 4096) body += String(++n % 10) + 'X'.repeat(77) + '\r\n';
const msg = Buffer.from(hdr + body + '.\r\n', 'latin1');
const M = 40000, med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const res = { scan: [], loop: [], walk: [] };
let sink = 0;
for (let r = 0; r < R; r++) for (const mode of ['scan', 'loop', 'walk', 'walk', 'loop', 'scan']) {
  DataReader.plainScan = mode !== 'loop'; DataReader.pieceMax = mode === 'walk' ? 1024 : 16384;
  const t = process.cpuUsage();
  for (let i = 0; i < M; i++) sink += new DataReader({ maxMessageSize: 1e7, maxLineLength: 1000 }).push(msg).data.length;
  const u = process.cpuUsage(t); res[mode].push((u.user + u.system) / M);
}
console.log(JSON.stringify({ dist, scan_us: +med(res.scan).toFixed(3), loop_us: +med(res.loop).toFixed(3), walk_1k_pieces_us: +med(res.walk).toFixed(3), sink }));
