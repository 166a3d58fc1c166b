// Owns how a parser is fuzzed: a target is a fast-check arbitrary of structured inputs (the
// property phase), a corpus of real traffic plus a way to read mutated bytes as an input (the
// mutation phase), and a check that runs the parser on one input and throws when a property
// breaks. runTarget() runs both phases from one seed, times every input (an input over
// `slowMs`, twice in a row, is a failure: a hang caught in the act) and returns counts and failures; the bounded
// run in `npm test` (fuzz.test.ts) and the long run (bench/fuzz.ts) both go through it.
//
// A failure names the seed and, for the mutation phase, carries the input itself (base64), so
// `FUZZ_SEED=<seed>` or the input in a unit test reproduces it.
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';

export interface FuzzTarget<T> {
  name: string;
  /** Structured inputs (grammar-aware: they reach deep into the parser). */
  arbitrary: fc.Arbitrary<T>;
  /** Real traffic to mutate (test/fixtures/fuzz/, test/fixtures/reports/). */
  corpus: () => Buffer[];
  /** A mutated corpus entry as an input. */
  fromBytes: (bytes: Buffer, rng: Rng) => T;
  /** Runs the parser on `input`; throws (an AssertionError) when a property does not hold. */
  check: (input: T) => void | Promise<void>;
  /** Tokens the mutator inserts besides random bytes (what the parser's grammar reacts to). */
  tokens?: readonly string[];
  /** How to print an input in a failure report. */
  show?: (input: T) => string;
}

export interface RunOptions {
  seed: number;
  propertyRuns: number;
  mutationRuns: number;
  /** An input that takes longer than this twice in a row is reported as a failure (default 1000 ms). */
  slowMs?: number;
  /** At most this many mutation failures are kept (all are counted). */
  keepFailures?: number;
  onProgress?: (phase: 'property' | 'mutation', done: number) => void;
}

export interface Failure {
  phase: 'property' | 'mutation';
  seed: number;
  message: string;
  /** The failing input (mutation phase: base64 of the bytes; property phase: fast-check's counterexample). */
  input: string;
}

export interface PhaseStats { runs: number; ms: number }

export interface RunResult {
  target: string;
  seed: number;
  property: PhaseStats;
  mutation: PhaseStats;
  failures: Failure[];
  /** Mutation failures beyond keepFailures. */
  failuresDropped: number;
  slowestMs: number;
}

/** A small deterministic PRNG (mulberry32): the mutator must replay from its seed. */
export class Rng {
  #s: number;
  constructor(seed: number) { this.#s = seed >>> 0; }
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]!; }
  bytes(n: number): Buffer { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = this.int(256); return b; }
}

const INTERESTING_BYTES = [0x00, 0x0a, 0x0d, 0x20, 0x2e, 0x3a, 0x3c, 0x3e, 0x40, 0x7f, 0x80, 0xc3, 0xff];

/**
 * One to four mutations of a corpus entry: bit and byte flips, interesting bytes, random or
 * grammar tokens inserted, ranges deleted, duplicated or repeated, a splice with another entry,
 * truncation.
 */
export function mutate(input: Buffer, corpus: readonly Buffer[], rng: Rng, tokens: readonly string[] = []): Buffer {
  let out = input;
  for (let n = 1 + rng.int(4); n > 0; n--) out = mutateOnce(out, corpus, rng, tokens);
  return out;
}

function mutateOnce(b: Buffer, corpus: readonly Buffer[], rng: Rng, tokens: readonly string[]): Buffer {
  const at = rng.int(b.length + 1);
  const span = () => Math.min(b.length - at, 1 + rng.int(rng.next() < 0.8 ? 16 : 512));
  switch (rng.int(10)) {
    case 0: { if (!b.length) return rng.bytes(1); const o = Buffer.from(b); o[Math.min(at, o.length - 1)]! ^= 1 << rng.int(8); return o; }
    case 1: { if (!b.length) return rng.bytes(1); const o = Buffer.from(b); o[Math.min(at, o.length - 1)] = rng.pick(INTERESTING_BYTES); return o; }
    case 2: return Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]);
    case 3: return tokens.length ? Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(tokens), 'utf8'), b.subarray(at)]) : b;
    case 4: return Buffer.concat([b.subarray(0, at), b.subarray(at + span())]);
    case 5: { const s = b.subarray(at, at + span()); return Buffer.concat([b.subarray(0, at), s, s, b.subarray(at + s.length)]); }
    case 6: { const s = b.subarray(at, at + span()); return Buffer.concat([b.subarray(0, at), ...Array<Buffer>(2 + rng.int(60)).fill(s), b.subarray(at + s.length)]); }
    case 7: { const other = rng.pick(corpus); const from = rng.int(other.length + 1); return Buffer.concat([b.subarray(0, at), other.subarray(from, from + 1 + rng.int(256))]); }
    case 8: return b.subarray(0, at);
    default: { const o = Buffer.from(b); if (o.length) o[Math.min(at, o.length - 1)] = rng.int(256); return o; }
  }
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 2000);

/** Runs the property phase, then the mutation phase, of one target from one seed. */
export async function runTarget<T>(target: FuzzTarget<T>, opts: RunOptions): Promise<RunResult> {
  const slowMs = opts.slowMs ?? 1000;
  const keep = opts.keepFailures ?? 20;
  const failures: Failure[] = [];
  let dropped = 0;
  let slowestMs = 0;
  const show = target.show ?? ((i: T) => fc.stringify(i));

  const time = async (input: T): Promise<number> => {
    const start = performance.now();
    const r = target.check(input);
    if (r instanceof Promise) await r;
    const ms = performance.now() - start;
    if (ms > slowestMs) slowestMs = ms;
    return ms;
  };
  /**
   * Runs check() and times it; a slow input throws like a broken property. An input over the
   * budget is run once more and fails only if it is slow again: a pathological input is slow every
   * time, while a first call that loads what the parser imports on first use (report-parser.ts
   * loads mailparser: 1.1–2.1 s for the first input at load 7, over npm test's 2 s), a GC or a
   * descheduled process is slow once.
   */
  const timedCheck = async (input: T) => {
    const ms = await time(input);
    if (ms <= slowMs) return;
    const again = await time(input);
    if (again > slowMs) throw new Error(`slow input: ${ms.toFixed(0)} ms, then ${again.toFixed(0)} ms (budget ${slowMs} ms)`);
  };

  let propertyRuns = 0;
  const t0 = performance.now();
  if (opts.propertyRuns > 0) {
    const prop = fc.asyncProperty(target.arbitrary, async (input) => {
      propertyRuns++;
      if (opts.onProgress && propertyRuns % 10_000 === 0) opts.onProgress('property', propertyRuns);
      await timedCheck(input);
    });
    const out = await fc.check(prop, { seed: opts.seed, numRuns: opts.propertyRuns });
    if (out.failed) {
      const cause = out.errorInstance;
      failures.push({
        phase: 'property', seed: opts.seed,
        message: `${errorText(cause)} (fast-check seed ${out.seed}, path "${out.counterexamplePath}", after ${out.numRuns} runs and ${out.numShrinks} shrinks)`,
        input: out.counterexample ? show(out.counterexample[0]) : '',
      });
    }
  }
  const t1 = performance.now();

  const corpus = target.corpus();
  const rng = new Rng(opts.seed ^ 0x5eed);
  let mutationRuns = 0;
  for (; mutationRuns < opts.mutationRuns; mutationRuns++) {
    if (opts.onProgress && mutationRuns % 10_000 === 0 && mutationRuns) opts.onProgress('mutation', mutationRuns);
    const bytes = mutate(rng.pick(corpus), corpus, rng, target.tokens);
    let input: T;
    try {
      input = target.fromBytes(bytes, rng);
      await timedCheck(input);
    } catch (err) {
      if (failures.length < keep) failures.push({ phase: 'mutation', seed: opts.seed, message: errorText(err), input: bytes.toString('base64').slice(0, 20_000) });
      else dropped++;
    }
  }
  const t2 = performance.now();
  return {
    target: target.name, seed: opts.seed,
    property: { runs: propertyRuns, ms: t1 - t0 },
    mutation: { runs: mutationRuns, ms: t2 - t1 },
    failures, failuresDropped: dropped, slowestMs,
  };
}

/** The failures as a readable report (printed by the test on failure, with the seed). */
export function describeFailures(r: RunResult): string {
  return r.failures.map((f) => `[${r.target} ${f.phase} seed=${f.seed}] ${f.message}\n  input: ${f.input.slice(0, 1500)}`).join('\n')
    + (r.failuresDropped ? `\n(${r.failuresDropped} more mutation failures)` : '');
}
