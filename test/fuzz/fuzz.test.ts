// The bounded fuzz run of `npm test`: every target of test/fuzz/targets/ for a few thousand
// inputs from a fixed seed (deterministic; FUZZ_SEED=<n> to try another), both phases. A failure
// prints the seed and the input. The long run is bench/fuzz.ts (bench/README.md, "Fuzzing").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFailures, runTarget } from './harness.js';
import { TARGETS } from './targets/index.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);

for (const { target, short } of TARGETS) {
  test(`fuzz ${target.name}: ${short.propertyRuns} generated + ${short.mutationRuns} mutated inputs (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const r = await runTarget(target, { seed: SEED, ...short, slowMs: 2000 });
    assert.equal(r.failures.length, 0, describeFailures(r));
  });
}
