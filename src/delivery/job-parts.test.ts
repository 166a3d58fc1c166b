import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliveryJob } from '../store/store.js';
import { joinByMessage, jobParts } from './job-parts.js';

const job = (messageId: string, domain: string, ids: number[], extra: Partial<DeliveryJob> = {}): DeliveryJob => ({
  messageId, domain, mailFrom: 'a@s.example', returnPath: 'a@s.example', isBounce: false, route: 'relay', size: 10, receivedAt: 1,
  recipients: ids.map((id) => ({ id, address: `r${id}@${domain}`, attempts: 0 })), stream: 'transactional', leaseUntil: 1000 + ids[0]!,
  delayNotified: false, account: 'default', ...extra,
});

describe('joinByMessage', () => {
  it('joins the relay jobs of one message: recipients in id order, each naming its domain; other jobs as they were', () => {
    const other = job('m2', 'c.test', [9]);
    const joined = joinByMessage([job('m1', 'a.test', [1, 4]), other, job('m1', 'b.test', [2, 3], { heldMs: 5 }), job('m1', 'c.test', [5])]);
    assert.equal(joined.length, 2);
    assert.equal(joined[1], other, 'a job alone is the same object');
    assert.deepEqual(joined[1]!.recipients, [{ id: 9, address: 'r9@c.test', attempts: 0 }], 'and its recipients are untouched');
    const j = joined[0]!;
    assert.deepEqual(j.recipients, [
      { id: 1, address: 'r1@a.test', attempts: 0, domain: 'a.test' }, { id: 2, address: 'r2@b.test', attempts: 0, domain: 'b.test' },
      { id: 3, address: 'r3@b.test', attempts: 0, domain: 'b.test' }, { id: 4, address: 'r4@a.test', attempts: 0, domain: 'a.test' },
      { id: 5, address: 'r5@c.test', attempts: 0, domain: 'c.test' },
    ]);
    assert.deepEqual(Object.keys(j.recipients[0]!), ['id', 'address', 'attempts', 'domain'], 'the domain last, as a copy with it had it');
    assert.equal(j.domain, 'a.test');
    assert.deepEqual(j.alsoDomains, ['b.test', 'c.test']);
    assert.equal(j.leaseUntil, 1001);
    assert.equal(j.heldMs, 5);
    assert.deepEqual(jobParts(j).map((p) => p.domain), ['a.test', 'b.test', 'c.test']);
  });
});
