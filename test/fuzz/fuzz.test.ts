// The bounded fuzz run of `npm test`: every target of test/fuzz/targets/ for a few thousand
// inputs from a fixed seed (deterministic; FUZZ_SEED=<n> to try another), both phases. A failure
// prints the seed and the input. The long run is bench/fuzz.ts (bench/README.md, "Fuzzing").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeFailures, runTarget, type FuzzTarget } from './harness.js';
import { TARGETS } from './targets/index.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);

for (const { target, short } of TARGETS) {
  test(`fuzz ${target.name}: ${short.propertyRuns} generated + ${short.mutationRuns} mutated inputs (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const r = await runTarget(target, { seed: SEED, ...short, slowMs: 2000 });
    assert.equal(r.failures.length, 0, describeFailures(r));
  });
}

// The time budget judges an input by a second run when the first was over it: slow every time is a
// hang, slow once (a first call loading a module, a GC, a descheduled process) is not.
test('fuzz harness: an input slow every time fails; one slow only once (the first call) does not', async () => {
  const busy = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end) { /* spin */ } };
  let calls = 0;
  const target = (slow: (call: number) => boolean): FuzzTarget<number> => ({
    name: 'timing', arbitrary: fc.constant(1), corpus: () => [Buffer.from('x')], fromBytes: () => 1,
    check: () => { if (slow(++calls)) busy(250); },
  });
  const opts = { seed: 1, propertyRuns: 3, mutationRuns: 3, slowMs: 200 };
  calls = 0;
  const once = await runTarget(target((n) => n === 1), opts);
  assert.equal(once.failures.length, 0, describeFailures(once));
  assert.ok(once.slowestMs >= 200, 'the slow first call is still measured');
  calls = 0;
  const always = await runTarget(target(() => true), { ...opts, propertyRuns: 1, mutationRuns: 1 });
  assert.equal(always.failures.length, 2, describeFailures(always));
  assert.match(always.failures[0]!.message, /slow input: \d+ ms, then \d+ ms \(budget 200 ms\)/);
});
