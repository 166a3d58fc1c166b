import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RecipientOutcome } from '../store.js';
import { outcomeRuns } from './outcome-runs.js';
import { ROWS_PER_STATEMENT } from './rows.js';

const tls = { version: 'TLSv1.3', cipher: null, verified: false, policy: 'opportunistic', level: 'opportunistic' };
const ok = (rcptId: number, t = tls): RecipientOutcome => ({ rcptId, status: 'delivered', response: '250 ok', host: 'mx', tls: t, durationMs: 5 });
const ids = (outcomes: RecipientOutcome[]) => outcomeRuns(outcomes).map(([o, rcptIds]) => [o.status, rcptIds]);

test('runs join consecutive equal outcomes with ascending ids, in order', () => {
  assert.deepEqual(ids([ok(1), ok(2), ok(3)]), [['delivered', [1, 2, 3]]]);
  assert.deepEqual(ids([ok(1), { rcptId: 2, status: 'bounced', response: '550 no' }, ok(3)]),
    [['delivered', [1]], ['bounced', [2]], ['delivered', [3]]]);
  assert.deepEqual(ids([ok(2), ok(1)]), [['delivered', [2]], ['delivered', [1]]], 'not ascending: the order is kept');
  assert.deepEqual(ids([ok(1), ok(1)]), [['delivered', [1]], ['delivered', [1]]], 'a recipient named twice stays twice');
  assert.deepEqual(ids([ok(1), ok(2, { ...tls })]), [['delivered', [1]], ['delivered', [2]]], 'another TLS result (by reference)');
  assert.deepEqual(ids([ok(1), { ...ok(2), durationMs: 6 }]), [['delivered', [1]], ['delivered', [2]]]);
  const later = (rcptId: number, at: number): RecipientOutcome => ({ rcptId, status: 'deferred', response: '451', nextAttemptAt: at });
  assert.deepEqual(ids([later(1, 5), later(2, 5), later(3, 6)]), [['deferred', [1, 2]], ['deferred', [3]]]);
  const many = Array.from({ length: ROWS_PER_STATEMENT + 1 }, (_, i) => ok(i + 1));
  assert.deepEqual(outcomeRuns(many).map(([, r]) => r.length), [ROWS_PER_STATEMENT, 1]);
  assert.deepEqual(outcomeRuns([]), []);
});
