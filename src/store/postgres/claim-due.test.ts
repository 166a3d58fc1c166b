// When a PostgreSQL store walks expired leases (ExpiredWalkGate): at the first claim; after a walk
// that found rows; after an empty one, once the earliest lease end then known has passed, or
// min(leaseMs, 1 s) of the claim's clock (leases peers took since); once a lease this store took has
// ended; whenever the clock goes back. The takeover on a database: postgres-store.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpiredWalkGate } from './claim-due.js';

const dueAt = (gate: ExpiredWalkGate, times: number[]) => times.map((t) => gate.isDue(t));

describe('ExpiredWalkGate', () => {
  it('walks at the first claim', () => {
    assert.equal(new ExpiredWalkGate().isDue(0), true);
  });

  it('after an empty walk with no lease, waits min(leaseMs, 1 s) of the claim clock', () => {
    const long = new ExpiredWalkGate();
    long.empty(10_000, 300_000, null);
    assert.deepEqual(dueAt(long, [10_000, 10_999, 11_000, 50_000]), [false, false, true, true]);
    const short = new ExpiredWalkGate();
    short.empty(10_000, 1, null);
    assert.deepEqual(dueAt(short, [10_000, 10_001]), [false, true]);
  });

  it('after an empty walk, walks as soon as the earliest lease then known has ended (lease_until < now)', () => {
    const gate = new ExpiredWalkGate();
    gate.empty(10_000, 300_000, 10_200);
    assert.deepEqual(dueAt(gate, [10_200, 10_201]), [false, true]);
  });

  it('a lease this store takes moves the next walk up to its end, never back', () => {
    const gate = new ExpiredWalkGate();
    gate.empty(10_000, 300_000, null);
    gate.leased(10_050);
    assert.deepEqual(dueAt(gate, [10_050, 10_051]), [false, true]);
    const later = new ExpiredWalkGate();
    later.empty(10_000, 300_000, 10_100);
    later.leased(310_000);
    assert.equal(later.isDue(10_101), true);
  });

  it('after a walk that found rows, walks again at the next claim', () => {
    const gate = new ExpiredWalkGate();
    gate.found(10_000);
    assert.equal(gate.isDue(10_000), true);
  });

  it('walks when the claim clock went back', () => {
    const gate = new ExpiredWalkGate();
    gate.empty(10_000, 300_000, null);
    assert.equal(gate.isDue(9_999), true);
  });
});
