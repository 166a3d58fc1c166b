// The dashboard users' and sessions' contract (issue 12, store/dashboard-store.ts), run against
// every QueueStore by platform-store.contract.ts: a user name is taken once; only live sessions
// (before their expiry and their idle deadline) are found, with their user; touching moves the idle
// deadline but never past the expiry; a new password, removing the user or its account ends its
// sessions; two nodes see the same sessions. The queue overview counts waiting recipients by state
// and by domain, per account or for all, and forgets finished ones. A webhook replay puts
// delivered events back in the webhook's outbox, due now, never another account's.
import assert from 'node:assert/strict';
import { newQueueId } from '../../src/message/ids.js';
import type { DashboardSession, DashboardUser } from '../../src/store/dashboard-store.js';
import type { QueueStore } from '../../src/store/store.js';
import type { PlatformIt } from './platform-store.contract.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const admin: DashboardUser = { username: 'root', passwordHash: 'scrypt$1$1$1$c2FsdA==$aGFzaA==', role: 'admin', account: null, createdAt: T0, updatedAt: T0 };
const seller = (account: string): DashboardUser => ({ ...admin, username: `ops@${account}`, role: 'account', account });
const session = (tokenHash: string, username: string, idleUntil = T0 + HOUR, expiresAt = T0 + 12 * HOUR): DashboardSession =>
  ({ tokenHash, username, createdAt: T0, expiresAt, idleUntil });

async function enqueue(store: QueueStore, account: string, recipients: string[], receivedAt: number): Promise<string> {
  const id = newQueueId();
  const w = store.createBody(id);
  await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
  await w.finish();
  await store.put({
    id, mailFrom: `app@${account}.example`, recipients, size: w.bytesWritten, receivedAt, isBounce: false, route: 'relay',
    origin: { listener: 'submission', clientIp: '127.0.0.1', user: null }, meta: { account, stream: 'transactional', tags: [], metadata: {} },
  });
  return id;
}

export function dashboardContract(it: PlatformIt): void {
  it('webhook replay: delivered events are due again, a waiting one is due now; other accounts\' events are skipped', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await store.addAccount({ name: 'beta', createdAt: T0, limits: {} });
    await store.addWebhook({ id: 'wh_a', account: 'acme', url: 'https://a.test/h', events: [], secret: 's', enabled: true, createdAt: T0, disabledAt: null, disabledReason: null });
    const mine = await store.appendEvents([0, 1, 2].map((i) => ({ at: T0 + i, account: 'acme', type: 'delivered' as const, messageId: null, recipient: `r${i}@x.test`, data: {} })));
    const theirs = await store.appendEvents([{ at: T0, account: 'beta', type: 'delivered' as const, messageId: null, recipient: 'z@x.test', data: {} }]);
    const claim = (now: number) => store.claimWebhookBatches({ now, limit: 10, batchSize: 10, leaseMs: 60_000, owner: 'd1' });
    const [first] = await claim(T0 + 10);
    assert.deepEqual(first!.events.map((e) => e.seq), mine.map((e) => e.seq));
    await store.recordWebhookAttempt({ webhookId: 'wh_a', at: T0 + 11, eventIds: first!.events.map((e) => e.id), ok: true, status: 200, error: null, durationMs: 1 }, null);
    assert.deepEqual(await claim(T0 + 12), [], 'delivered: the outbox is empty');
    assert.equal(await store.replayWebhookEvents('acme', 'wh_a', [mine[0]!.seq, mine[2]!.seq, theirs[0]!.seq, 999_999], T0 + 20), 2);
    assert.equal(await store.replayWebhookEvents('beta', 'wh_a', [theirs[0]!.seq], T0 + 20), 0, 'not beta\'s webhook');
    assert.deepEqual(await claim(T0 + 19), [], 'due at the replay time');
    const [again] = await claim(T0 + 20);
    assert.deepEqual(again!.events.map((e) => e.seq), [mine[0]!.seq, mine[2]!.seq]);
    assert.equal(again!.attempts, 0);
    await store.recordWebhookAttempt({ webhookId: 'wh_a', at: T0 + 21, eventIds: again!.events.map((e) => e.id), ok: false, status: 500, error: null, durationMs: 1 }, T0 + 999_000);
    assert.equal(await store.replayWebhookEvents('acme', 'wh_a', [mine[0]!.seq], T0 + 30), 1, 'a waiting event is made due now');
    assert.deepEqual((await claim(T0 + 30))[0]?.events.map((e) => e.seq), [mine[0]!.seq]);
  });

  it('queue overview: waiting recipients by state and domain, per account or all; finished ones not counted', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await store.addAccount({ name: 'beta', createdAt: T0, limits: {} });
    const t = Date.now() - 60_000;
    const a1 = await enqueue(store, 'acme', ['a@gmail.test', 'b@gmail.test', 'c@yahoo.test'], t);
    await enqueue(store, 'acme', ['d@gmail.test'], t + 10);
    const b1 = await enqueue(store, 'beta', ['e@yahoo.test', 'f@gmail.test'], t + 20);
    assert.equal(await store.hold(b1), 2);
    const acme = await store.queueOverview('acme', 10);
    assert.deepEqual(acme.byState, [{ state: 'queued', recipients: 4, oldestReceivedAt: t }]);
    assert.deepEqual(acme.byDomain, [
      { domain: 'gmail.test', recipients: 3, deferred: 0, held: 0, oldestReceivedAt: t },
      { domain: 'yahoo.test', recipients: 1, deferred: 0, held: 0, oldestReceivedAt: t },
    ]);
    const all = await store.queueOverview(null, 1);
    assert.deepEqual(all.byState, [{ state: 'held', recipients: 2, oldestReceivedAt: t + 20 }, { state: 'queued', recipients: 4, oldestReceivedAt: t }]);
    assert.deepEqual(all.byDomain, [{ domain: 'gmail.test', recipients: 4, deferred: 0, held: 1, oldestReceivedAt: t }], 'the largest domain only');
    const jobs = await store.claimDue({ now: Date.now(), limit: 10, leaseMs: 60_000, owner: 'n1' });
    const job = jobs.find((j) => j.messageId === a1 && j.domain === 'gmail.test')!;
    await store.recordResults(a1, job.recipients.map((r) => ({ rcptId: r.id, status: 'delivered' as const, response: '250 ok' })), [], { owner: 'n1' });
    await store.releaseLeases('n1');
    const after = await store.queueOverview('acme', 10);
    assert.deepEqual(after.byDomain.map((d) => [d.domain, d.recipients]), [['gmail.test', 1], ['yahoo.test', 1]], 'delivered ones left the queue');
    assert.deepEqual(await store.queueOverview('nobody', 10), { byState: [], byDomain: [] });
  });

  it('dashboard users: added once, listed by name, removed; account users need their account', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    assert.equal(await store.addDashboardUser(admin), true);
    assert.equal(await store.addDashboardUser({ ...admin, passwordHash: 'other' }), false, 'the name is taken');
    assert.equal(await store.addDashboardUser(seller('acme')), true);
    await assert.rejects(store.addDashboardUser(seller('nosuch')), 'an account user of an unknown account is refused');
    assert.deepEqual(await store.getDashboardUser('root'), admin, 'the first one kept');
    assert.deepEqual((await store.listDashboardUsers()).map((u) => [u.username, u.role, u.account]), [['ops@acme', 'account', 'acme'], ['root', 'admin', null]]);
    assert.equal(await store.getDashboardUser('nobody'), null);
    assert.equal(await store.removeDashboardUser('root'), true);
    assert.equal(await store.removeDashboardUser('root'), false);
    assert.deepEqual((await store.listDashboardUsers()).map((u) => u.username), ['ops@acme']);
  });

  it('dashboard sessions: found only while live, touched up to the expiry, ended by logout', async (store) => {
    await store.addDashboardUser(admin);
    await store.createDashboardSession(session('h1', 'root'), T0);
    const found = await store.getDashboardSession('h1', T0 + 1);
    assert.deepEqual(found, { session: session('h1', 'root'), user: admin });
    assert.equal(await store.getDashboardSession('h2', T0 + 1), null, 'an unknown token');
    assert.equal(await store.getDashboardSession('h1', T0 + HOUR), null, 'idle for too long');
    await store.touchDashboardSession('h1', T0 + 2 * HOUR);
    assert.equal((await store.getDashboardSession('h1', T0 + HOUR))?.session.idleUntil, T0 + 2 * HOUR, 'a touch moves the idle deadline');
    await store.touchDashboardSession('h1', T0 + HOUR);
    assert.equal((await store.getDashboardSession('h1', T0 + HOUR))?.session.idleUntil, T0 + 2 * HOUR, 'never backwards');
    await store.touchDashboardSession('h1', T0 + 99 * HOUR);
    assert.equal((await store.getDashboardSession('h1', T0 + 11 * HOUR))?.session.idleUntil, T0 + 12 * HOUR, 'never past the expiry');
    assert.equal(await store.getDashboardSession('h1', T0 + 12 * HOUR), null, 'expired');
    await store.createDashboardSession(session('h3', 'root', T0 + 20 * HOUR, T0 + 20 * HOUR), T0 + 13 * HOUR);
    await store.touchDashboardSession('h1', T0 + 14 * HOUR);
    assert.equal(await store.getDashboardSession('h1', T0 + 1), null, 'the ended session was deleted by the next login');
    assert.equal(await store.deleteDashboardSession('h3'), true);
    assert.equal(await store.deleteDashboardSession('h3'), false);
    assert.equal(await store.getDashboardSession('h3', T0 + 13 * HOUR), null, 'logged out');
  });

  it('dashboard sessions: a new password, removing the user or its account ends them; another node sees them', async (store, fx) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await store.addDashboardUser(admin);
    await store.addDashboardUser(seller('acme'));
    await store.createDashboardSession(session('a1', 'root'), T0);
    await store.createDashboardSession(session('a2', 'root'), T0);
    await store.createDashboardSession(session('s1', 'ops@acme'), T0);
    const peer = await fx.openPeer();
    assert.equal((await peer.getDashboardSession('s1', T0))?.user.account, 'acme', 'another node finds the session');
    assert.equal(await store.setDashboardPassword('root', 'new-hash', T0 + 5), true);
    assert.equal(await store.setDashboardPassword('nobody', 'new-hash', T0 + 5), false);
    assert.equal(await store.getDashboardSession('a1', T0 + 6), null);
    assert.equal(await peer.getDashboardSession('a2', T0 + 6), null);
    assert.deepEqual(await store.getDashboardUser('root'), { ...admin, passwordHash: 'new-hash', updatedAt: T0 + 5 });
    assert.notEqual(await store.getDashboardSession('s1', T0 + 6), null, 'another user\'s session stays');
    assert.equal(await store.removeAccount('acme'), true);
    assert.equal(await store.getDashboardSession('s1', T0 + 6), null, 'its account removed');
    assert.equal(await store.getDashboardUser('ops@acme'), null);
  });
}
