// Property tests of the report parser's robustness contract: on random bytes, on mutated
// fixtures and on long adversarial runs of the tokens its patterns look for, parseReport never
// throws, always answers one of the four kinds, and finishes quickly; the pure readers and the
// bounce classifier stay linear on long hostile input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readReportFixture, reportFixtureNames } from '../../test/helpers/report-fixtures.js';
import { classifyBounce } from './bounce-classifier.js';
import { readTextBounce } from './heuristic-bounce.js';
import { parseFieldGroups } from './report-fields.js';
import { parseReport } from './report-parser.js';

const KINDS = new Set(['dsn', 'arf', 'bounce-text', 'other']);
/** Generous on a shared 2-core machine; a catastrophic regex takes seconds to hours. */
// A super-linear reader on these inputs runs for minutes; the test timeouts below catch that
// without asserting milliseconds, which a loaded 2-core machine cannot promise.
const BUDGET = { timeout: 120_000 };
const FIXTURES = reportFixtureNames().map((name) => readReportFixture(name, 'crlf'));

/** Fragments the parsers' patterns react to: folding, boundaries, addresses, reply codes, markers. */
const TOKENS = ['-', ' ', '\t', '\r\n', '\r\n ', '<', '>', '@', 'a@b', ':', ';', '550-', '550 5.1.1 ', '5.', '(', '--', '=?utf-8?q?',
  'rfc822; ', 'Final-Recipient: ', 'Content-Type: multipart/report; boundary=b\r\n', '--b\r\n', 'Content-Type: message/delivery-status\r\n\r\n',
  'Remote host said: ', '(reason: ', '--- Below this line is a copy of the message.\r\n', 'listed ', 'user unknown ', 'x'];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.nat({ max: 400 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.nat({ max: 200 }), times: fc.integer({ min: 2, max: 50 }) }),
  fc.record({ kind: fc.constant('run' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS), times: fc.integer({ min: 1, max: 20_000 }) }),
  fc.record({ kind: fc.constant('end' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Buffer, m: Mutation): Buffer {
  const at = input.length === 0 ? 0 : m.at % input.length;
  switch (m.kind) {
    case 'flip': { const out = Buffer.from(input); if (out.length > 0) out[at] = m.byte; return out; }
    case 'cut': return Buffer.concat([input.subarray(0, at), input.subarray(at + m.length)]);
    case 'repeat': return Buffer.concat([input.subarray(0, at), ...Array<Buffer>(m.times).fill(input.subarray(at, at + m.length)), input.subarray(at)]);
    case 'run': return Buffer.concat([input.subarray(0, at), Buffer.from(m.token.repeat(m.times), 'latin1'), input.subarray(at)]);
    case 'end': return input.subarray(0, at);
  }
}

async function assertRobust(input: Buffer): Promise<void> {
  const report = await parseReport(input);
  assert.ok(KINDS.has(report.kind), JSON.stringify(report));
}

describe('parseReport robustness', BUDGET, () => {
  it('random bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), (bytes) => assertRobust(Buffer.from(bytes))), { numRuns: 150 });
  });

  it('mutated fixtures', async () => {
    const arb = fc.tuple(fc.nat({ max: FIXTURES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }));
    await fc.assert(fc.asyncProperty(arb, ([i, ms]) => assertRobust(ms.reduce(mutate, FIXTURES[i]!))), { numRuns: 250 });
  });

  it('texts made of report tokens', async () => {
    const arb = fc.array(fc.constantFrom(...TOKENS), { maxLength: 3000 }).map((t) => Buffer.from(t.join(''), 'latin1'));
    await fc.assert(fc.asyncProperty(arb, assertRobust), { numRuns: 100 });
  });
});

describe('pure readers on long hostile input', BUDGET, () => {
  /** Runs a reader; a super-linear one would not finish within the suite's timeout. */
  const timed = (_name: string, fn: () => unknown) => { fn(); };
  it('stay linear', () => {
    fc.assert(fc.property(fc.constantFrom(...TOKENS), fc.constantFrom(...TOKENS), (a, b) => {
      const text = (a.repeat(50) + b).repeat(2000).slice(0, 200_000);
      timed('classifyBounce', () => classifyBounce(text));
      timed('parseFieldGroups', () => parseFieldGroups(text));
      timed('readTextBounce', () => readTextBounce({ from: 'MAILER-DAEMON@x', subject: 'failure notice', text, failedRecipients: text, original: null, namedMessageId: text }));
    }), { numRuns: 60 });
  });
});
