// node --no-opt cr-bench.cjs DIST M [noscan]: ChunkReader.push of an mgen-like 4 KB message (one BDAT LAST chunk) and end(), M times
// (cpu20, twentieth session; data19's dr-bench.cjs for BDAT). Instructions per message: (count(M) - count(0)) / M under callgrind.
const [dist, M, noscan] = [process.argv[2], Number(process.argv[3]), process.argv[4] === 'noscan'];
(async () => {
  const { ChunkReader } = await import(`${dist}/dist/src/ingress/smtp/chunk-reader.js`);
  if (noscan) ChunkReader.plainScan = false;
  let hdr = 'From: <s@x.test>\r\nTo: <0-0-u@a.test>\r\nDate: Sun, 06 Dec 2026 14:00:00 +0000\r\nMessage-Id: <mgen.1.2@h>\r\nSubject: mgen 1\r\n\r\n';
  let body = ''; let n = 0; while (body.length < 4096) { const l = String(++n % 10) + 'X'.repeat(77); body += l + '\r\n'; }
  const msg = Buffer.from(hdr + body, 'latin1');
  let sink = 0;
  for (let i = 0; i < M; i++) { const r = new ChunkReader({ maxMessageSize: 1e7, maxLineLength: 1000 }); sink += r.push(msg).length + r.end().length + (r.problem ? 100 : 0); }
  if (sink !== M) throw new Error('unexpected ' + sink);
})();
