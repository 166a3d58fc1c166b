import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataReader, contentReply, type PushResult } from './data-reader.js';

const LIMITS = { maxMessageSize: 1000, maxLineLength: 1000 };

/** Feeds the chunks in order; returns the body, the last result and how many chunks were used. */
function run(chunks: (string | Buffer)[], limits = LIMITS) {
  const reader = new DataReader(limits);
  const body: Buffer[] = [];
  let last: PushResult | null = null;
  let used = 0;
  for (const c of chunks) {
    used++;
    last = reader.push(Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1'));
    if (last.kind !== 'invalid') body.push(...last.data);
    if (last.kind !== 'more') break;
  }
  return { body: Buffer.concat(body).toString('latin1'), last: last!, used, reader };
}

/** Every way of cutting `wire` into two pieces, plus one byte at a time. */
function splits(wire: string): string[][] {
  const out: string[][] = [[wire], [...wire]];
  for (let i = 1; i < wire.length; i++) out.push([wire.slice(0, i), wire.slice(i)]);
  return out;
}


type Limits = { maxMessageSize: number; maxLineLength: number };
/** What a DataReader makes of `w` pushed in reads of `sizes` (cycled), with the scan on or off and pieces of at most `pieceMax`. */
function readWire(w: string, sizes: number[], l: Limits, plainScan: boolean, pieceMax: number) {
  DataReader.plainScan = plainScan;
  const defaultPieceMax = DataReader.pieceMax;
  DataReader.pieceMax = pieceMax;
  try {
    const bytes = Buffer.from(w, 'latin1');
    const reader = new DataReader(l);
    const out: unknown[] = [];
    for (let at = 0, k = 0; at < bytes.length; k++) {
      const n = sizes[k % sizes.length]!;
      const r = reader.push(bytes.subarray(at, at + n));
      at += n;
      out.push(r.kind === 'invalid' ? r : { kind: r.kind, data: Buffer.concat(r.data).toString('latin1'), ...(r.kind === 'end' ? { rest: r.rest.toString('latin1'), problem: r.problem } : {}) });
      if (r.kind !== 'more') break;
    }
    return { out, size: reader.size, problem: reader.problem };
  } finally {
    DataReader.plainScan = true;
    DataReader.pieceMax = defaultPieceMax;
  }
}

test('ends at CRLF.CRLF, unstuffs dots, returns the bytes after the end, in any chunking', () => {
  const wire = 'Subject: x\r\n\r\n..leading dot\r\n.\r\n.. \r\nend\r\n.\r\nQUIT\r\n';
  for (const chunks of splits(wire)) {
    const r = run(chunks);
    assert.equal(r.last.kind, 'end', JSON.stringify(chunks));
    assert.equal(r.body, 'Subject: x\r\n\r\n.leading dot\r\n');
    if (r.last.kind === 'end') {
      const rest = r.last.rest.toString('latin1') + chunks.slice(r.used).join('');
      assert.equal(rest, '.. \r\nend\r\n.\r\nQUIT\r\n');
      assert.equal(r.last.problem, null);
    }
  }
});

test('empty message and a message of one dot-stuffed line', () => {
  assert.deepEqual([run(['.\r\n']).last.kind, run(['.\r\n']).body], ['end', '']);
  assert.equal(run(['...\r\n.\r\n']).body, '..\r\n');
});

test('SMTP smuggling: every bare LF / bare CR end-of-data variant is invalid, whatever the chunking', () => {
  const variants: [string, 'bare-lf' | 'bare-cr'][] = [
    ['a\r\n\n.\n', 'bare-lf'],
    ['a\r\n\r.\r', 'bare-cr'],
    ['a\n.\r\n', 'bare-lf'],
    ['a\r\n.\n', 'bare-lf'],
    ['a\r\n.\r', 'bare-cr'],   // followed by more data below
    ['a\r.\r\n', 'bare-cr'],
    ['a\nb\r\n', 'bare-lf'],
  ];
  for (const [prefix, reason] of variants) {
    const wire = `${prefix}x\r\nMAIL FROM:<evil@example.com>\r\n.\r\n`;
    for (const chunks of splits(wire)) {
      const r = run(chunks);
      assert.deepEqual(r.last, { kind: 'invalid', reason }, JSON.stringify(chunks));
      assert.ok(!r.body.includes('MAIL FROM'), 'nothing after the violation is passed on');
    }
  }
});

test('a bare CR or LF in the first line', () => {
  assert.deepEqual(run(['\n.\r\n']).last, { kind: 'invalid', reason: 'bare-lf' });
  assert.deepEqual(run(['\r.\r\n']).last, { kind: 'invalid', reason: 'bare-cr' });
});

test('too big: stops passing data on, reads to the end, reports too-big', () => {
  const line = 'x'.repeat(98) + '\r\n';
  const r = run([line.repeat(5), line.repeat(6), line, '.\r\nNOOP\r\n']);
  assert.equal(r.last.kind, 'end');
  if (r.last.kind === 'end') {
    assert.equal(r.last.problem, 'too-big');
    assert.equal(r.last.rest.toString(), 'NOOP\r\n');
  }
  assert.equal(r.body.length, 500, 'only the part before the limit was passed on');
  assert.equal(r.reader.size, 1200);
});

test('exactly at the size limit is fine', () => {
  const r = run(['x'.repeat(998) + '\r\n.\r\n']);
  assert.equal(r.last.kind === 'end' && r.last.problem, null);
  assert.equal(r.body.length, 1000);
});

test('NUL bytes and over-long lines are content problems, framing goes on', () => {
  const nul = run(['a\0b\r\n', 'more\r\n.\r\n'], { maxMessageSize: 10_000, maxLineLength: 1000 });
  assert.equal(nul.last.kind === 'end' && nul.last.problem, 'nul');
  const long = run(['y'.repeat(600), 'y'.repeat(600), '\r\n.\r\n'], { maxMessageSize: 10_000, maxLineLength: 1000 });
  assert.equal(long.last.kind === 'end' && long.last.problem, 'line-too-long');
  const fits = run(['y'.repeat(998), '\r\n.\r\n'], { maxMessageSize: 10_000, maxLineLength: 1000 });
  assert.equal(fits.last.kind === 'end' && fits.last.problem, null, 'the limit includes CRLF');
});

test('the 998-octet line limit (RFC 5322 2.1.1): CRLF included, a transparency dot not counted, in any chunking', () => {
  const big = { maxMessageSize: 100_000, maxLineLength: 1000 };
  const problemOf = (wire: string, chunks = [wire]) => { const r = run(chunks, big); return r.last.kind === 'end' ? r.last.problem : r.last.kind; };
  const at998 = `Subject: x\r\n\r\n${'a'.repeat(998)}\r\nshort\r\n.\r\n`;
  const at999 = `Subject: x\r\n\r\n${'a'.repeat(999)}\r\n.\r\n`;
  for (const chunks of [[at998], at998.match(/[^]{1,7}/g)!, [at998.slice(0, 600), at998.slice(600, 1015), at998.slice(1015)]]) {
    assert.equal(problemOf(at998, chunks), null);
  }
  for (const chunks of [[at999], at999.match(/[^]{1,7}/g)!, [at999.slice(0, 1016), at999.slice(1016)]]) {
    assert.equal(problemOf(at999, chunks), 'line-too-long');
  }
  assert.equal(problemOf(`${'h'.repeat(999)}: x\r\n\r\nbody\r\n.\r\n`), 'line-too-long', 'header lines too');
  assert.equal(problemOf(`x\r\n\r\n..${'d'.repeat(997)}\r\n.\r\n`), null, 'a stuffed line of 998 octets (999 on the wire)');
  assert.equal(problemOf(`x\r\n\r\n..${'d'.repeat(998)}\r\n.\r\n`), 'line-too-long');
  assert.equal(problemOf(`x\r\n\r\n${'e'.repeat(5000)}\r\n.\r\n`), 'line-too-long');
});

test('the line-too-long reply names the limit', () => {
  assert.deepEqual(contentReply('line-too-long', { maxLineLength: 1000 }),
    { code: 550, enhanced: '5.6.0', text: 'Message has a line longer than 998 octets; encode long lines (quoted-printable or base64)' });
  assert.equal(contentReply('nul', { maxLineLength: 1000 }).text, 'NUL bytes in message data are not allowed');
});

test('random chunkings of a random message give the same body', () => {
  let seed = 42;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  for (let round = 0; round < 50; round++) {
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) lines.push(['.', '..', 'a.b', '', 'x'.repeat(rand(80))][rand(5)]!);
    const body = lines.map((l) => l + '\r\n').join('');
    const wire = lines.map((l) => (l.startsWith('.') ? '.' + l : l) + '\r\n').join('') + '.\r\n';
    const chunks: string[] = [];
    for (let i = 0; i < wire.length;) { const n = 1 + rand(20); chunks.push(wire.slice(i, i + n)); i += n; }
    const r = run(chunks, { maxMessageSize: 100_000, maxLineLength: 1000 });
    assert.equal(r.last.kind, 'end');
    assert.equal(r.body, body);
  }
});

test('several content problems: the same one is reported in any chunking (too-big, then line-too-long, then NUL)', () => {
  // Found by the fuzzer (test/fuzz/targets/data-reader.ts): the first problem seen used to win, so
  // the reply depended on where the packets were cut.
  const small = { maxMessageSize: 10, maxLineLength: 1000 };
  const bigAndNul = `${'x'.repeat(20)}\0\r\n.\r\n`;
  for (const chunks of splits(bigAndNul)) {
    const r = run(chunks, small);
    assert.equal(r.last.kind === 'end' && r.last.problem, 'too-big', JSON.stringify(chunks));
  }
  const longAndNul = `\0${'y'.repeat(1200)}\r\n.\r\n`;
  for (const chunks of [[longAndNul], ['\0', longAndNul.slice(1)], [longAndNul.slice(0, 600), longAndNul.slice(600)]]) {
    const r = run(chunks, { maxMessageSize: 10_000, maxLineLength: 1000 });
    assert.equal(r.last.kind === 'end' && r.last.problem, 'line-too-long', JSON.stringify(chunks.map((c) => c.length)));
  }
});

test('the line walk reads every chunking as the line loop alone does (fast-check)', async () => {
  const { default: fc } = await import('fast-check');
  // lines of plain text, dots first, bare CR or LF, NUL, long runs, the end marker and what follows it
  const token = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('abc', 'X'.repeat(70), 'Subject: x', 'x') },
    { weight: 8, arbitrary: fc.constant('\r\n') },
    { weight: 2, arbitrary: fc.constantFrom('\r\n.', '\r\n..', '\r\n.\r\n', '\r\n.x') },
    { weight: 1, arbitrary: fc.constantFrom('\r', '\n', '\0', '.', 'Y'.repeat(300), '\r\r\n', '\n\r') },
  );
  const messy = fc.array(token, { minLength: 1, maxLength: 120 }).map((t) => t.join(''));
  // mostly plain lines (the scan's case), now and then a dot first, a NUL, a bare CR or LF
  const line = fc.oneof({ weight: 30, arbitrary: fc.nat({ max: 130 }).map((n) => 'L'.repeat(n)) },
    { weight: 1, arbitrary: fc.constantFrom('.', '..x', 'a\0b', 'a\rb', 'a\nb', 'x\r') });
  const plain = fc.array(line, { minLength: 1, maxLength: 80 }).map((l) => l.join('\r\n'));
  const wire = fc.oneof(messy, plain, plain).map((body) => `${body}\r\n.\r\nQUIT\r\n`);
  const cuts = fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 6 });
  const limits = fc.record({ maxMessageSize: fc.constantFrom(100, 2000, 1e6), maxLineLength: fc.constantFrom(20, 80, 100, 1000) });
  const read = (w: string, sizes: number[], l: Limits, plain: boolean) => readWire(w, sizes, l, plain, DataReader.pieceMax);
  fc.assert(fc.property(wire, cuts, limits, (w, sizes, l) => {
    assert.deepStrictEqual(read(w, sizes, l, true), read(w, sizes, l, false));
  }), { numRuns: 3000 });
});

test('a chunk larger than a piece is scanned piece by piece and read as the line loop alone reads it (fast-check)', async () => {
  const { default: fc } = await import('fast-check');
  // big messages: many plain lines, now and then a dot first, a NUL, a bare CR or LF, a long line, CRs at every place
  const line = fc.oneof({ weight: 40, arbitrary: fc.nat({ max: 130 }).map((n) => 'L'.repeat(n)) },
    { weight: 1, arbitrary: fc.constantFrom('.', '..x', '.', 'a\0b', 'a\rb', 'a\nb', 'x\r', 'M'.repeat(1100), 'N'.repeat(998), '\r\n.\r') });
  const body = fc.array(line, { minLength: 1, maxLength: 700 }).map((l) => l.join('\r\n'));
  const wire = fc.tuple(body, fc.constantFrom('\r\n.\r\nQUIT\r\n', '\r\n.\r\n', '\r\n', '\r\n.')).map(([b, t]) => b + t);
  const cuts = fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 4 });
  const limits = fc.record({ maxMessageSize: fc.constantFrom(2000, 1e6), maxLineLength: fc.constantFrom(80, 1000) });
  const pieceMax = fc.constantFrom(257, 300, 1000, 4096, 16 * 1024);
  const read = readWire;
  fc.assert(fc.property(wire, cuts, limits, pieceMax, (w, sizes, l, max) => {
    assert.deepStrictEqual(read(w, sizes, l, true, max), read(w, sizes, l, false, max));
  }), { numRuns: 600 });
});

test('a 64 KB read of plain lines is scanned whole in 16 KB pieces: one body part, the same as the line loop', () => {
  const line = 'L'.repeat(76) + '\r\n';
  const wire = Buffer.from(line.repeat(Math.ceil(100 * 1024 / line.length)) + '.\r\nQUIT\r\n', 'latin1');
  // the scan's only trace is its latin1 copy of each piece: count them (the loop makes none)
  const copies: number[] = [];
  const read = (scan: boolean) => {
    DataReader.plainScan = scan;
    const toString = Buffer.prototype.toString;
    Buffer.prototype.toString = function (this: Buffer, ...args: unknown[]) {
      if (args[0] === 'latin1' && typeof args[1] === 'number' && typeof args[2] === 'number') copies.push(args[2] - args[1]);
      return (toString as (...a: unknown[]) => string).apply(this, args);
    } as typeof toString;
    try {
      const reader = new DataReader({ maxMessageSize: 1e6, maxLineLength: 1000 });
      const first = reader.push(wire.subarray(0, 65536));
      const second = reader.push(wire.subarray(65536));
      return { first, second };
    } finally {
      Buffer.prototype.toString = toString;
      DataReader.plainScan = true;
    }
  };
  const looped = read(false);
  assert.deepEqual(copies, [], 'the line loop makes no copy');
  const scanned = read(true);
  assert.ok(copies.every((n) => n <= 16 * 1024), `no piece over 16 KB: ${copies.join(' ')}`);
  // every octet of the body but the first read's last 16 (under 256: the loop's) is scanned: 4 pieces, then 3
  assert.ok(copies.length === 7 && copies.reduce((a, b) => a + b, 0) === wire.length - 16, `pieces ${copies.join(' ')}`);
  const dataOf = (r: PushResult) => (r.kind === 'invalid' ? assert.fail('invalid') : r.data);
  assert.equal(scanned.first.kind, 'more');
  assert.equal(scanned.second.kind, 'end');
  // the loop passes a chunk of CRLF lines on as one part; the scanned pieces join into it too
  assert.equal(dataOf(scanned.first).length, 1);
  assert.equal(dataOf(scanned.first)[0]!.length, 65536);
  assert.deepStrictEqual(Buffer.concat(dataOf(scanned.first)), Buffer.concat(dataOf(looped.first)));
  assert.deepStrictEqual(Buffer.concat(dataOf(scanned.second)), Buffer.concat(dataOf(looped.second)));
  assert.equal(scanned.second.kind === 'end' && scanned.second.rest.toString(), 'QUIT\r\n');
});

test('a bare LF that starts a piece, with no CR after it in the piece, is the loop\'s bare LF (SMTP smuggling)', () => {
  // 1,024-octet pieces: the first ends with a CRLF at 1,023, the second starts with the bare LF and holds no CR
  const head = ('L'.repeat(76) + '\r\n').repeat(13) + 'L'.repeat(8) + '\r\n';
  assert.equal(head.length, 1024);
  const chunk = Buffer.from(head + '\n' + 'M'.repeat(400), 'latin1');
  for (const scan of [true, false]) {
    DataReader.plainScan = scan;
    DataReader.pieceMax = 1024;
    try {
      const r = new DataReader({ maxMessageSize: 1e6, maxLineLength: 1000 }).push(chunk);
      assert.deepEqual(r, { kind: 'invalid', reason: 'bare-lf' }, `scan ${scan}`);
    } finally {
      DataReader.plainScan = true;
      DataReader.pieceMax = 16 * 1024;
    }
  }
});
