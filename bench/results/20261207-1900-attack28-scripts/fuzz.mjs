import { DataReader } from '/work/wt-attack28/dist/src/ingress/smtp/data-reader.js';
import { ChunkReader } from '/work/wt-attack28/dist/src/ingress/smtp/chunk-reader.js';
import { needsStuffing, linesFind, scanFindsForTest } from '/work/wt-attack28/dist/src/delivery/dot-stuffing.js';
let seed = Number(process.argv[2] ?? 1);
const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
const ri = (n) => Math.floor(rnd() * n);
const atoms = ['a', 'bc', '\r\n', '\r\n', '\r\n', '.', '..', '\r\n.\r\n', '\r\n..\r\n', '\r', '\n', '\0', 'x'.repeat(300), 'y'.repeat(990), 'é'];
function gen(maxAtoms) { let s = ''; const n = ri(maxAtoms); for (let i = 0; i < n; i++) { const a = atoms[ri(atoms.length)]; if ((a === '\r' || a === '\n' || a === '\0') && rnd() < 0.9) continue; s += a; } return Buffer.from(s, 'latin1'); }
const limits = { maxMessageSize: 6000, maxLineLength: 1000 };
function refData(buf) {
  // returns {kind, body, rest, problem}
  let atStart = true, i = 0, out = [], line = 0, longLine = false, nul = false, size = 0;
  while (i < buf.length) {
    if (atStart && buf[i] === 0x2e) {
      if (i + 2 < buf.length + 0 && buf[i+1] === 13 && buf[i+2] === 10) {
        const body = Buffer.from(out);
        size = body.length;
        const problem = size > limits.maxMessageSize ? 'too-big' : longLine ? 'line-too-long' : nul ? 'nul' : null;
        return { kind: 'end', body: problem ? null : body, rest: buf.subarray(i + 3), problem };
      }
      if (i + 2 >= buf.length) return { kind: 'more' };
      i++;
    }
    atStart = false;
    const b = buf[i];
    if (b === 10) return { kind: 'invalid' };
    if (b === 13) { if (i + 1 >= buf.length) return { kind: 'more' }; if (buf[i+1] !== 10) return { kind: 'invalid' }; out.push(13, 10); line += 2; if (line > limits.maxLineLength) longLine = true; line = 0; atStart = true; i += 2; continue; }
    if (b === 0) nul = true;
    out.push(b); line++; if (line > limits.maxLineLength) longLine = true; i++;
  }
  return { kind: 'more' };
}
let bad = 0;
for (let iter = 0; iter < 20000; iter++) {
  DataReader.pieceMax = [16384, 300, 257, 512, 1024][ri(5)];
  const buf = Buffer.concat([gen(60), rnd() < 0.7 ? Buffer.from('\r\n.\r\nMAIL FROM:<x>\r\n') : Buffer.alloc(0)]);
  const want = refData(buf);
  const r = new DataReader(limits);
  let pos = 0, got = { kind: 'more' }, body = [];
  while (pos < buf.length) {
    const n = rnd() < 0.3 ? 1 + ri(3) : 1 + ri(buf.length);
    const res = r.push(buf.subarray(pos, pos + n)); pos += n;
    if (res.kind === 'invalid') { got = { kind: 'invalid' }; break; }
    body.push(...res.data);
    if (res.kind === 'end') { const b = Buffer.concat(body); got = { kind: 'end', body: res.problem ? null : b, rest: Buffer.concat([res.rest, buf.subarray(pos)]), problem: res.problem }; break; }
  }
  const same = got.kind === want.kind && (got.kind !== 'end' || ((got.problem === want.problem) && (got.problem || got.body.equals(want.body)) && got.rest.equals(want.rest)));
  if (!same) { bad++; if (bad < 5) console.log('DATA MISMATCH', JSON.stringify(buf.toString('latin1')), DataReader.pieceMax, want.kind, got.kind, want.problem, got.problem); }
}
// Chunk reader: reference = whole content; invalid if bare CR/LF anywhere; line-too-long; nul; too big
function refChunk(buf) {
  if (buf.length > limits.maxMessageSize) return 'too-big';
  const s = buf.toString('latin1');
  if (/\r(?!\n)|(?<!\r)\n/.test(s)) return 'bare';
  const lines = s.split('\r\n'); if (lines.some((l, i) => l.length + (i < lines.length - 1 ? 2 : 2) > limits.maxLineLength)) return 'line-too-long';
  if (s.includes('\0')) return 'nul';
  return null;
}
for (let iter = 0; iter < 20000; iter++) {
  ChunkReader.pieceMax = [16384, 300, 257, 512][ri(4)];
  const buf = gen(60);
  const want = refChunk(buf);
  const r = new ChunkReader(limits); let out = []; let pos = 0;
  while (pos < buf.length) { const n = rnd() < 0.3 ? 1 + ri(3) : 1 + ri(buf.length); out.push(...r.push(buf.subarray(pos, pos + n))); pos += n; }
  out.push(...r.end());
  let p = r.problem; if (p === 'bare-cr' || p === 'bare-lf') p = 'bare';
  const body = Buffer.concat(out);
  const expBody = buf.length && !buf.toString('latin1').endsWith('\r\n') ? Buffer.concat([buf, Buffer.from('\r\n')]) : buf;
  // problem precedence may differ (first found); compare null-ness and body
  const ok = (want === null) === (p === null) && (p !== null || body.equals(expBody));
  if (!ok) { bad++; if (bad < 10) console.log('CHUNK MISMATCH', JSON.stringify(buf.toString('latin1')).slice(0, 300), want, p); }
}
// stuffing: needsStuffing over random splits vs whole-chunk truth
for (let iter = 0; iter < 20000; iter++) {
  const buf = Buffer.concat([gen(80), rnd() < 0.5 ? Buffer.alloc(17000 + ri(2000), 'z') : Buffer.alloc(0), gen(40)]);
  const truth = /\r(?!\n)|(?<!\r)\n|(^|\n)\./.test(buf.toString('latin1').replace(/\r$/, ''));
  const a = linesFind(buf), b = buf.length ? scanFindsForTest(buf) : false;
  const firstTruth = truth;
  if (buf.length >= 1 && (needsStuffing(buf, false) !== firstTruth)) { bad++; if (bad < 15) console.log('STUFF MISMATCH', JSON.stringify(buf.toString('latin1').slice(0, 200)), truth); }
}
console.log('bad', bad);
