// node tf-bdat.mjs BASE_DIST NEW_DIST [ROUNDS=7] [SIZE=4096]: real CPU (TurboFan on) of ChunkReader.push + end() over an
// mgen-like message as one BDAT LAST chunk (cpu20's cr-bench message), base and new builds alternating in one process;
// µs a message, median of rounds. SIZE over 64 KB is pushed in 64 KB pieces (as a socket read gives them).
const [baseDir, newDir, R, SIZE] = [process.argv[2], process.argv[3], Number(process.argv[4] ?? 7), Number(process.argv[5] ?? 4096)];
const base = (await import(`${baseDir}/dist/src/ingress/smtp/chunk-reader.js`)).ChunkReader;
const build = (await import(`${newDir}/dist/src/ingress/smtp/chunk-reader.js`)).ChunkReader;
const hdr = 'From: <s@x.test>\r\nTo: <0-0-u@a.test>\r\nDate: Sun, 06 Dec 2026 14:00:00 +0000\r\nMessage-Id: <mgen.1.2@h>\r\nSubject: mgen 1\r\n\r\n';
let body = ''; let n = 0; while (body.length < SIZE) body += String(++n % 10) + 'X'.repeat(77) + '\r\n';
const msg = Buffer.from(hdr + body, 'latin1');
const reads = []; for (let at = 0; at < msg.length; at += 65536) reads.push(msg.subarray(at, at + 65536));
const M = Math.max(200, Math.round(40000 * 4096 / SIZE)), med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const res = { base: [], build: [] };
let sink = 0;
const once = (C) => { const r = new C({ maxMessageSize: 1e8, maxLineLength: 1000 }); for (const c of reads) sink += r.push(c).length; sink += r.end().length + (r.problem ? 1000 : 0); };
for (let r = 0; r < R; r++) for (const mode of ['base', 'build', 'build', 'base']) {
  const C = mode === 'base' ? base : build;
  const t = process.cpuUsage();
  for (let i = 0; i < M; i++) once(C);
  const u = process.cpuUsage(t); res[mode].push((u.user + u.system) / M);
}
const b = med(res.base), w = med(res.build);
console.log(JSON.stringify({ size: msg.length, base_us: +b.toFixed(3), build_us: +w.toFixed(3), ratio: +(w / b).toFixed(3), sink }));
