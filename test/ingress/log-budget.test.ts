// Repetitive log lines are limited per session (src/ingress/smtp/log-budget.ts), over real
// sockets with a captured logger: a client refused 1,000 recipients in one session (a quota that
// refuses every RCPT: each refusal is an `smtp.quota_exceeded` and an `smtp.rejected` line) gets
// every reply, but the log holds only the first few lines of each event and one
// `smtp.log_suppressed` line with the counts at the session's end. A short session is logged in full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QuotaCharger } from '../../src/ingress/smtp/connection.js';
import { LINES_PER_EVENT } from '../../src/ingress/smtp/log-budget.js';
import { reply } from '../../src/message/reply.js';
import { Client, eventually, startHarness } from './harness.js';

/** Refuses every recipient for now (452 4.7.1): a per-second window that is always full. */
const refuseAll: QuotaCharger = {
  charge: async () => ({
    ok: false, key: 'account:default', window: 'second', limit: 0, retryAfterMs: 1_000, permanent: false,
    reply: reply(452, '4.7.1', 'Account limit of 0 per second reached; try again in 1 s'),
  }),
};

const REFUSED = 1_000;

test(`${REFUSED} refused RCPTs in one session: a bounded number of log lines and one summary with the suppressed count`, async () => {
  const h = await startHarness({}, { quota: refuseAll });
  try {
    const c = await Client.ready(h.port('submission'), 'auth');
    assert.match(await c.cmd('MAIL FROM:<alice@example.org>'), /^250 /);
    c.write(Array.from({ length: REFUSED }, (_, i) => `RCPT TO:<r${i}@dest.example>\r\n`).join('')); // pipelined
    for (let i = 0; i < REFUSED; i++) assert.match(await c.read(), /^452 4\.7\.1 /, `reply ${i}`);
    assert.match(await c.cmd('QUIT'), /^221 /);
    await c.closed;
    await eventually(() => h.logs.some((l) => l.event === 'smtp.log_suppressed'));

    const count = (event: string) => h.logs.filter((l) => l.event === event).length;
    assert.equal(count('smtp.rejected'), LINES_PER_EVENT);
    assert.equal(count('smtp.quota_exceeded'), LINES_PER_EVENT);
    assert.ok(h.logs.length < 4 * LINES_PER_EVENT, `${h.logs.length} log lines for the whole session`);
    const summaries = h.logs.filter((l) => l.event === 'smtp.log_suppressed');
    assert.equal(summaries.length, 1);
    assert.deepEqual(summaries[0]!.suppressed, { 'smtp.quota_exceeded': REFUSED - LINES_PER_EVENT, 'smtp.rejected': REFUSED - LINES_PER_EVENT });
    assert.equal(summaries[0]!.total, 2 * (REFUSED - LINES_PER_EVENT));
    assert.equal(summaries[0]!.listener, 'submission');
    assert.equal(summaries[0]!.ip, '127.0.0.1');
  } finally {
    await h.close();
  }
});

test('a session with a few refusals logs each of them and no summary', async () => {
  const h = await startHarness({}, { quota: refuseAll });
  try {
    const c = await Client.ready(h.port('submission'), 'auth');
    assert.match(await c.cmd('MAIL FROM:<alice@example.org>'), /^250 /);
    for (let i = 0; i < 3; i++) assert.match(await c.cmd(`RCPT TO:<r${i}@dest.example>`), /^452 /);
    assert.match(await c.cmd('QUIT'), /^221 /);
    await c.closed;
    await eventually(() => h.logs.filter((l) => l.event === 'smtp.rejected').length === 3);
    assert.equal(h.logs.filter((l) => l.event === 'smtp.quota_exceeded').length, 3);
    assert.equal(h.logs.filter((l) => l.event === 'smtp.log_suppressed').length, 0);
  } finally {
    await h.close();
  }
});
