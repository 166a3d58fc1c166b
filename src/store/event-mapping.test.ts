// The delivered event's data is built as one literal per shape (helper ic18: one shape per site);
// it must stay what the spreads made: the same keys, values and order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageData, outcomeEvent } from './event-mapping.js';
import type { RecipientOutcome } from './store.js';

const base = messageData({ account: 'acme', tags: ['a'], metadata: { k: 'v' }, stream: 'broadcast' } as Parameters<typeof messageData>[0]);
const tls = { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', verified: false } as unknown as NonNullable<RecipientOutcome['tls']>;

const spreadForm = (o: RecipientOutcome, attempt: number) => {
  const b: Record<string, unknown> = o.source ? { ...base, source: o.source } : base;
  return { ...b, response: o.response, host: o.host ?? null, tls: o.tls ?? null, attempt };
};

test('delivered: the same data, keys in the same order, with and without a source, host or TLS', () => {
  const outcomes: RecipientOutcome[] = [
    { rcptId: 1, status: 'delivered', response: '250 ok', host: 'mx.example', tls, source: 'pool-a', remoteIp: '192.0.2.1' },
    { rcptId: 2, status: 'delivered', response: '250 ok', host: 'mx.example', tls },
    { rcptId: 3, status: 'delivered', response: '250 ok' },
  ];
  for (const o of outcomes) {
    const e = outcomeEvent(o, 2, base);
    assert.equal(e.type, 'delivered');
    assert.deepEqual(e.data, spreadForm(o, 2));
    assert.deepEqual(Object.keys(e.data), Object.keys(spreadForm(o, 2)));
    assert.equal(JSON.stringify(e.data), JSON.stringify(spreadForm(o, 2)));
  }
});

