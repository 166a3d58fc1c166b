// node --no-opt dr-bench.cjs DIST M: DataReader.push of an mgen-like 4 KB message, M times
const [dist, M] = [process.argv[2], Number(process.argv[3])];
(async () => {
  const { DataReader } = await import(`${dist}/dist/src/ingress/smtp/data-reader.js`);
  let hdr = 'From: <s@x.test>\r\nTo: <0-0-u@a.test>\r\nDate: Sun, 06 Dec 2026 14:00:00 +0000\r\nMessage-Id: <mgen.1.2@h>\r\nSubject: mgen 1\r\n\r\n';
  let body = ''; let n = 0; while (body.length < 4096) { const l = String(++n % 10) + 'X'.repeat(77); body += l + '\r\n'; }
  const msg = Buffer.from(hdr + body + '.\r\n', 'latin1');
  let sink = 0;
  for (let i = 0; i < M; i++) { const r = new DataReader({ maxMessageSize: 1e7, maxLineLength: 1000 }); const o = r.push(msg); sink += o.data.length + (o.kind === 'end' ? 1 : 0); }
  if (sink !== 2 * M && M) throw new Error('unexpected ' + sink);
})();
