// The message timeline contract (issue 12), run against every QueueStore: each attempt keeps the
// remote IP its session connected to and its duration (old-style outcomes without them read back
// without them); the message keeps the accepting node, API key and its Subject; searchMessages
// filters by Subject (case-insensitive substring, paged like the other filters, per account).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newQueueId } from '../../src/message/ids.js';
import type { NewMessage, QueueStore } from '../../src/store/store.js';

export type MakeTimelineStore = () => Promise<{ store: QueueStore; cleanup: () => Promise<void> }>;

async function enqueue(store: QueueStore, rcpt: string, receivedAt: number, extra: Partial<NewMessage> = {}): Promise<string> {
  const id = newQueueId();
  const w = store.createBody(id);
  await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
  await w.finish();
  await store.put({
    id, mailFrom: 'a@sender.example', recipients: [rcpt], size: w.bytesWritten, receivedAt, isBounce: false, route: 'relay',
    origin: { listener: 'submission', clientIp: '127.0.0.1', user: 'alice' }, ...extra,
  });
  return id;
}

export function timelineContract(name: string, makeStore: MakeTimelineStore): void {
  const it = (title: string, body: (store: QueueStore) => Promise<void>) =>
    test(`${name}: timeline: ${title}`, async () => {
      const { store, cleanup } = await makeStore();
      try { await body(store); } finally { await cleanup(); }
    });

  it('recordResults keeps each attempt\'s remote IP and duration; an outcome without them reads back without them', async (store) => {
    const now = Date.now();
    const id = await enqueue(store, 'r@dest.example', now - 1000);
    const [job] = await store.claimDue({ now, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    const rcptId = job!.recipients[0]!.id;
    await store.recordResults(id, [{ rcptId, status: 'deferred', response: '451 later', host: 'mx1.dest.example', remoteIp: '2001:db8::25', durationMs: 1234, nextAttemptAt: now }], [], { owner: 'node-a' });
    const [again] = await store.claimDue({ now: now + 1, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    assert.ok(again, 'due again');
    await store.recordResults(id, [{ rcptId, status: 'delivered', response: '250 ok' }], [], { owner: 'node-a' });
    const attempts = (await store.getMessage(id))!.attempts;
    assert.deepEqual(attempts.map((a) => [a.status, a.host, a.remoteIp, a.durationMs]),
      [['deferred', 'mx1.dest.example', '2001:db8::25', 1234], ['delivered', null, undefined, undefined]]);
    assert.ok(!('remoteIp' in attempts[1]!) && !('durationMs' in attempts[1]!), 'absent, not null');
  });

  it('the job\'s durationMs (RecordResultsOptions) is written for attempted outcomes without their own; a suppressed one gets none', async (store) => {
    const now = Date.now();
    const ids = [await enqueue(store, 'a@dest.example', now - 1000), await enqueue(store, 'b@dest.example', now - 1000), await enqueue(store, 'c@dest.example', now - 1000)];
    const jobs = await store.claimDue({ now, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    const rcpt = (id: string) => jobs.find((j) => j.messageId === id)!.recipients[0]!.id;
    await store.recordResults(ids[0]!, [{ rcptId: rcpt(ids[0]!), status: 'delivered', response: '250 ok', host: 'mx' }], [], { owner: 'node-a', durationMs: 42 });
    await store.recordResults(ids[1]!, [{ rcptId: rcpt(ids[1]!), status: 'bounced', response: '550 no', durationMs: 7 }], [], { owner: 'node-a', durationMs: 42 });
    await store.recordResults(ids[2]!, [{ rcptId: rcpt(ids[2]!), status: 'suppressed', response: '550 5.7.1 suppressed',
      suppression: { reason: 'manual', scope: 'all', createdAt: now - 5000, source: 'api' } }], [], { owner: 'node-a', durationMs: 42 });
    const durations = await Promise.all(ids.map(async (id) => (await store.getMessage(id))!.attempts.map((a) => a.durationMs)));
    assert.deepEqual(durations, [[42], [7], [undefined]]);
  });

  it('a zero duration is kept (not taken for absent)', async (store) => {
    const now = Date.now();
    const id = await enqueue(store, 'r@dest.example', now - 1000);
    const [job] = await store.claimDue({ now, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    await store.recordResults(id, [{ rcptId: job!.recipients[0]!.id, status: 'bounced', response: '550 no', remoteIp: '192.0.2.7', durationMs: 0 }], [], { owner: 'node-a' });
    assert.deepEqual((await store.getMessage(id))!.attempts.map((a) => [a.remoteIp, a.durationMs]), [['192.0.2.7', 0]]);
  });

  it('the accepting node, API key and Subject are kept with the message; absent ones read back as absent / null', async (store) => {
    const now = Date.now();
    const id = await enqueue(store, 'r@dest.example', now, {
      origin: { listener: 'http', clientIp: '127.0.0.9', user: 'key_1', node: 'node-b', apiKey: 'key_1' }, subject: 'Grüße — 100% “quoted” \'x\'',
    });
    const plain = await enqueue(store, 'r@dest.example', now);
    const view = (await store.getMessage(id))!;
    assert.deepEqual(view.origin, { listener: 'http', clientIp: '127.0.0.9', user: 'key_1', node: 'node-b', apiKey: 'key_1' });
    assert.equal(view.subject, 'Grüße — 100% “quoted” \'x\'');
    assert.equal((await store.getMessage(plain))!.subject, null);
  });

  it('searchMessages: subject= is a case-insensitive substring (no wildcards), per account, paged newest first', async (store) => {
    const base = Date.now() - 10_000;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await enqueue(store, `r${i}@dest.example`, base + i, { subject: `Invoice #${i} for ACME` }));
    await enqueue(store, 'x@dest.example', base + 10, { subject: 'Newsletter' });
    await enqueue(store, 'y@dest.example', base + 11, { subject: '100%_off' });
    await enqueue(store, 'z@dest.example', base + 12);
    await enqueue(store, 'o@dest.example', base + 13, { subject: 'invoice elsewhere', meta: { account: 'other', tags: [], metadata: {}, stream: 'transactional' } });
    const q = { account: 'default' };
    const first = await store.searchMessages({ ...q, subject: 'INVOICE', limit: 2 });
    assert.deepEqual(first.map((m) => m.id), [ids[4], ids[3]]);
    assert.equal(first[0]!.subject, 'Invoice #4 for ACME');
    const last = first.at(-1)!;
    const second = await store.searchMessages({ ...q, subject: 'invoice', limit: 10, before: { receivedAt: last.receivedAt, id: last.id } });
    assert.deepEqual(second.map((m) => m.id), [ids[2], ids[1], ids[0]]);
    assert.deepEqual((await store.searchMessages({ ...q, subject: '%' })).map((m) => m.subject), ['100%_off'], '% is no wildcard');
    assert.deepEqual((await store.searchMessages({ ...q, subject: '_' })).map((m) => m.subject), ['100%_off'], '_ is no wildcard');
    assert.deepEqual(await store.searchMessages({ ...q, subject: 'nothing like it' }), []);
    assert.equal((await store.searchMessages({ ...q, subject: 'acme', tag: 'none' })).length, 0, 'combined with the other filters');
    assert.equal((await store.searchMessages({ ...q, subject: 'acme', recipient: 'R3@dest.example' }))[0]?.id, ids[3]);
    assert.equal((await store.searchMessages(q)).length, 8, 'no subject filter: all, with or without a Subject');
  });
}
