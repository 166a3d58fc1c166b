// The dashboard users' and sessions' contract (issue 12, store/dashboard-store.ts), run against
// every QueueStore by platform-store.contract.ts: a user name is taken once; only live sessions
// (before their expiry and their idle deadline) are found, with their user; touching moves the idle
// deadline but never past the expiry; a new password, removing the user or its account ends its
// sessions; two nodes see the same sessions.
import assert from 'node:assert/strict';
import type { DashboardSession, DashboardUser } from '../../src/store/dashboard-store.js';
import type { PlatformIt } from './platform-store.contract.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const admin: DashboardUser = { username: 'root', passwordHash: 'scrypt$1$1$1$c2FsdA==$aGFzaA==', role: 'admin', account: null, createdAt: T0, updatedAt: T0 };
const seller = (account: string): DashboardUser => ({ ...admin, username: `ops@${account}`, role: 'account', account });
const session = (tokenHash: string, username: string, idleUntil = T0 + HOUR, expiresAt = T0 + 12 * HOUR): DashboardSession =>
  ({ tokenHash, username, createdAt: T0, expiresAt, idleUntil });

export function dashboardContract(it: PlatformIt): void {
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
