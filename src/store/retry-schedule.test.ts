// Literal tables for the retry schedule (KumoMTA style): given the config and the attempt count,
// exactly these delays.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeRetryDelayMs, type RetrySchedule } from './retry-schedule.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DEFAULTS: RetrySchedule = { initial: 5 * MIN, factor: 2, max: 4 * HOUR, jitter: 0.1 };
const noJitter = () => 0.5;

test('defaults without jitter: 5m doubling, capped at 4h', () => {
  const table: [number, number][] = [
    [1, 5 * MIN], [2, 10 * MIN], [3, 20 * MIN], [4, 40 * MIN], [5, 80 * MIN],
    [6, 160 * MIN], [7, 4 * HOUR], [8, 4 * HOUR], [20, 4 * HOUR], [1000, 4 * HOUR],
  ];
  for (const [attempts, delay] of table) assert.equal(computeRetryDelayMs(DEFAULTS, attempts, noJitter), delay, `attempts=${attempts}`);
});

test('jitter spreads ±fraction around the capped delay', () => {
  const table: [number, number, number][] = [ // attempts, random(), delay
    [1, 0, 270_000], [1, 0.25, 285_000], [1, 0.5, 300_000], [1, 0.75, 315_000], [1, 1, 330_000],
    [7, 0, 12_960_000], [7, 1, 15_840_000],
  ];
  for (const [attempts, r, delay] of table) assert.equal(computeRetryDelayMs(DEFAULTS, attempts, () => r), delay, `attempts=${attempts} r=${r}`);
});

test('factor 1 is a constant interval; factor 3 grows faster', () => {
  const flat = { initial: 30_000, factor: 1, max: HOUR, jitter: 0 };
  assert.deepEqual([1, 2, 3, 10].map((n) => computeRetryDelayMs(flat, n)), [30_000, 30_000, 30_000, 30_000]);
  const steep = { initial: 1_000, factor: 3, max: 100_000, jitter: 0 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => computeRetryDelayMs(steep, n)), [1_000, 3_000, 9_000, 27_000, 81_000, 100_000]);
});

test('zero jitter ignores random; attempts below 1 count as the first retry', () => {
  const s = { ...DEFAULTS, jitter: 0 };
  assert.equal(computeRetryDelayMs(s, 1, () => 0.99), 5 * MIN);
  assert.equal(computeRetryDelayMs(s, 0, noJitter), 5 * MIN);
  assert.equal(computeRetryDelayMs(s, -3, noJitter), 5 * MIN);
});

test('huge attempt counts stay at the cap (no overflow to Infinity/NaN)', () => {
  assert.equal(computeRetryDelayMs({ ...DEFAULTS, jitter: 0 }, 1e6), 4 * HOUR);
  assert.equal(computeRetryDelayMs({ ...DEFAULTS, jitter: 0 }, Number.MAX_SAFE_INTEGER), 4 * HOUR);
});
