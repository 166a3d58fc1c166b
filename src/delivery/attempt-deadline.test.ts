import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { attemptDeadline, AttemptDeadlines, DEADLINE_VERDICT, RECORD_MARGIN_MAX_MS } from './attempt-deadline.js';
import { describeVerdict } from './classify.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('attempt deadline', () => {
  it('is the lease end less a fifth of the lease, at most 30 s', () => {
    assert.equal(attemptDeadline(1_000_000, 10 * 60_000), 1_000_000 - RECORD_MARGIN_MAX_MS); // the default lease
    assert.equal(attemptDeadline(1_000_000, 60_000), 1_000_000 - 12_000);
    assert.equal(attemptDeadline(1_000_000, 3000), 1_000_000 - 600);
  });

  it('its verdict is a temporary 4.4.2', () => {
    assert.equal(DEADLINE_VERDICT.kind, 'temporary');
    assert.match(describeVerdict(DEADLINE_VERDICT), /^4\.4\.2 the attempt reached its deadline/);
  });

  it('passes once the clock reaches it, not before, and resets the connection in use; ended attempts are forgotten', async () => {
    let now = 1000;
    const d = new AttemptDeadlines({ now: () => now }, 20);
    let closed = 0;
    const conn = { _socket: undefined, close: () => { closed++; } } as unknown as SMTPConnection;
    const early = d.begin(2000);
    early.conn = conn;
    const late = d.begin(5000);
    const done = d.begin(1500);
    d.end(done);
    await sleep(60);
    assert.equal(early.passed, false);
    assert.equal(closed, 0);
    now = 2000;
    await sleep(60);
    assert.equal(early.passed, true);
    assert.equal(closed, 1, 'the connection was cut');
    assert.equal(late.passed, false);
    assert.equal(done.passed, false, 'an ended attempt is not watched');
    d.end(early);
    d.end(late);
    assert.equal(d.size, 0);
  });

  it('sweeps a quarter of the margin, between 20 ms and 1 s', () => {
    assert.equal(AttemptDeadlines.sweepFor(10 * 60_000), 1000);
    assert.equal(AttemptDeadlines.sweepFor(3000), 150);
    assert.equal(AttemptDeadlines.sweepFor(100), 20);
  });
});
