import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { abortError, ATTEMPT_DEADLINE, attemptDeadline, AttemptDeadlines, RECORD_MARGIN_MAX_MS } from './attempt-deadline.js';
import { classifyError } from './classify.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('attempt deadline', () => {
  it('is the lease end less a fifth of the lease, at most 30 s', () => {
    assert.equal(attemptDeadline(1_000_000, 10 * 60_000), 1_000_000 - RECORD_MARGIN_MAX_MS); // the default lease
    assert.equal(attemptDeadline(1_000_000, 60_000), 1_000_000 - 12_000);
    assert.equal(attemptDeadline(1_000_000, 3000), 1_000_000 - 600);
  });

  it('its reason is a temporary 4.4.2, and what an aborted call fails with', () => {
    assert.deepEqual(classifyError(ATTEMPT_DEADLINE), { kind: 'temporary', status: '4.4.2', reason: ATTEMPT_DEADLINE.message });
    const ac = new AbortController();
    ac.abort(ATTEMPT_DEADLINE);
    assert.equal(abortError(ac.signal), ATTEMPT_DEADLINE);
    assert.equal((abortError(new AbortController().signal) as Error & { code?: string }).code, 'EABORT');
  });

  it('aborts an attempt once the clock passes its deadline, not before; ended attempts are forgotten', async () => {
    let now = 1000;
    const d = new AttemptDeadlines({ now: () => now }, 20);
    const stop = new AbortController();
    const early = d.begin(stop.signal, 2000);
    const late = d.begin(stop.signal, 5000);
    const done = d.begin(stop.signal, 1500);
    d.end(done);
    await sleep(60);
    assert.equal(early.signal.aborted, false);
    now = 2000;
    await sleep(60);
    assert.equal(early.timedOut, true);
    assert.equal(early.signal.reason, ATTEMPT_DEADLINE);
    assert.equal(late.signal.aborted, false);
    assert.equal(done.signal.aborted, false, 'an ended attempt is not aborted');
    d.end(early);
    d.end(late);
    assert.equal(d.size, 0);
  });

  it('passes a stop on to the attempts begun with that stop signal, at once (not a deadline)', () => {
    const d = new AttemptDeadlines({ now: () => 0 }, 1000);
    const stop = new AbortController();
    const other = new AbortController();
    const a = d.begin(stop.signal, 10_000);
    const b = d.begin(other.signal, 10_000);
    stop.abort();
    assert.equal(a.signal.aborted, true);
    assert.equal(a.timedOut, false);
    assert.equal(b.signal.aborted, false);
    const c = d.begin(stop.signal, 10_000); // begun after the stop
    assert.equal(c.signal.aborted, true);
    d.end(a); d.end(b); d.end(c);
  });

  it('sweeps a quarter of the margin, between 20 ms and 1 s', () => {
    assert.equal(AttemptDeadlines.sweepFor(10 * 60_000), 1000);
    assert.equal(AttemptDeadlines.sweepFor(3000), 150);
    assert.equal(AttemptDeadlines.sweepFor(100), 20);
  });
});
