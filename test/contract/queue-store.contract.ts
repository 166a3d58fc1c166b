// The QueueStore contract as node:test tests, run against every implementation (SQLite now,
// PostgreSQL later): only the interface in src/store/store.ts is used, never SQL or file paths.
// Times passed in are fixed literals; the store's own stamps (completed_at, attempt.at) are only
// compared against 0 and MAX_SAFE_INTEGER, so any clock the store was built with works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Readable } from 'node:stream';
import { QueueWriteError, RelayError } from '../../src/errors.js';
import { newQueueId } from '../../src/message/ids.js';
import type { NewMessage, QueueStore, RecipientOutcome } from '../../src/store/store.js';
import { domainStoreContract } from './domain-store.contract.js';
import { queueBodyContract } from './queue-body.contract.js';
import { destinationSlotContract } from './destination-slot.contract.js';
import { shapingContract } from './shaping.contract.js';

export type MakeStore = () => Promise<{ store: QueueStore; cleanup: () => Promise<void> }>;

const T0 = 1_700_000_000_000;
const LEASE = 60_000;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** True when the body can still be read. */
async function hasBody(store: QueueStore, id: string): Promise<boolean> {
  try { await readAll(store.readBody(id)); return true; } catch { return false; }
}

async function writeBody(store: QueueStore, id: string, body: Buffer | string): Promise<number> {
  const w = store.createBody(id);
  const buf = Buffer.from(body);
  for (let off = 0; off < buf.length; off += 1000) await w.write(buf.subarray(off, off + 1000));
  await w.finish();
  return w.bytesWritten;
}

function message(id: string, recipients: string[], over: Partial<NewMessage> = {}): NewMessage {
  return {
    id, mailFrom: 'sender@example.org', recipients, size: 0, receivedAt: T0,
    origin: { listener: 'submission', clientIp: '127.0.0.1', user: 'alice' }, isBounce: false, route: 'relay', ...over,
  };
}

async function enqueue(store: QueueStore, recipients: string[], over: Partial<NewMessage> = {}, body = 'Subject: t\r\n\r\nhi\r\n') {
  const id = over.id ?? newQueueId();
  const size = await writeBody(store, id, body);
  await store.put(message(id, recipients, { ...over, id, size }));
  return id;
}

const claim = (store: QueueStore, now = T0, extra: { limit?: number; owner?: string; excludeDomains?: readonly string[]; leaseMs?: number } = {}) =>
  store.claimDue({ now, limit: extra.limit ?? 100, leaseMs: extra.leaseMs ?? LEASE, owner: extra.owner ?? 'node-a', excludeDomains: extra.excludeDomains });

const outcomes = (ids: number[], status: 'delivered' | 'bounced' | 'expired', response = '250 2.0.0 ok'): RecipientOutcome[] =>
  ids.map((rcptId) => ({ rcptId, status, response, host: 'mx.example.net' }));

export function queueStoreContract(name: string, makeStore: MakeStore): void {
  const it = (title: string, body: (store: QueueStore) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const { store, cleanup } = await makeStore();
      try { await body(store); } finally { await cleanup(); }
    });
  domainStoreContract(it);
  queueBodyContract(it);
  destinationSlotContract(it);
  shapingContract(it);

  it('put + readBody round-trips every byte value and stores the envelope', async (store) => {
    const bytes = Buffer.alloc(5000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 256; // includes NUL, bare CR/LF, 8-bit
    const id = await enqueue(store, ['bob@example.com'], { mailFrom: '', isBounce: true, route: 'local' }, bytes as unknown as string);
    assert.deepEqual(await readAll(store.readBody(id)), bytes);
    const m = await store.getMessage(id);
    assert.ok(m);
    assert.equal(m.mailFrom, '');
    assert.equal(m.size, 5000);
    assert.equal(m.isBounce, true);
    assert.equal(m.route, 'local');
    assert.deepEqual(m.origin, { listener: 'submission', clientIp: '127.0.0.1', user: 'alice' });
    assert.deepEqual(m.recipients.map((r) => [r.address, r.state, r.attempts]), [['bob@example.com', 'queued', 0]]);
    assert.deepEqual(m.attempts, []);
    assert.equal(await store.getMessage(newQueueId()), null);
  });

  it('BodyWriter counts bytes; abort removes the body', async (store) => {
    const id = newQueueId();
    const w = store.createBody(id);
    await w.write(Buffer.from('abc'));
    await w.write(Buffer.from([0xff, 0x00]));
    assert.equal(w.bytesWritten, 5);
    await w.abort();
    assert.equal(await hasBody(store, id), false);
  });

  it('put with an id already queued rejects with QueueWriteError', async (store) => {
    const id = await enqueue(store, ['a@example.com']);
    await assert.rejects(store.put(message(id, ['b@example.com'])), QueueWriteError);
    assert.deepEqual((await store.getMessage(id))!.recipients.map((r) => r.address), ['a@example.com']);
  });

  it('claimDue groups recipients by (message, lower-case domain) and leases them', async (store) => {
    const id = await enqueue(store, ['a@Example.COM', 'b@example.com', 'x"@"y@other.org', 'c@third.net'], { receivedAt: T0 - 10 });
    const jobs = await claim(store, T0);
    assert.equal(jobs.length, 3);
    const byDomain = Object.fromEntries(jobs.map((j) => [j.domain, j]));
    assert.deepEqual(Object.keys(byDomain).sort(), ['example.com', 'other.org', 'third.net']);
    const ex = byDomain['example.com']!;
    assert.deepEqual(ex.recipients.map((r) => [r.address, r.attempts]), [['a@Example.COM', 0], ['b@example.com', 0]]);
    assert.equal(ex.messageId, id);
    assert.equal(ex.mailFrom, 'sender@example.org');
    assert.equal(ex.leaseUntil, T0 + LEASE);
    assert.equal(ex.receivedAt, T0 - 10);
    assert.equal(ex.delayNotified, false);
    assert.equal(ex.route, 'relay');
    assert.deepEqual((await store.counts()).delivering, 4);
    assert.deepEqual(await claim(store, T0 + 1, { owner: 'node-b' }), [], 'leased work is not claimed twice');
    assert.equal(await store.nextDueAt(), null, 'delivering recipients are not waiting');
  });

  it('the DSN parameters (RFC 3461) are stored with the message and come back with each claimed job', async (store) => {
    const dsn: NewMessage['dsn'] = {
      ret: 'FULL', envid: 'env-1',
      recipients: { 'a@example.com': { notify: ['SUCCESS', 'DELAY'], orcpt: { type: 'rfc822', address: 'A+x@example.com' } }, 'c@other.org': { notify: 'NEVER' } },
    };
    const id = await enqueue(store, ['a@example.com', 'b@example.com', 'c@other.org'], { dsn });
    const plain = await enqueue(store, ['d@example.com']);
    const jobs = await claim(store, T0);
    const job = (m: string, d: string) => jobs.find((j) => j.messageId === m && j.domain === d)!;
    assert.deepEqual(job(id, 'example.com').dsn, { ret: 'FULL', envid: 'env-1' });
    assert.deepEqual(job(id, 'example.com').recipients.map((r) => [r.address, r.dsn]), [
      ['a@example.com', { notify: ['SUCCESS', 'DELAY'], orcpt: { type: 'rfc822', address: 'A+x@example.com' } }], ['b@example.com', undefined]]);
    assert.deepEqual(job(id, 'other.org').recipients[0]!.dsn, { notify: 'NEVER' });
    assert.equal(job(plain, 'example.com').dsn, undefined);
    assert.equal(job(plain, 'example.com').recipients[0]!.dsn, undefined);
  });

  it('transport needs (REQUIRETLS, SMTPUTF8, TLS-Required: No) are stored with the message and read with each job', async (store) => {
    const plain = await enqueue(store, ['a@one.example'], { receivedAt: T0 - 2 });
    const strict = await enqueue(store, ['a@two.example'], { receivedAt: T0 - 1, transport: { requireTls: true, smtpUtf8: true, tlsOptional: false } });
    const relaxed = await enqueue(store, ['a@three.example'], { receivedAt: T0, transport: { requireTls: false, smtpUtf8: false, tlsOptional: true } });
    const jobs = new Map((await claim(store, T0)).map((j) => [j.messageId, j.transport]));
    assert.deepEqual(jobs.get(plain), { requireTls: false, smtpUtf8: false, tlsOptional: false });
    assert.deepEqual(jobs.get(strict), { requireTls: true, smtpUtf8: true, tlsOptional: false });
    assert.deepEqual(jobs.get(relaxed), { requireTls: false, smtpUtf8: false, tlsOptional: true });
  });

  it('claimDue returns at most `limit` jobs, oldest due first, and never future work', async (store) => {
    const late = await enqueue(store, ['a@one.example'], { receivedAt: T0 - 1 });
    const early = await enqueue(store, ['a@two.example'], { receivedAt: T0 - 100 });
    const future = await enqueue(store, ['a@three.example'], { receivedAt: T0 + 5000 });
    assert.equal(await store.nextDueAt(), T0 - 100);
    const first = await claim(store, T0, { limit: 1 });
    assert.deepEqual(first.map((j) => j.messageId), [early]);
    const rest = await claim(store, T0, { limit: 10 });
    assert.deepEqual(rest.map((j) => j.messageId), [late]);
    assert.equal(await store.nextDueAt(), T0 + 5000);
    assert.deepEqual((await claim(store, T0 + 5000)).map((j) => j.messageId), [future]);
    assert.deepEqual(await claim(store, T0, { limit: 0 }), []);
  });

  it('claimDue skips excludeDomains', async (store) => {
    await enqueue(store, ['a@busy.example', 'b@free.example', 'c@BUSY.example']);
    const jobs = await claim(store, T0, { excludeDomains: ['busy.example'] });
    assert.deepEqual(jobs.map((j) => j.domain), ['free.example']);
    const later = await claim(store, T0);
    assert.deepEqual(later.map((j) => [j.domain, j.recipients.length]), [['busy.example', 2]]);
  });

  it('claimDue excludes the same for a list handed in again, among many others (stores keep what they derive by identity)', async (store) => {
    await enqueue(store, ['a@busy.example', 'b@BUSY.example']);
    const same = Object.freeze(['other.example', 'Busy.Example']);
    for (let i = 0; i < 12; i++) {
      // A new list each time, odd names included (quotes, a backslash: a text[] literal must escape them).
      const fresh = Object.freeze([`x${i}.example`, 'we"ird\\name', 'busy.example']);
      assert.deepEqual(await claim(store, T0, { excludeDomains: fresh }), [], `fresh list ${i}`);
      assert.deepEqual(await claim(store, T0, { excludeDomains: same }), [], `same list, round ${i}`);
    }
    const later = await claim(store, T0, { excludeDomains: Object.freeze(['other.example']) });
    assert.deepEqual(later.map((j) => [j.domain, j.recipients.length]), [['busy.example', 2]]);
  });

  it('an expired lease is reclaimed by another owner; the stale owner cannot overwrite', async (store) => {
    const id = await enqueue(store, ['a@example.com']);
    const [mine] = await claim(store, T0, { owner: 'dead-node' });
    assert.ok(mine);
    assert.deepEqual(await claim(store, T0 + LEASE - 1, { owner: 'node-b' }), []);
    const [theirs] = await claim(store, T0 + LEASE + 1, { owner: 'node-b' });
    assert.ok(theirs);
    assert.equal(theirs.leaseUntil, T0 + 2 * LEASE + 1);
    const rcpt = theirs.recipients[0]!.id;
    const dsnId = newQueueId();
    const size = await writeBody(store, dsnId, 'Subject: Undelivered\r\n\r\nstale\r\n');
    const dsn = message(dsnId, ['author@origin.example'], { mailFrom: '', isBounce: true, size, receivedAt: T0 + 1, origin: { listener: 'local', clientIp: '127.0.0.1', user: null } });
    await store.recordResults(id, outcomes([rcpt], 'bounced', '550 stale'), [{ message: dsn }], { owner: 'dead-node' });
    assert.equal((await store.getMessage(id))!.recipients[0]!.state, 'delivering');
    assert.equal(await store.getMessage(dsnId), null, 'a stale owner\'s DSN is not stored (it would duplicate the new owner\'s)');
    await store.recordResults(id, outcomes([rcpt], 'delivered'), [], { owner: 'node-b' });
    const m = (await store.getMessage(id))!;
    assert.equal(m.recipients[0]!.state, 'delivered');
    assert.equal(m.recipients[0]!.attempts, 1);
  });

  it('node heartbeats are upserted per node and listed most recent first', async (store) => {
    await store.recordHeartbeat({ nodeId: 'a:1', startedAt: T0, lastSeenAt: T0 + 10, inFlight: 3 });
    await store.recordHeartbeat({ nodeId: 'b:2', startedAt: T0, lastSeenAt: T0 + 20, inFlight: 0 });
    await store.recordHeartbeat({ nodeId: 'a:1', startedAt: T0 + 99, lastSeenAt: T0 + 30, inFlight: 1 });
    assert.deepEqual(await store.listNodes(T0), [
      { nodeId: 'a:1', startedAt: T0, lastSeenAt: T0 + 30, inFlight: 1 },
      { nodeId: 'b:2', startedAt: T0, lastSeenAt: T0 + 20, inFlight: 0 },
    ]);
    assert.deepEqual((await store.listNodes(T0 + 25)).map((n) => n.nodeId), ['a:1']);
  });

  it('releaseLeases(owner) and releaseLeases(null) put leased work back, due now', async (store) => {
    // Due one after the other, so that 'a' claims the one-recipient message: claimDue orders by due
    // time only, and two messages due at the same instant come back in either order.
    await enqueue(store, ['a@one.example'], { receivedAt: T0 - 5 });
    await enqueue(store, ['a@two.example', 'b@two.example'], { receivedAt: T0 - 4 });
    await claim(store, T0, { limit: 1, owner: 'a' });
    await claim(store, T0, { limit: 1, owner: 'b' });
    assert.equal(await store.releaseLeases('nobody'), 0);
    assert.equal(await store.releaseLeases('a'), 1);
    assert.equal((await store.counts()).queued, 1);
    assert.equal(await store.releaseLeases(null), 2);
    const c = await store.counts();
    assert.equal(c.queued, 3);
    assert.equal(c.delivering, 0);
    assert.ok((await store.nextDueAt())! > T0, 'released work is due at the release time');
    assert.equal((await claim(store, Number.MAX_SAFE_INTEGER)).length, 2);
  });

  it('recordResults: deferred waits, then final states; attempts and history are kept', async (store) => {
    const id = await enqueue(store, ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com']);
    const [job] = await claim(store, T0);
    const [a, b, c, d] = job!.recipients.map((r) => r.id) as [number, number, number, number];
    await store.recordResults(id, [
      { rcptId: a, status: 'delivered', response: '250 ok', host: 'mx1' },
      { rcptId: b, status: 'deferred', response: '451 later', host: 'mx1', nextAttemptAt: T0 + 300_000 },
      { rcptId: c, status: 'bounced', response: '550 no such user' },
      { rcptId: d, status: 'expired', response: 'gave up' },
    ]);
    let m = (await store.getMessage(id))!;
    assert.deepEqual(m.recipients.map((r) => [r.state, r.attempts, r.lastResponse]),
      [['delivered', 1, '250 ok'], ['deferred', 1, '451 later'], ['bounced', 1, '550 no such user'], ['expired', 1, 'gave up']]);
    assert.equal(m.recipients[1]!.nextAttemptAt, T0 + 300_000);
    assert.deepEqual(m.attempts.map((x) => [x.rcptId, x.status, x.host]), [[a, 'delivered', 'mx1'], [b, 'deferred', 'mx1'], [c, 'bounced', null], [d, 'expired', null]]);
    assert.equal(m.attempts[1]!.address, 'b@example.com');
    assert.equal(await store.nextDueAt(), T0 + 300_000);
    assert.deepEqual(await claim(store, T0 + 299_999), []);
    const [again] = await claim(store, T0 + 300_000);
    assert.deepEqual(again!.recipients.map((r) => [r.id, r.attempts]), [[b, 1]]);
    assert.equal(await hasBody(store, id), true, 'body kept while a recipient is not final');
    await store.recordResults(id, outcomes([b], 'delivered'), [], { delayNotified: true });
    m = (await store.getMessage(id))!;
    assert.equal(m.recipients[1]!.attempts, 2);
    assert.equal(m.attempts.length, 5);
    assert.equal(await hasBody(store, id), false, 'body removed once every recipient is final');
  });

  it('delayNotified is remembered and reported in later jobs', async (store) => {
    const id = await enqueue(store, ['a@example.com']);
    const [job] = await claim(store, T0);
    await store.recordResults(id, [{ rcptId: job!.recipients[0]!.id, status: 'deferred', response: '451', nextAttemptAt: T0 + 1 }], [], { delayNotified: true });
    const [next] = await claim(store, T0 + 1);
    assert.equal(next!.delayNotified, true);
  });

  it('generated DSNs are stored with the results and become deliverable', async (store) => {
    const id = await enqueue(store, ['gone@example.com'], { mailFrom: 'author@origin.example' });
    const [job] = await claim(store, T0);
    const dsnId = newQueueId();
    const size = await writeBody(store, dsnId, 'Subject: Undelivered\r\n\r\nsorry\r\n');
    const dsn = message(dsnId, ['author@origin.example'], { mailFrom: '', isBounce: true, size, receivedAt: T0 + 1, origin: { listener: 'local', clientIp: '127.0.0.1', user: null } });
    await store.recordResults(id, outcomes([job!.recipients[0]!.id], 'bounced', '550 gone'), [{ message: dsn }]);
    assert.equal((await store.getMessage(id))!.recipients[0]!.state, 'bounced');
    const stored = (await store.getMessage(dsnId))!;
    assert.equal(stored.isBounce, true);
    assert.equal(stored.mailFrom, '');
    const [dsnJob] = await claim(store, T0 + 1);
    assert.deepEqual([dsnJob!.messageId, dsnJob!.domain, dsnJob!.isBounce], [dsnId, 'origin.example', true]);
    assert.equal((await readAll(store.readBody(dsnId))).toString(), 'Subject: Undelivered\r\n\r\nsorry\r\n');
  });

  it('late recordResults after deleteMessage is a no-op and stores no DSN', async (store) => {
    const id = await enqueue(store, ['a@example.com']);
    const [job] = await claim(store, T0);
    assert.equal(await store.deleteMessage(id), true);
    const dsnId = newQueueId();
    await writeBody(store, dsnId, 'dsn');
    await store.recordResults(id, outcomes([job!.recipients[0]!.id], 'bounced'), [{ message: message(dsnId, ['x@example.org'], { isBounce: true }) }]);
    assert.equal(await store.getMessage(id), null);
    assert.equal(await store.getMessage(dsnId), null);
    assert.deepEqual(await store.counts(), { queued: 0, deferred: 0, delivering: 0, held: 0, delivered: 0, bounced: 0, expired: 0, suppressed: 0 });
  });

  it('finished messages are kept for inspection until purgeFinished', async (store) => {
    const done = await enqueue(store, ['a@example.com']);
    const open = await enqueue(store, ['b@example.org']);
    const jobs = await claim(store, T0);
    const doneJob = jobs.find((j) => j.messageId === done)!;
    await store.recordResults(done, outcomes([doneJob.recipients[0]!.id], 'delivered'));
    assert.deepEqual((await store.listRecipients()).map((r) => r.messageId), [open]);
    assert.deepEqual((await store.listRecipients({ includeFinal: true })).map((r) => r.messageId).sort(), [done, open].sort());
    assert.deepEqual((await store.listRecipients({ state: 'delivered' })).map((r) => r.messageId), [done]);
    assert.equal(await store.purgeFinished(0), 0);
    assert.ok(await store.getMessage(done));
    assert.equal(await store.purgeFinished(Number.MAX_SAFE_INTEGER), 1);
    assert.equal(await store.getMessage(done), null);
    assert.ok(await store.getMessage(open), 'unfinished messages are never purged');
    assert.equal((await store.counts()).delivered, 0);
  });

  it('listRecipients by state: the oldest first, from a backlog of many as from a few', async (store) => {
    const ids: string[] = [];
    for (let i = 0; i < 1100; i += 100) {
      ids.push(...await Promise.all(Array.from({ length: 100 }, (_, k) => enqueue(store, [`r${i + k}@d${(i + k) % 7}.example`], { receivedAt: T0 + i + k }))));
    }
    const held = await enqueue(store, ['held@x.example'], { receivedAt: T0 + 5000 });
    await store.hold(held);
    const first = await store.listRecipients({ state: 'queued', limit: 50 });
    assert.deepEqual(first.map((r) => r.messageId), ids.slice(0, 50), 'more than 20 × limit queued: the 50 received first');
    assert.deepEqual((await store.listRecipients({ state: 'held', limit: 50 })).map((r) => r.messageId), [held]);
    assert.equal((await store.listRecipients({ state: 'queued', limit: 2000 })).length, 1100);
    assert.deepEqual(await store.listRecipients({ state: 'deferred', limit: 50 }), []);
  });

  it('hold, release, retry and deleteMessage', async (store) => {
    const id = await enqueue(store, ['a@example.com', 'b@example.org']);
    const other = await enqueue(store, ['c@example.net']);
    const [job] = await claim(store, T0, { limit: 1 }); // one recipient of `id` or `other` is now delivering
    const leased = job!.recipients.length;
    const heldCount = await store.hold(id);
    assert.equal(heldCount, job!.messageId === id ? 2 - leased : 2, 'delivering recipients are not held');
    assert.equal(await store.hold(newQueueId()), 0);
    assert.deepEqual(await claim(store, T0, { limit: 100 }).then((js) => js.filter((j) => j.messageId === id)), []);
    assert.equal((await store.listRecipients({ state: 'held' })).length, heldCount);
    assert.equal(await store.release(id, T0 + 7), heldCount);
    assert.equal((await store.counts()).held, 0);
    await store.releaseLeases(null);
    assert.equal(await store.retry(other, T0 - 50), 1);
    assert.equal(await store.nextDueAt(), T0 - 50);
    assert.equal(await store.retry(null, T0 - 60), 3);
    assert.deepEqual((await store.listRecipients()).map((r) => r.nextAttemptAt), [T0 - 60, T0 - 60, T0 - 60]);
    assert.equal(await store.deleteMessage(id), true);
    assert.equal(await store.deleteMessage(id), false);
    assert.equal(await store.getMessage(id), null);
    assert.equal(await hasBody(store, id), false);
    assert.deepEqual((await store.listRecipients()).map((r) => r.messageId), [other]);
  });

  it('counts covers every state', async (store) => {
    const id = await enqueue(store, ['a@d1.example', 'b@d2.example', 'c@d3.example', 'd@d4.example', 'e@d5.example', 'g@d0.example', 'f@d6.example']);
    await enqueue(store, ['held@d7.example']).then((h) => store.hold(h));
    const jobs = await claim(store, T0, { limit: 6 });
    const rcpt = (domain: string) => jobs.find((j) => j.domain === domain)!.recipients[0]!.id;
    await store.recordResults(id, [
      ...outcomes([rcpt('d1.example')], 'delivered'), ...outcomes([rcpt('d2.example')], 'bounced'), ...outcomes([rcpt('d3.example')], 'expired'),
      { rcptId: rcpt('d4.example'), status: 'deferred', response: '451', nextAttemptAt: T0 + 1 },
      { rcptId: rcpt('d0.example'), status: 'suppressed', response: '550 5.7.1 not sent', suppression: { reason: 'manual', scope: 'all', createdAt: T0, source: 'cli' } },
    ]);
    assert.deepEqual(await store.counts(), { queued: 1, deferred: 1, delivering: 1, held: 1, delivered: 1, bounced: 1, expired: 1, suppressed: 1 });
  });

  it('users: add, get, list, remove; duplicates are refused with ERR_USER_EXISTS', async (store) => {
    await store.addUser({ name: 'bob', passwordHash: 'scrypt$1', createdAt: T0 });
    await store.addUser({ name: 'alice', passwordHash: 'scrypt$2', createdAt: T0 + 1 });
    await assert.rejects(store.addUser({ name: 'bob', passwordHash: 'other', createdAt: T0 }),
      (err: unknown) => err instanceof RelayError && err.code === 'ERR_USER_EXISTS');
    assert.deepEqual(await store.getUser('bob'), { name: 'bob', passwordHash: 'scrypt$1', createdAt: T0, allowedDomains: [], anyDomain: false,
      account: 'default', limits: {}, defaultStream: 'transactional' });
    assert.equal(await store.getUser('carol'), null);
    assert.deepEqual((await store.listUsers()).map((u) => u.name), ['alice', 'bob']);
    assert.equal(await store.removeUser('bob'), true);
    assert.equal(await store.removeUser('bob'), false);
    assert.deepEqual((await store.listUsers()).map((u) => u.name), ['alice']);
  });

  it('concurrent puts are all stored, and a failing one does not fail the others', async (store) => {
    const ids = Array.from({ length: 40 }, () => newQueueId());
    await Promise.all(ids.map((id) => writeBody(store, id, `body ${id}`)));
    const dup = ids[0]!;
    await store.put(message(dup, ['first@example.com']));
    const results = await Promise.allSettled([
      ...ids.slice(1).map((id, i) => store.put(message(id, [`r${i}@example.com`, `s${i}@example.org`]))),
      store.put(message(dup, ['again@example.com'])),
    ]);
    assert.deepEqual(results.slice(0, -1).map((r) => r.status), ids.slice(1).map(() => 'fulfilled'));
    assert.equal(results.at(-1)!.status, 'rejected');
    assert.equal((await store.counts()).queued, 1 + 2 * 39);
    for (const id of ids) assert.equal((await readAll(store.readBody(id))).toString(), `body ${id}`);
  });

  it('putMany commits every message (inline and large bodies) with its own accepted events', async (store) => {
    const meta = { account: 'default', tags: ['spring'], metadata: { campaign: '7' }, stream: 'broadcast' as const };
    const ids = [newQueueId(), newQueueId(), newQueueId()];
    const bodies = ids.map((id, i) => (i === 1 ? Buffer.alloc(300 * 1024, 'x') : Buffer.from(`Subject: copy ${i}\r\n\r\nfor ${id}\r\n`)));
    const sizes = await Promise.all(ids.map((id, i) => writeBody(store, id, bodies[i]!)));
    await store.putMany(ids.map((id, i) => message(id, [`r${i}@example.com`], { size: sizes[i]!, meta, headerPrefix: `DKIM-Signature: v=1; b=${i}\r\n` })));
    for (const [i, id] of ids.entries()) {
      assert.deepEqual(await readAll(store.readBody(id)), Buffer.concat([Buffer.from(`DKIM-Signature: v=1; b=${i}\r\n`), bodies[i]!]));
      assert.deepEqual((await store.getMessage(id))?.recipients.map((r) => [r.address, r.state]), [[`r${i}@example.com`, 'queued']]);
    }
    const events = await store.listEvents({ account: 'default' });
    assert.deepEqual(events.map((e) => [e.type, e.messageId, e.recipient, e.data]),
      ids.map((id, i) => ['accepted', id, `r${i}@example.com`, { tags: ['spring'], metadata: { campaign: '7' }, stream: 'broadcast' }]));
    assert.equal((await claim(store)).length, 3);
  });

  it('putMany is all or nothing: one id already queued rejects it and stores none of the others', async (store) => {
    const taken = await enqueue(store, ['first@example.com']);
    const ids = [newQueueId(), taken, newQueueId()];
    for (const id of [ids[0]!, ids[2]!]) await writeBody(store, id, Buffer.alloc(id === ids[2] ? 300 * 1024 : 100, 'y'));
    await writeBody(store, taken, 'again');
    await assert.rejects(store.putMany(ids.map((id, i) => message(id, [`r${i}@example.com`]))), QueueWriteError);
    assert.equal(await store.getMessage(ids[0]!), null);
    assert.equal(await store.getMessage(ids[2]!), null);
    assert.deepEqual((await store.getMessage(taken))?.recipients.map((r) => r.address), ['first@example.com']);
    assert.equal((await store.counts()).queued, 1);
    assert.equal((await claim(store)).length, 1);
  });

  it('putMany with a recipient suppressed at acceptance: that copy ends suppressed, the others are due', async (store) => {
    const ids = [newQueueId(), newQueueId()];
    for (const id of ids) await writeBody(store, id, 'Subject: s\r\n\r\nhi\r\n');
    const suppression = { reason: 'hard-bounce' as const, scope: 'all' as const, createdAt: T0 - 1000, source: 'bounced' as const };
    await store.putMany([
      message(ids[0]!, ['ok@example.com']),
      message(ids[1]!, ['gone@example.com'], { suppressed: [{ address: 'gone@example.com', suppression }] }),
    ]);
    assert.deepEqual((await store.getMessage(ids[1]!))?.recipients.map((r) => r.state), ['suppressed']);
    assert.deepEqual((await claim(store)).map((j) => j.messageId), [ids[0]]);
  });
}
