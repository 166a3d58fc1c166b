import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { attemptDeadline, AttemptDeadlines, DEADLINE_VERDICT, finalReplyEdge, RECORD_MARGIN_MAX_MS, type AttemptDeadline } from './attempt-deadline.js';
import { OutboundSmtpConnection } from './smtp-connection.js';
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

  it('an attempt waiting for its final reply may wait until half the margin and a sweep before the lease ends, never less than its deadline', () => {
    // default lease: deadline 30 s before its end, edge 16 s before (15 s and the 1 s sweep)
    assert.equal(finalReplyEdge(attemptDeadline(1_000_000, 10 * 60_000), 1_000_000, 10 * 60_000), 1_000_000 - RECORD_MARGIN_MAX_MS / 2 - 1000);
    assert.equal(finalReplyEdge(attemptDeadline(1_000_000, 5000), 1_000_000, 5000), 1_000_000 - 500 - 250); // margin 1 s, sweep 250 ms
    assert.equal(finalReplyEdge(attemptDeadline(1_000_000, 100), 1_000_000, 100), attemptDeadline(1_000_000, 100), 'no room (margin 20 ms): no wait');
    assert.equal(finalReplyEdge(1_200_000, 1_000_000, 5000), 1_200_000, 'a deadline past the lease (the commandTimeout floor) gets no more');
  });

  it('at the deadline, a connection waiting for the reply to its end of data is kept until the edge; others are cut', async () => {
    let now = 1000;
    const waited: AttemptDeadline[] = [];
    const d = new AttemptDeadlines({ now: () => now }, 20, (x) => waited.push(x));
    const closed: string[] = [];
    const conn = (name: string, awaiting: () => boolean) => Object.assign(Object.create(OutboundSmtpConnection.prototype) as OutboundSmtpConnection,
      { _socket: undefined, close: () => { closed.push(name); }, awaitsFinalReply: awaiting });
    let replied = false;
    const waiting = d.begin(2000, 3000, 'waiting');
    waiting.conn = conn('waiting', () => true);
    const answered = d.begin(2000, 3000, 'answered');
    answered.conn = conn('answered', () => !replied);
    const sending = d.begin(2000, 3000, 'sending');
    sending.conn = conn('sending', () => false); // still sending the body: cut at the deadline
    now = 2000;
    await sleep(60);
    assert.deepEqual(closed, ['sending']);
    assert.deepEqual([waiting.passed, answered.passed, sending.passed], [true, true, true], 'nothing new is tried past the deadline');
    assert.deepEqual(waited.map((x) => x.subject), ['waiting', 'answered'], 'told once each');
    assert.equal(waiting.awaitedFinalReply, true);
    // The reply comes: the attempt ends itself (its connection no longer in use).
    replied = true;
    answered.conn = null;
    d.end(answered);
    now = 2999;
    await sleep(60);
    assert.deepEqual(closed, ['sending'], 'not before the edge');
    now = 3000;
    await sleep(60);
    assert.deepEqual(closed, ['sending', 'waiting'], 'no reply by the edge: cut');
    assert.equal(waited.length, 2);
    d.end(waiting);
    d.end(sending);
    assert.equal(d.size, 0);
  });

  it('sweeps a quarter of the margin, between 20 ms and 1 s', () => {
    assert.equal(AttemptDeadlines.sweepFor(10 * 60_000), 1000);
    assert.equal(AttemptDeadlines.sweepFor(3000), 150);
    assert.equal(AttemptDeadlines.sweepFor(100), 20);
  });
});
