import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkReader, chunkReply, type ChunkProblem } from './chunk-reader.js';

const LIMITS = { maxMessageSize: 1000, maxLineLength: 1000 };

/** Feeds the pieces, then ends the message; returns what would be stored and the problem. */
function run(pieces: string[], limits = LIMITS): { stored: string; problem: ChunkProblem | null; writes: string[] } {
  const reader = new ChunkReader(limits);
  const writes: string[] = [];
  for (const p of pieces) for (const b of reader.push(Buffer.from(p, 'latin1'))) writes.push(b.toString('latin1'));
  for (const b of reader.end()) writes.push(b.toString('latin1'));
  return { stored: reader.problem ? '' : writes.join(''), problem: reader.problem, writes };
}

/** Every cut of `wire` into two pieces, one byte at a time, and whole. */
function splits(wire: string): string[][] {
  const out: string[][] = [[wire], [...wire]];
  for (let i = 1; i < wire.length; i++) out.push([wire.slice(0, i), wire.slice(i)]);
  return out;
}

test('the bytes are the message: no dot-stuffing, no end marker, in any split', () => {
  const wire = 'Subject: x\r\n\r\n.\r\n..two dots stay two\r\n.\r\nQUIT\r\nMAIL FROM:<x@y>\r\n';
  for (const pieces of splits(wire)) {
    const r = run(pieces);
    assert.deepEqual([r.stored, r.problem], [wire, null], JSON.stringify(pieces));
    assert.ok(r.writes.every((w, i) => !(w.endsWith('\r') && r.writes[i + 1]?.startsWith('\n'))), 'a CRLF is never split between writes');
  }
});

test('a last line without CRLF gets one; an empty message stays empty', () => {
  assert.equal(run(['Subject: x\r\n\r\nno newline']).stored, 'Subject: x\r\n\r\nno newline\r\n');
  assert.equal(run([]).stored, '');
  assert.equal(run(['', '']).stored, '');
});

test('bare LF or bare CR anywhere, also across pieces and at the very end: refused', () => {
  const cases: [string, ChunkProblem][] = [
    ['a\nb\r\n', 'bare-lf'], ['a\r\n\n.\n\r\n', 'bare-lf'], ['a\rb\r\n', 'bare-cr'], ['a\r\r\n', 'bare-cr'],
    ['ends with CR\r', 'bare-cr'], ['x\r\n.\r', 'bare-cr'], ['\n', 'bare-lf'],
  ];
  for (const [wire, problem] of cases) {
    for (const pieces of splits(wire)) assert.equal(run(pieces).problem, problem, JSON.stringify(pieces));
  }
});

test('NUL, lines over the limit and size over the limit: refused, nothing stored', () => {
  assert.equal(run(['a\0b\r\n']).problem, 'nul');
  const line998 = 'x'.repeat(998);
  const roomy = { maxMessageSize: 10_000, maxLineLength: 1000 };
  assert.equal(run([`${line998}\r\n`], roomy).problem, null, '998 octets and CRLF is the limit');
  assert.equal(run([line998], roomy).stored, `${line998}\r\n`, 'also when the CRLF is added');
  for (const pieces of splits(`${line998}y\r\n`)) if (pieces.length <= 2) assert.equal(run(pieces, roomy).problem, 'line-too-long');
  assert.equal(run([`${line998}y`], roomy).problem, 'line-too-long', 'a last line without CRLF is counted too');
  const r = new ChunkReader(LIMITS);
  assert.equal(r.push(Buffer.alloc(600, 0x61)).length, 1);
  assert.deepEqual(r.push(Buffer.alloc(401, 0x61)), [], 'over 1000 octets in all');
  assert.equal(r.problem, 'too-big');
  assert.deepEqual(r.push(Buffer.from('more')), []);
  assert.equal(r.size, 1005, 'still counted');
  assert.deepEqual(r.end(), []);
  assert.equal(run([Buffer.alloc(1000, 0x61).toString('latin1')], { maxMessageSize: 1000, maxLineLength: 2000 }).problem, null, 'exactly the limit');
});

test('replies: bare CR/LF keeps DATA\'s code without closing; content problems as DATA', () => {
  assert.deepEqual(chunkReply('bare-lf', LIMITS), { code: 550, enhanced: '5.5.2', text: 'Bare CR or LF in message data is not allowed' });
  assert.deepEqual(chunkReply('too-big', LIMITS), { code: 552, enhanced: '5.3.4', text: 'Message too big' });
  assert.equal(chunkReply('line-too-long', LIMITS).code, 550);
});

test('property: any split gives the same verdict and the same stored bytes as the whole', () => {
  const alphabet = fc.constantFrom('a', '.', '\r', '\n', '\r\n', '\0', 'é');
  fc.assert(fc.property(fc.array(alphabet, { maxLength: 60 }), fc.array(fc.nat(60), { maxLength: 6 }), (parts, cuts) => {
    const wire = parts.join('');
    const at = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
    const pieces = [0, ...at].map((start, i) => wire.slice(start, [...at, wire.length][i]));
    const whole = run([wire]);
    const split = run(pieces);
    assert.deepEqual([split.stored, split.problem], [whole.stored, whole.problem]);
    if (!whole.problem) assert.equal(whole.stored, /(?:^|\r\n)$/.test(wire) ? wire : wire + '\r\n');
    if (/\r(?!\n)|(?<!\r)\n/.test(wire)) assert.ok(whole.problem !== null);
  }));
});

test('the line walk reads every split as the line loop alone does: same writes, problem and size (fast-check)', () => {
  // lines of plain text, NUL, bare CR or LF (also at a piece's edge), long runs, CRLF
  const token = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('abc', 'X'.repeat(70), 'Subject: x', 'x', '.') },
    { weight: 8, arbitrary: fc.constant('\r\n') },
    { weight: 1, arbitrary: fc.constantFrom('\r', '\n', '\0', 'Y'.repeat(300), '\r\r\n', '\n\r', 'Z'.repeat(999), 'W'.repeat(998)) },
  );
  const messy = fc.array(token, { minLength: 1, maxLength: 120 }).map((t) => t.join(''));
  // mostly plain lines (the walk's case), now and then a NUL, a bare CR or LF, a line ending in CR
  const line = fc.oneof({ weight: 30, arbitrary: fc.nat({ max: 130 }).map((n) => 'L'.repeat(n)) },
    { weight: 1, arbitrary: fc.constantFrom('a\0b', 'a\rb', 'a\nb', 'x\r', 'M'.repeat(1100), '\n') });
  const plain = fc.array(line, { minLength: 1, maxLength: 300 }).map((l) => l.join('\r\n'));
  const wire = fc.tuple(fc.oneof(messy, plain, plain), fc.constantFrom('', '\r\n', '\r', '\n'))
    .map(([body, tail]) => body + tail);
  const cuts = fc.array(fc.integer({ min: 1, max: 20000 }), { minLength: 1, maxLength: 6 });
  const limits = fc.record({ maxMessageSize: fc.constantFrom(100, 2000, 1e6), maxLineLength: fc.constantFrom(20, 80, 100, 1000) });
  const pieceMax = fc.constantFrom(257, 300, 1000, 4096, 16 * 1024);
  fc.assert(fc.property(wire, cuts, limits, pieceMax, (w, sizes, l, max) => {
    assert.deepStrictEqual(readChunks(w, sizes, l, true, max), readChunks(w, sizes, l, false, max));
  }), { numRuns: 3000 });
  // How many random pieces take the walk varies with fast-check's seed: the property above needs only some; a
  // fixed plain push below must take it every time (its one latin1 copy is the walk's only trace).
  const piece = 'L'.repeat(70) + '\r\n';
  const plainWire = piece.repeat(Math.ceil(4096 / piece.length));
  const copies: number[] = [];
  const walked = withCopiesCounted(copies, () => readChunks(plainWire, [plainWire.length], LIMITS_1000, true, 16 * 1024));
  assert.deepStrictEqual(walked, readChunks(plainWire, [plainWire.length], LIMITS_1000, false, 16 * 1024));
  assert.deepEqual(copies, [plainWire.length], 'a 4 KB push of plain 72-byte lines is walked in one piece');
});

test('a push over 16 KB is walked in pieces of at most 16 KB, each cut after an LF', () => {
  const line = 'L'.repeat(78) + '\r\n';
  const wire = line.repeat(Math.ceil(100 * 1024 / line.length));
  const copies: number[] = [];
  const walked = withCopiesCounted(copies, () => readChunks(wire, [64 * 1024], LIMITS_1000, true, 16 * 1024));
  assert.deepStrictEqual(walked, readChunks(wire, [64 * 1024], LIMITS_1000, false, 16 * 1024));
  assert.equal(walked.problem, null);
  assert.ok(copies.length >= 7 && copies.every((n) => n <= 16 * 1024), `pieces ${copies.join(',')}`);
  assert.equal(copies.reduce((a, b) => a + b, 0) <= wire.length, true, 'each octet walked at most once');
});

test('a bare LF starting a walked piece, and a NUL inside one, are the loop\'s verdict', () => {
  const head = 'H'.repeat(1022) + '\r\n'; // a 1,024-octet first piece; the next starts with the bare LF
  const wire = head + '\n' + 'M'.repeat(400); // no CR after the LF: only the start guard sees it
  for (const scan of [true, false]) assert.equal(readChunks(wire, [wire.length], { maxMessageSize: 1e6, maxLineLength: 2000 }, scan, 1024).problem, 'bare-lf');
  const nul = 'x'.repeat(300) + '\r\n' + 'y\0' + 'z'.repeat(300) + '\r\n';
  for (const scan of [true, false]) assert.equal(readChunks(nul, [nul.length], LIMITS_1000, scan, 16 * 1024).problem, 'nul');
});

/** What a ChunkReader makes of `w` pushed in pieces of `sizes` (cycled), with the walk on or off and walked pieces of at most `pieceMax`. */
function readChunks(w: string, sizes: number[], l: { maxMessageSize: number; maxLineLength: number }, scan: boolean, pieceMax: number) {
  ChunkReader.plainScan = scan;
  ChunkReader.pieceMax = pieceMax;
  try {
    const bytes = Buffer.from(w, 'latin1');
    const reader = new ChunkReader(l);
    const out: string[] = [];
    for (let at = 0, k = 0; at < bytes.length; k++) {
      const n = sizes[k % sizes.length]!;
      out.push(Buffer.concat(reader.push(bytes.subarray(at, at + n))).toString('latin1'));
      at += n;
    }
    out.push(Buffer.concat(reader.end()).toString('latin1'));
    return { out, size: reader.size, problem: reader.problem };
  } finally {
    ChunkReader.plainScan = true;
    ChunkReader.pieceMax = 16 * 1024;
  }
}

/** Runs `f` with every ranged latin1 copy of a Buffer (the walk's, one a piece) counted into `copies`. */
function withCopiesCounted<T>(copies: number[], f: () => T): T {
  const toString = Buffer.prototype.toString;
  Buffer.prototype.toString = function (this: Buffer, ...args: unknown[]) {
    if (args[0] === 'latin1' && typeof args[1] === 'number' && typeof args[2] === 'number') copies.push(args[2] - args[1]);
    return (toString as (...a: unknown[]) => string).apply(this, args);
  } as typeof toString;
  try { return f(); } finally { Buffer.prototype.toString = toString; }
}

const LIMITS_1000 = { maxMessageSize: 1e6, maxLineLength: 1000 };
