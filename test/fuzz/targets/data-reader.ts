// Fuzz target: the DATA reader (src/ingress/smtp/data-reader.ts). Properties, on any bytes and any
// chunking: the same result whatever the chunk boundaries (kind, reason, body, problem, the bytes
// after the end); when it ends, what it consumed has no bare CR or LF, ends with CRLF.CRLF, and the
// body is what an independent dot-unstuffer makes of it; an accepted body has no bare CR/LF, no NUL,
// no line over maxLineLength - 2 octets and fits maxMessageSize; a message of valid lines,
// dot-stuffed, round-trips exactly.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DataReader, type PushResult } from '../../../src/ingress/smtp/data-reader.js';
import { corpusOf } from '../corpus.js';
import type { FuzzTarget, Rng } from '../harness.js';

interface Limits { maxMessageSize: number; maxLineLength: number }
interface Input { bytes: Buffer; cuts: number[]; limits: Limits; expectedBody?: Buffer }

interface Outcome { kind: PushResult['kind']; reason?: string; body: Buffer; problem?: string | null; rest: Buffer }

/** Feeds `bytes` cut at `cuts`; the rest includes the chunks never pushed. */
export function readData(bytes: Buffer, cuts: readonly number[], limits: Limits): Outcome {
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) { if (p > from) chunks.push(bytes.subarray(from, p)); from = Math.max(from, p); }
  const reader = new DataReader(limits);
  const body: Buffer[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const r = reader.push(chunks[i]!);
    if (r.kind === 'invalid') return { kind: 'invalid', reason: r.reason, body: Buffer.alloc(0), rest: Buffer.alloc(0) };
    body.push(...r.data);
    if (r.kind === 'end') return { kind: 'end', body: Buffer.concat(body), problem: r.problem, rest: Buffer.concat([r.rest, ...chunks.slice(i + 1)]) };
  }
  return { kind: 'more', body: Buffer.concat(body), problem: reader.problem, rest: Buffer.alloc(0) };
}

/** Where CRLF.CRLF (or a leading .CRLF) ends the data, by a plain scan; -1 if it does not. */
function endOf(b: Buffer): number {
  if (b.subarray(0, 3).equals(Buffer.from('.\r\n'))) return 3;
  const i = b.indexOf('\r\n.\r\n');
  return i < 0 ? -1 : i + 5;
}

/** The first bare CR or LF in b[0, end), or -1. */
function firstBareLineBreak(b: Buffer, end: number): number {
  for (let i = 0; i < end; i++) {
    if (b[i] === 0x0a && (i === 0 || b[i - 1] !== 0x0d)) return i;
    if (b[i] === 0x0d && (i + 1 >= b.length || b[i + 1] !== 0x0a)) return i;
  }
  return -1;
}

/** Independent unstuffing: the lines before the final ".", each without a leading dot. */
function unstuff(consumed: Buffer): Buffer {
  const lines = consumed.toString('latin1').split('\r\n');
  lines.splice(-2); // "." and the empty string after its CRLF
  return Buffer.from(lines.map((l) => (l.startsWith('.') ? l.slice(1) : l) + '\r\n').join(''), 'latin1');
}

export function checkData(input: Input): void {
  const { bytes, cuts, limits } = input;
  const whole = readData(bytes, [], limits);
  const chunked = readData(bytes, cuts, limits);
  // The body streams out before a problem is known, so it is compared only when there is none.
  const comparable = (o: Outcome) => ({ ...o, body: o.problem ? '(refused)' : o.body.toString('latin1'), rest: o.rest.toString('latin1') });
  assert.deepEqual(comparable(chunked), comparable(whole), 'the same result in any chunking');

  const end = endOf(bytes);
  const bare = firstBareLineBreak(bytes, end < 0 ? bytes.length : end);
  if (bare >= 0) {
    // Within the last two bytes the reader may still wait for the next one to decide.
    const mayWait = bare >= bytes.length - 2;
    assert.ok(whole.kind === 'invalid' || (mayWait && whole.kind === 'more'), `a bare CR/LF at ${bare} before the end is a framing violation, got ${whole.kind}`);
    return;
  }
  if (end < 0) { assert.equal(whole.kind, 'more', 'no CRLF.CRLF: needs more'); return; }
  assert.equal(whole.kind, 'end', 'CRLF.CRLF ends the data');
  assert.equal(whole.rest.toString('latin1'), bytes.subarray(end).toString('latin1'), 'rest is what follows CRLF.CRLF');
  const expected = unstuff(bytes.subarray(0, end));
  const longest = Math.max(0, ...expected.toString('latin1').split('\r\n').map((l) => l.length));
  const problem = expected.length > limits.maxMessageSize ? 'too-big' : longest > limits.maxLineLength - 2 ? 'line-too-long' : expected.includes(0) ? 'nul' : null;
  assert.equal(whole.problem, problem, 'content problem');
  if (problem === null) {
    assert.equal(whole.body.toString('latin1'), expected.toString('latin1'), 'body = unstuffed data');
    assert.equal(firstBareLineBreak(whole.body, whole.body.length), -1, 'no bare CR/LF in the body');
  }
  if (input.expectedBody) {
    assert.equal(whole.problem, null);
    assert.equal(whole.body.toString('latin1'), input.expectedBody.toString('latin1'), 'dot-stuffing round trip');
  }
}

const LIMITS = { maxMessageSize: 4000, maxLineLength: 1000 };
const lineByte = fc.oneof(fc.constantFrom(0x2e, 0x2e, 0x20, 0x41, 0x00, 0x0d, 0x0a, 0xff), fc.integer({ min: 0, max: 255 }));
/** Lines of valid content (no CR, LF; maybe NUL), some at and past 998 octets. */
const contentLine = fc.oneof(
  fc.array(fc.integer({ min: 0x20, max: 0xff }), { maxLength: 40 }).map((a) => Buffer.from(a)),
  fc.constantFrom('', '.', '..', '.x', 'From: a', ' ').map((s) => Buffer.from(s)),
  fc.tuple(fc.constantFrom('', '.'), fc.integer({ min: 990, max: 1002 })).map(([p, n]) => Buffer.from(p + 'x'.repeat(n))),
);
const stuffed = (lines: Buffer[]) => Buffer.concat(lines.map((l) => Buffer.concat([l[0] === 0x2e ? Buffer.from('.') : Buffer.alloc(0), l, Buffer.from('\r\n')])));
const cuts = fc.array(fc.nat({ max: 6000 }), { maxLength: 12 });

const roundTrip = fc.tuple(fc.array(contentLine.filter((l) => l.length <= 998 && !l.includes(0)), { maxLength: 30 }), fc.uint8Array({ maxLength: 20 }), cuts)
  .map(([lines, rest, c]): Input => ({
    bytes: Buffer.concat([stuffed(lines), Buffer.from('.\r\n'), Buffer.from(rest)]), cuts: c, limits: { maxMessageSize: 100_000, maxLineLength: 1000 },
    expectedBody: Buffer.concat(lines.map((l) => Buffer.concat([l, Buffer.from('\r\n')]))),
  }));
const anyWire = fc.tuple(fc.array(fc.oneof(contentLine, fc.array(lineByte, { maxLength: 30 }).map((a) => Buffer.from(a))), { maxLength: 40 }),
  fc.constantFrom('\r\n', '\n', '\r', '\r\n.\r\n', '.\r\n', '\n.\n', '\r\n.\n', '\n.\r\n'), fc.boolean(), cuts, fc.integer({ min: 100, max: 5000 }))
  .map(([parts, sep, end, c, size]): Input => {
    const bytes = Buffer.concat([...parts.flatMap((p) => [p, Buffer.from(sep === '\r\n.\r\n' ? '\r\n' : sep)]), end ? Buffer.from('.\r\nQUIT\r\n') : Buffer.alloc(0)]);
    return { bytes, cuts: c, limits: { maxMessageSize: size, maxLineLength: 1000 } };
  });

export const dataReaderTarget: FuzzTarget<Input> = {
  name: 'data-reader',
  arbitrary: fc.oneof(roundTrip, anyWire, fc.record({ bytes: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), cuts, limits: fc.constant(LIMITS) })),
  corpus: () => corpusOf('fuzz/data'),
  fromBytes: (bytes: Buffer, rng: Rng): Input => ({ bytes, cuts: Array.from({ length: rng.int(6) }, () => rng.int(bytes.length + 1)), limits: LIMITS }),
  check: checkData,
  tokens: ['\r\n', '\r\n.\r\n', '\n', '\r', '.', '..', '\r\n.', '\0', 'x'.repeat(998)],
  show: (i) => JSON.stringify({ bytes: i.bytes.toString('latin1'), cuts: i.cuts, limits: i.limits }),
};
