// The suppression and statistics half of the store contract (issue 10), run by
// platformStoreContract against every store: the list itself (add, find by stream, search and
// paging, removal, tenant isolation), the entries events add in their own transaction (hard
// bounce, complaint, unsubscribe, the soft-bounce rule), delivery's view of them (claimDue marks
// suppressed recipients; a 'suppressed' outcome is final and has its event), and the counters.
import assert from 'node:assert/strict';
import { newQueueId } from '../../src/message/ids.js';
import type { MessageMeta } from '../../src/store/platform-store.js';
import type { NewMessage, QueueStore, RecipientOutcome } from '../../src/store/store.js';
import type { Suppression } from '../../src/store/suppression-store.js';
import { QueueWriteError } from '../../src/errors.js';
import type { PlatformIt } from './platform-store.contract.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const entry = (account: string, address: string, over: Partial<Suppression> = {}): Suppression => ({
  account, address, scope: 'all', reason: 'manual', source: 'cli', messageId: null, detail: null, createdAt: T0, ...over,
});

async function send(store: QueueStore, recipients: string[], meta: MessageMeta, receivedAt = T0): Promise<string> {
  const id = newQueueId();
  const w = store.createBody(id);
  await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
  await w.finish();
  const m: NewMessage = {
    id, mailFrom: 'app@acme.example', recipients, size: w.bytesWritten, receivedAt, meta,
    origin: { listener: 'http', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay',
  };
  await store.put(m);
  return id;
}

const meta = (account: string, stream: MessageMeta['stream'] = 'transactional', tags: string[] = []): MessageMeta =>
  ({ account, tags, metadata: {}, stream });

/** Claims everything due and records one outcome per recipient, chosen by address. */
async function deliverAll(store: QueueStore, at: number, outcome: (address: string, rcptId: number) => RecipientOutcome): Promise<void> {
  for (const job of await store.claimDue({ now: at, limit: 100, leaseMs: 60_000, owner: 'n1' })) {
    await store.recordResults(job.messageId, job.recipients.map((r) => outcome(r.address, r.id)), [], { owner: 'n1' });
  }
}

export function suppressionContract(it: PlatformIt): void {
  it('suppressions: add, find by stream, remove; case-insensitive; first cause kept unless replaced; per account', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await store.addAccount({ name: 'beta', createdAt: T0, limits: {} });
    assert.equal(await store.addSuppressions([
      entry('acme', 'Gone@Example.COM', { reason: 'hard-bounce' }), entry('acme', 'news@example.com', { scope: 'broadcast', reason: 'unsubscribe' }),
    ]), 2);
    assert.equal(await store.addSuppressions([entry('acme', 'gone@example.com', { reason: 'complaint' })]), 0, 'existing entry kept');
    const tx = await store.findSuppressions('acme', 'transactional', ['GONE@example.com', 'news@example.com', 'ok@example.com']);
    assert.deepEqual([...tx.keys()], ['gone@example.com'], 'a broadcast-only entry does not stop transactional mail');
    assert.equal(tx.get('gone@example.com')!.reason, 'hard-bounce');
    const bc = await store.findSuppressions('acme', 'broadcast', ['gone@example.com', 'news@example.com']);
    assert.deepEqual([...bc.keys()].sort(), ['gone@example.com', 'news@example.com']);
    // One address alone (the lookup of most claimed jobs) is matched the same way.
    assert.deepEqual([...(await store.findSuppressions('acme', 'transactional', ['GONE@Example.com'])).keys()], ['gone@example.com']);
    assert.equal((await store.findSuppressions('acme', 'transactional', ['news@example.com'])).size, 0, 'one address: broadcast-only entry');
    assert.equal((await store.findSuppressions('acme', 'broadcast', ['NEWS@example.com'])).get('news@example.com')!.reason, 'unsubscribe');
    assert.equal((await store.findSuppressions('beta', 'broadcast', ['gone@example.com'])).size, 0, 'another account sees nothing');
    assert.equal(await store.addSuppressions([entry('acme', 'gone@example.com', { reason: 'complaint' })], { replace: true }), 1);
    assert.equal((await store.listSuppressions({ account: 'acme', search: 'gone' }))[0]!.reason, 'complaint');
    assert.equal(await store.removeSuppression('beta', 'gone@example.com'), 0, 'not beta’s to remove');
    assert.equal(await store.removeSuppression('acme', 'GONE@example.com'), 1);
    assert.equal((await store.findSuppressions('acme', 'broadcast', ['gone@example.com'])).size, 0);
    await assert.rejects(store.addSuppressions([entry('nobody', 'x@example.com')]), (err: Error & { code?: string }) => err.code === 'ERR_NOT_FOUND');
  });

  it('suppressions: list pages by cursor in address order, filters by reason, scope and a search that treats % and _ literally', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    const addresses = Array.from({ length: 25 }, (_, i) => `user${String(i).padStart(2, '0')}@example.com`);
    await store.addSuppressions(addresses.map((a, i) => entry('acme', a, { reason: i % 2 ? 'hard-bounce' : 'complaint' })));
    await store.addSuppressions([entry('acme', 'odd_one%x@example.com')]);
    const seen: string[] = [];
    let after: Suppression | undefined;
    for (;;) {
      const page = await store.listSuppressions({ account: 'acme', limit: 10, ...(after ? { after } : {}) });
      seen.push(...page.map((s) => s.address));
      if (page.length < 10) break;
      after = page[page.length - 1];
    }
    assert.deepEqual(seen, ['odd_one%x@example.com', ...addresses]);
    assert.equal((await store.listSuppressions({ account: 'acme', reason: 'complaint' })).length, 13);
    assert.deepEqual((await store.listSuppressions({ account: 'acme', search: '_one%' })).map((s) => s.address), ['odd_one%x@example.com']);
    assert.deepEqual(await store.listSuppressions({ account: 'acme', search: 'r_1' }), [], '_ is not a wildcard');
    assert.equal((await store.listSuppressions({ account: 'acme', scope: 'broadcast' })).length, 0);
  });

  it('events suppress in their own transaction: hard bounce (not soft or block), complaint, unsubscribe (broadcast only)', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await send(store, ['hard@x.example', 'soft@x.example', 'block@x.example', 'fine@x.example'], meta('acme'));
    await deliverAll(store, T0, (address, rcptId) => {
      if (address === 'fine@x.example') return { rcptId, status: 'delivered', response: '250 ok' };
      if (address === 'hard@x.example') return { rcptId, status: 'bounced', response: '550 5.1.1 <hard@x.example>: user unknown' };
      if (address === 'soft@x.example') return { rcptId, status: 'bounced', response: '552 5.2.2 mailbox full' };
      return { rcptId, status: 'bounced', response: '554 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org' };
    });
    const list = await store.listSuppressions({ account: 'acme' });
    assert.deepEqual(list.map((s) => [s.address, s.reason, s.scope]), [['hard@x.example', 'hard-bounce', 'all']]);
    const bounce = (await store.listEvents({ account: 'acme', types: ['bounced'], recipient: 'hard@x.example' }))[0]!;
    assert.equal(list[0]!.source, bounce.id, 'the entry names the event that caused it');
    assert.match(list[0]!.detail!, /user unknown/);

    await store.appendEvents([
      { at: T0 + 1, account: 'acme', type: 'complained', messageId: null, recipient: 'Angry@X.example', data: { feedbackType: 'abuse' } },
      { at: T0 + 2, account: 'acme', type: 'unsubscribed', messageId: null, recipient: 'bye@x.example', data: { method: 'one-click' } },
    ]);
    const after = await store.listSuppressions({ account: 'acme' });
    assert.deepEqual(after.map((s) => [s.address, s.reason, s.scope]), [
      ['angry@x.example', 'complaint', 'all'], ['bye@x.example', 'unsubscribe', 'broadcast'], ['hard@x.example', 'hard-bounce', 'all'],
    ]);
  });

  it('soft bounces suppress after the configured count in a row; a delivery in between starts the count again; blocks never count', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    const soft = (rcptId: number): RecipientOutcome => ({ rcptId, status: 'bounced', response: '552 5.2.2 mailbox full' });
    const once = async (at: number, outcome: (rcptId: number) => RecipientOutcome) => {
      await send(store, ['full@x.example'], meta('acme'));
      await deliverAll(store, at, (_a, id) => outcome(id));
    };
    await once(T0, soft);
    await once(T0 + 1, soft);
    await once(T0 + 5, (rcptId) => ({ rcptId, status: 'delivered', response: '250 ok' }));
    await once(T0 + 10, soft);
    await once(T0 + 11, soft);
    await once(T0 + 12, (rcptId) => ({ rcptId, status: 'expired', response: '421 4.7.28 unusual rate of unsolicited mail' }));
    await once(T0 + 13, (rcptId) => ({ rcptId, status: 'bounced', response: '554 5.7.1 client host blocked using zen.spamhaus.org' }));
    assert.equal((await store.listSuppressions({ account: 'acme' })).length, 0, 'two in a row since the delivery; blocks (the sender\'s fault) do not count');
    await once(T0 + 20, (rcptId) => ({ rcptId, status: 'expired', response: '451 4.2.2 try later' }));
    const [s] = await store.listSuppressions({ account: 'acme' });
    assert.equal(s?.reason, 'soft-bounce', 'an expiry counts as a soft bounce: the third in a row');
    assert.match(s!.detail!, /^3 consecutive soft bounces/);
  });

  it('a delivery clears the soft-bounce count of every recipient of its job (several in one result)', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    const soft = (_a: string, rcptId: number): RecipientOutcome => ({ rcptId, status: 'bounced', response: '552 5.2.2 mailbox full' });
    const rcpts = ['full1@x.example', 'full2@x.example', 'full3@x.example'];
    for (const at of [T0, T0 + 1]) {
      await send(store, rcpts, meta('acme'));
      await deliverAll(store, at, soft);
    }
    await send(store, ['other@x.example', ...rcpts], meta('acme'));
    await deliverAll(store, T0 + 5, (_a, rcptId) => ({ rcptId, status: 'delivered', response: '250 ok' }));
    for (const at of [T0 + 10, T0 + 11]) {
      await send(store, rcpts, meta('acme'));
      await deliverAll(store, at, soft);
    }
    assert.equal((await store.listSuppressions({ account: 'acme' })).length, 0, 'each count started again at the delivery: two in a row');
    await send(store, rcpts, meta('acme'));
    await deliverAll(store, T0 + 12, soft);
    assert.deepEqual((await store.listSuppressions({ account: 'acme' })).map((s) => [s.address, s.reason]),
      rcpts.map((a) => [a, 'soft-bounce']), 'the third in a row');
  });

  it('one result for a job of runs of equal outcomes: each recipient\'s state, attempt and event in the outcomes\' order', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const id = await send(store, names.map((n) => `${n}@x.example`), meta('acme', 'transactional', ['t1']));
    const [job] = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'n1' });
    const ids = Object.fromEntries(job!.recipients.map((r) => [r.address[0]!, r.id])) as Record<string, number>;
    const tls = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true, policy: 'opportunistic', level: 'opportunistic' };
    const ok = (n: string, t: RecipientOutcome['tls'] = tls): RecipientOutcome =>
      ({ rcptId: ids[n]!, status: 'delivered', response: '250 2.0.0 queued as X', host: 'mx.x.example', tls: t, source: 'src1', remoteIp: '192.0.2.1', durationMs: 12 });
    const later = (n: string): RecipientOutcome => ({ rcptId: ids[n]!, status: 'deferred', response: '451 4.2.0 later', host: 'mx.x.example', tls, nextAttemptAt: T0 + 600_000 });
    // a, b together; c alone (a hard bounce between them); d; f before e (not in id order); g with its own (equal) TLS result.
    const sent: RecipientOutcome[] = [ok('a'), ok('b'), { rcptId: ids.c!, status: 'bounced', response: '550 5.1.1 user unknown', host: 'mx.x.example' },
      ok('d'), later('f'), later('e'), ok('g', { ...tls })];
    await store.recordResults(id, sent, [], { owner: 'n1' });
    const m = (await store.getMessage(id))!;
    assert.deepEqual(m.recipients.map((r) => [r.address[0], r.state, r.attempts, r.lastResponse]), [
      ['a', 'delivered', 1, '250 2.0.0 queued as X'], ['b', 'delivered', 1, '250 2.0.0 queued as X'], ['c', 'bounced', 1, '550 5.1.1 user unknown'],
      ['d', 'delivered', 1, '250 2.0.0 queued as X'], ['e', 'deferred', 1, '451 4.2.0 later'], ['f', 'deferred', 1, '451 4.2.0 later'],
      ['g', 'delivered', 1, '250 2.0.0 queued as X']]);
    assert.deepEqual(m.recipients.filter((r) => r.state === 'deferred').map((r) => r.nextAttemptAt), [T0 + 600_000, T0 + 600_000]);
    assert.deepEqual(m.attempts.map((x) => [x.address[0], x.status]),
      [['a', 'delivered'], ['b', 'delivered'], ['c', 'bounced'], ['d', 'delivered'], ['f', 'deferred'], ['e', 'deferred'], ['g', 'delivered']]);
    const a = m.attempts[0]!;
    assert.deepEqual([a.host, a.tls, a.source, a.remoteIp, a.durationMs], ['mx.x.example', tls, 'src1', '192.0.2.1', 12]);
    assert.equal(m.attempts[2]!.tls, undefined);
    const events = (await store.listEvents({ account: 'acme', messageId: id })).filter((e) => e.type !== 'accepted');
    assert.deepEqual(events.map((e) => [e.recipient![0], e.type]),
      [['a', 'delivered'], ['b', 'delivered'], ['c', 'bounced'], ['d', 'delivered'], ['f', 'deferred'], ['e', 'deferred'], ['g', 'delivered']]);
    assert.ok(events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq), 'seqs ascend in the outcomes\' order');
    assert.deepEqual(events.map((e) => [e.data.attempt, e.data.host, (e.data.tags as string[])[0]]), events.map(() => [1, 'mx.x.example', 't1']));
    assert.deepEqual(events[0]!.data.tls, tls);
    assert.equal(events[4]!.data.nextAttemptAt, T0 + 600_000);
    const [hard] = await store.listSuppressions({ account: 'acme' });
    assert.deepEqual([hard?.address, hard?.reason, hard?.source], ['c@x.example', 'hard-bounce', events[2]!.id], 'the suppression names its event');
  });

  it('claimDue marks suppressed recipients by stream; a suppressed outcome is final, has its event and completes the message', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await store.addSuppressions([entry('acme', 'unsub@x.example', { scope: 'broadcast', reason: 'unsubscribe' }), entry('acme', 'gone@x.example')]);
    const tx = await send(store, ['unsub@x.example', 'gone@x.example', 'ok@x.example'], meta('acme', 'transactional'));
    const bc = await send(store, ['unsub@x.example', 'ok@x.example'], meta('acme', 'broadcast'));
    const jobs = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'n1' });
    const marks = (id: string) => jobs.find((j) => j.messageId === id)!.recipients.map((r) => `${r.address}:${r.suppression?.reason ?? '-'}`);
    assert.deepEqual(marks(tx), ['unsub@x.example:-', 'gone@x.example:manual', 'ok@x.example:-']);
    assert.deepEqual(marks(bc), ['unsub@x.example:unsubscribe', 'ok@x.example:-']);
    assert.equal(jobs.find((j) => j.messageId === bc)!.stream, 'broadcast');
    for (const job of jobs) {
      await store.recordResults(job.messageId, job.recipients.map((r): RecipientOutcome => (r.suppression
        ? { rcptId: r.id, status: 'suppressed', response: '550 5.7.1 not sent', suppression: r.suppression }
        : { rcptId: r.id, status: 'delivered', response: '250 ok' })), [], { owner: 'n1' });
    }
    const view = await store.getMessage(bc);
    assert.deepEqual(view!.recipients.map((r) => r.state), ['suppressed', 'delivered']);
    const events = await store.listEvents({ account: 'acme', types: ['suppressed'] });
    // Both sides sorted by message id: the events come in the order the results were recorded (the claim's order),
    // and two queue ids made in the same millisecond need not sort in the order they were made.
    const byMessage = (a: unknown[], b: unknown[]) => (String(a[0]) < String(b[0]) ? -1 : 1);
    assert.deepEqual(events.map((e) => [e.messageId, e.recipient, e.data.reason, e.data.scope]).sort(byMessage),
      [[tx, 'gone@x.example', 'manual', 'all'], [bc, 'unsub@x.example', 'unsubscribe', 'broadcast']].sort(byMessage));
    assert.equal((await store.counts()).suppressed, 2);
    assert.equal(await store.purgeFinished(Date.now() + HOUR), 2, 'both messages are complete');
  });

  it('put with recipients suppressed at acceptance: they are final with their event at once; the others are queued', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    const cause = { reason: 'hard-bounce' as const, scope: 'all' as const, createdAt: T0 - 1000, source: 'ev_1' };
    const id = newQueueId();
    const w = store.createBody(id);
    await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
    await w.finish();
    await store.put({
      id, mailFrom: 'app@acme.example', recipients: ['gone@x.example', 'ok@x.example'], size: w.bytesWritten, receivedAt: T0, meta: meta('acme'),
      origin: { listener: 'http', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay', suppressed: [{ address: 'gone@x.example', suppression: cause }],
    });
    const view = await store.getMessage(id);
    assert.deepEqual(view!.recipients.map((r) => [r.address, r.state]), [['gone@x.example', 'suppressed'], ['ok@x.example', 'queued']]);
    assert.match(view!.recipients[0]!.lastResponse!, /^550 5\.7\.1 not sent: the recipient is on the suppression list \(hard-bounce/);
    assert.deepEqual((await store.listEvents({ account: 'acme' })).map((e) => `${e.type}:${e.recipient}`),
      ['accepted:gone@x.example', 'accepted:ok@x.example', 'suppressed:gone@x.example']);
    const jobs = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'n1' });
    assert.deepEqual(jobs.flatMap((j) => j.recipients.map((r) => r.address)), ['ok@x.example'], 'only the other recipient is delivered');
    const all = newQueueId();
    const w2 = store.createBody(all);
    await w2.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
    await w2.finish();
    await store.put({
      id: all, mailFrom: 'app@acme.example', recipients: ['gone@x.example'], size: w2.bytesWritten, receivedAt: T0, meta: meta('acme'),
      origin: { listener: 'http', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay', suppressed: [{ address: 'gone@x.example', suppression: cause }],
    });
    assert.equal(await store.purgeFinished(Date.now() + HOUR), 1, 'a message whose every recipient is suppressed is complete');
  });

  it('putCheckingSuppressions: the lookup in the put’s transaction (by stream, case-insensitive, per account); found ones stored suppressed and returned', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await store.addAccount({ name: 'beta', createdAt: T0, limits: {} });
    await store.addSuppressions([
      entry('acme', 'gone@x.example', { reason: 'hard-bounce', createdAt: T0 - 1000, source: 'ev_1' }),
      entry('acme', 'news@x.example', { scope: 'broadcast', reason: 'unsubscribe' }),
      entry('beta', 'ok@x.example'),
    ]);
    const put = async (recipients: string[], m: MessageMeta) => {
      const id = newQueueId();
      const w = store.createBody(id);
      await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
      await w.finish();
      const found = await store.putCheckingSuppressions({
        id, mailFrom: 'app@acme.example', recipients, size: w.bytesWritten, receivedAt: T0, meta: m,
        origin: { listener: 'http', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay',
      });
      return { id, found };
    };
    const tx = await put(['GONE@x.example', 'news@x.example', 'ok@x.example'], meta('acme'));
    assert.deepEqual([...tx.found.keys()], ['gone@x.example'], 'a broadcast-only entry does not stop transactional mail; beta’s entry is not acme’s');
    assert.deepEqual(tx.found.get('gone@x.example'), await store.findSuppressions('acme', 'transactional', ['gone@x.example']).then((f) => f.get('gone@x.example')));
    const view = await store.getMessage(tx.id);
    assert.deepEqual(view!.recipients.map((r) => [r.address, r.state]), [['GONE@x.example', 'suppressed'], ['news@x.example', 'queued'], ['ok@x.example', 'queued']]);
    assert.match(view!.recipients[0]!.lastResponse!, /^550 5\.7\.1 not sent: the recipient is on the suppression list \(hard-bounce/);
    assert.deepEqual((await store.listEvents({ account: 'acme', types: ['suppressed'] })).map((e) => e.recipient), ['GONE@x.example']);
    const bc = await put(['news@x.example', 'gone@x.example'], meta('acme', 'broadcast'));
    assert.deepEqual([...bc.found.keys()].sort(), ['gone@x.example', 'news@x.example']);
    assert.equal((await store.getMessage(bc.id))!.recipients.every((r) => r.state === 'suppressed'), true);
    const none = await put(['ok@x.example'], meta('acme'));
    assert.equal(none.found.size, 0);
    assert.deepEqual((await store.getMessage(none.id))!.recipients.map((r) => r.state), ['queued']);
    const jobs = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'n1' });
    assert.deepEqual(jobs.flatMap((j) => j.recipients.map((r) => r.address)).sort(), ['news@x.example', 'ok@x.example', 'ok@x.example']);
    assert.equal(await store.purgeFinished(Date.now() + HOUR), 1, 'the message whose every recipient is suppressed is complete');
  });

  it('putCheckingSuppressions writes each message once, with and without a hit: one accepted event and one count per recipient; a repeated id writes nothing', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await store.addSuppressions([entry('acme', 'gone@x.example')]);
    const put = async (recipients: string[], id = newQueueId()) => {
      const w = store.createBody(id);
      await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
      await w.finish();
      const found = await store.putCheckingSuppressions({
        id, mailFrom: 'app@acme.example', recipients, size: w.bytesWritten, receivedAt: T0, meta: meta('acme'),
        origin: { listener: 'http', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay',
      });
      return { id, found };
    };
    const hit = await put(['gone@x.example', 'ok@x.example']);
    const miss = await put(['a@y.example', 'b@y.example']);
    assert.deepEqual([...hit.found.keys()], ['gone@x.example']);
    assert.equal(miss.found.size, 0);
    await assert.rejects(put(['c@y.example'], miss.id), QueueWriteError);
    await assert.rejects(put(['gone@x.example'], hit.id), QueueWriteError, 'a repeated id with a hit rejects too');
    assert.deepEqual((await store.getMessage(miss.id))!.recipients.map((r) => [r.address, r.state]), [['a@y.example', 'queued'], ['b@y.example', 'queued']]);
    assert.deepEqual((await store.getMessage(hit.id))!.recipients.map((r) => [r.address, r.state]), [['gone@x.example', 'suppressed'], ['ok@x.example', 'queued']]);
    const accepted = (await store.listEvents({ account: 'acme', types: ['accepted'] })).map((e) => `${e.messageId} ${e.recipient}`).sort();
    assert.deepEqual(accepted, [`${hit.id} gone@x.example`, `${hit.id} ok@x.example`, `${miss.id} a@y.example`, `${miss.id} b@y.example`].sort());
    await store.compactStats();
    const total = await store.readStats({ account: 'acme', from: 0, to: Date.now() + 2 * HOUR, groupBy: 'total' });
    assert.equal(total[0]!.metrics.accepted, 4);
    const jobs = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'n1' });
    assert.deepEqual(jobs.flatMap((j) => j.recipients.map((r) => r.address)).sort(), ['a@y.example', 'b@y.example', 'ok@x.example']);
  });

  it('statistics: counters per hour, domain, stream and tag, written with the events; tagged messages counted once per tag', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await store.addAccount({ name: 'beta', createdAt: T0, limits: {} });
    await send(store, ['a@gmail.example', 'b@yahoo.example'], meta('acme', 'broadcast', ['news', 'weekly']), T0);
    await send(store, ['c@gmail.example'], meta('acme', 'transactional'), T0);
    await send(store, ['d@gmail.example'], meta('beta'), T0);
    await deliverAll(store, T0 + HOUR, (address, rcptId) => (address.startsWith('b@')
      ? { rcptId, status: 'bounced', response: '550 5.1.1 no such user' } : { rcptId, status: 'delivered', response: '250 ok' }));
    await store.compactStats();
    // Events are stamped with the store's clock: the window spans them, and the hourly split is
    // checked against an independent count of the event log.
    const window = { from: 0, to: Date.now() + 2 * HOUR };
    const total = await store.readStats({ account: 'acme', ...window, groupBy: 'total' });
    assert.deepEqual(total, [{ key: '', metrics: { accepted: 3, delivered: 2, bounced_hard: 1 } }]);
    const byDomain = await store.readStats({ account: 'acme', ...window, groupBy: 'domain' });
    assert.deepEqual(byDomain, [
      { key: 'gmail.example', metrics: { accepted: 2, delivered: 2 } }, { key: 'yahoo.example', metrics: { accepted: 1, bounced_hard: 1 } },
    ]);
    const byTag = await store.readStats({ account: 'acme', ...window, groupBy: 'tag' });
    assert.deepEqual(byTag.map((r) => [r.key, r.metrics.accepted]), [['news', 2], ['weekly', 2]]);
    assert.deepEqual((await store.readStats({ account: 'acme', ...window, groupBy: 'total', tag: 'news' }))[0]!.metrics,
      { accepted: 2, delivered: 1, bounced_hard: 1 });
    const expected = new Map<number, Record<string, number>>();
    for (const e of await store.listEvents({ account: 'acme' })) {
      const hour = Math.floor(e.at / HOUR) * HOUR;
      const metric = e.type === 'bounced' ? 'bounced_hard' : e.type;
      const m = expected.get(hour) ?? {};
      m[metric] = (m[metric] ?? 0) + 1;
      expected.set(hour, m);
    }
    const byHour = await store.readStats({ account: 'acme', ...window, groupBy: 'hour' });
    assert.deepEqual(byHour.map((r) => [Number(r.key), r.metrics]), [...expected.entries()].sort((a, b) => a[0] - b[0]));
    const stream = await store.readStats({ account: 'acme', ...window, groupBy: 'stream' });
    assert.deepEqual(stream.map((r) => [r.key, r.metrics.accepted]), [['broadcast', 2], ['transactional', 1]]);
    const all = await store.readStats({ account: null, ...window, groupBy: 'account' });
    assert.deepEqual(all.map((r) => [r.key, r.metrics.accepted]), [['acme', 3], ['beta', 1]]);
    assert.deepEqual(await store.readStats({ account: 'acme', from: T0, to: T0 + HOUR, groupBy: 'total' }), [], 'nothing outside the window');
  });
}
