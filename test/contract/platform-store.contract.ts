// The PlatformStore contract (issue 4): accounts, users and domains by account, API keys, quota
// counters, idempotency keys; the event and webhook half is in platform-events.contract.ts. Run
// against every implementation exactly like queueStoreContract; only the interface is used.
// `openPeer` opens a second store on the same database (another "node"), for atomicity tests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RelayError } from '../../src/errors.js';
import type { ApiKeyRecord, QuotaWindow } from '../../src/store/platform-store.js';
import type { QueueStore } from '../../src/store/store.js';
import { platformEventsContract } from './platform-events.contract.js';
import { suppressionContract } from './suppression.contract.js';
import { dashboardContract } from './dashboard.contract.js';

export interface PlatformFixture {
  store: QueueStore;
  cleanup: () => Promise<void>;
  /** Another store on the same database (a second node), closed by cleanup. */
  openPeer: () => Promise<QueueStore>;
}
export type MakePlatformStore = () => Promise<PlatformFixture>;
export type PlatformIt = (title: string, body: (store: QueueStore, fx: PlatformFixture) => Promise<void>) => void;

const T0 = 1_700_000_000_000;
const code = (c: string) => (err: unknown) => err instanceof RelayError && err.code === c;

const apiKey = (id: string, account: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id, account, name: `key ${id}`, secretHash: 'ab'.repeat(32), scopes: ['send', 'read'], limits: {}, createdAt: T0, lastUsedAt: null,
  revokedAt: null, ...over,
});

const win = (key: string, limit: number, window = 'second', windowStart = T0): QuotaWindow =>
  ({ key, window, windowStart, windowEnd: windowStart + 1000, limit });

export function platformStoreContract(name: string, makeStore: MakePlatformStore): void {
  const it: PlatformIt = (title, body) =>
    test(`${name}: platform: ${title}`, async () => {
      const fx = await makeStore();
      try { await body(fx.store, fx); } finally { await fx.cleanup(); }
    });

  it('accounts: the default account exists; add, get, list, limits, remove; duplicates and default refused', async (store) => {
    assert.equal((await store.getAccount('default'))?.name, 'default');
    assert.deepEqual((await store.getAccount('default'))?.limits, {});
    await store.addAccount({ name: 'acme', createdAt: T0, limits: { perDay: 100 } });
    await store.addAccount({ name: 'beta', createdAt: T0 + 1, limits: {} });
    await assert.rejects(store.addAccount({ name: 'acme', createdAt: T0, limits: {} }), code('ERR_ACCOUNT_EXISTS'));
    assert.deepEqual(await store.getAccount('acme'), { name: 'acme', createdAt: T0, limits: { perDay: 100 }, trackingDomain: null });
    assert.equal(await store.getAccount('nope'), null);
    assert.deepEqual((await store.listAccounts()).map((a) => a.name), ['acme', 'beta', 'default']);
    assert.equal(await store.setAccountLimits('acme', { perSecond: 5, perMonth: 1000 }), true);
    assert.deepEqual((await store.getAccount('acme'))?.limits, { perSecond: 5, perMonth: 1000 });
    assert.equal(await store.setAccountLimits('nope', {}), false);
    assert.equal(await store.setAccountTrackingDomain('acme', 'track.acme.test'), true);
    assert.equal((await store.getAccount('acme'))?.trackingDomain, 'track.acme.test');
    assert.equal((await store.listAccounts()).find((a) => a.name === 'acme')?.trackingDomain, 'track.acme.test');
    assert.equal(await store.setAccountTrackingDomain('acme', null), true);
    assert.equal((await store.getAccount('acme'))?.trackingDomain, null);
    assert.equal(await store.setAccountTrackingDomain('nope', 'track.nope.test'), false);
    await assert.rejects(store.removeAccount('default'), code('ERR_ACCOUNT_DEFAULT'));
    assert.equal(await store.removeAccount('beta'), true);
    assert.equal(await store.removeAccount('beta'), false);
    assert.deepEqual((await store.listAccounts()).map((a) => a.name), ['acme', 'default']);
  });

  it('accounts: users and domains belong to an account (default when not given); listed per account', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await store.addUser({ name: 'app', passwordHash: 'h', createdAt: T0, account: 'acme', limits: { perHour: 10 } });
    await store.addUser({ name: 'plain', passwordHash: 'h', createdAt: T0 });
    await assert.rejects(store.addUser({ name: 'ghost', passwordHash: 'h', createdAt: T0, account: 'nope' }), code('ERR_NOT_FOUND'));
    assert.equal(await store.getUser('ghost'), null);
    const app = await store.getUser('app');
    assert.equal(app?.account, 'acme');
    assert.deepEqual(app?.limits, { perHour: 10 });
    assert.equal((await store.getUser('plain'))?.account, 'default');
    assert.deepEqual((await store.listUsers('acme')).map((u) => u.name), ['app']);
    assert.deepEqual((await store.listUsers('default')).map((u) => u.name), ['plain']);
    assert.deepEqual((await store.listUsers()).map((u) => u.name), ['app', 'plain']);
    assert.equal(await store.setUserLimits('plain', { perSecond: 1 }), true);
    assert.deepEqual((await store.getUser('plain'))?.limits, { perSecond: 1 });
    assert.equal(await store.setUserLimits('nobody', {}), false);
    assert.equal(await store.setUserDefaultStream('plain', 'broadcast'), true);
    assert.equal((await store.getUser('plain'))?.defaultStream, 'broadcast');
    assert.equal((await store.listUsers('default'))[0]?.defaultStream, 'broadcast');
    assert.equal(await store.setUserDefaultStream('nobody', 'broadcast'), false);
    await store.addUser({ name: 'news', passwordHash: 'h', createdAt: T0, account: 'acme', defaultStream: 'broadcast' });
    assert.equal((await store.getUser('news'))?.defaultStream, 'broadcast');
    await store.removeUser('news');

    await store.addDomain({ name: 'acme.example', createdAt: T0, account: 'acme', keys: [] });
    await store.addDomain({ name: 'main.example', createdAt: T0, keys: [] });
    await store.addDomain({ name: 'b.acme.example', createdAt: T0, account: 'acme',
      keys: [{ selector: 's1', algorithm: 'ed25519', privateKey: 'pk', publicKey: 'pub', createdAt: T0, state: 'active' }] });
    await store.addDkimKey('main.example', { selector: 'm1', algorithm: 'ed25519', privateKey: 'pk', publicKey: 'pub', createdAt: T0, state: 'active' });
    // listDomainNames: an account's names only, ordered (the HTTP API's sender check); listDomains(account): only its keys
    assert.deepEqual(await store.listDomainNames('acme'), ['acme.example', 'b.acme.example']);
    assert.deepEqual(await store.listDomainNames('default'), ['main.example']);
    assert.deepEqual(await store.listDomainNames('nope'), []);
    assert.deepEqual((await store.listDomains('acme')).map((d) => [d.name, d.keys.map((k) => k.selector)]), [['acme.example', []], ['b.acme.example', ['s1']]]);
    assert.deepEqual((await store.listDomains()).map((d) => [d.name, d.keys.map((k) => k.selector)]),
      [['acme.example', []], ['b.acme.example', ['s1']], ['main.example', ['m1']]]);
    assert.equal(await store.removeDomain('b.acme.example'), true);
    await assert.rejects(store.addDomain({ name: 'x.example', createdAt: T0, account: 'nope', keys: [] }), code('ERR_NOT_FOUND'));
    assert.equal((await store.getDomain('acme.example'))?.account, 'acme');
    assert.deepEqual((await store.listDomains('acme')).map((d) => [d.name, d.account]), [['acme.example', 'acme']]);
    assert.deepEqual((await store.listDomains('default')).map((d) => d.name), ['main.example']);
    assert.deepEqual((await store.listDomains()).map((d) => d.name), ['acme.example', 'main.example']);

    // removing the account removes what it owns, nothing else
    await store.addApiKey(apiKey('k1', 'acme'));
    await store.addWebhook({ id: 'w1', account: 'acme', url: 'http://127.0.0.1:1/h', events: [], secret: 's', enabled: true, createdAt: T0, disabledAt: null, disabledReason: null });
    await store.appendEvents([{ at: T0, account: 'acme', type: 'opened', messageId: null, recipient: null, data: {} }]);
    assert.equal(await store.removeAccount('acme'), true);
    assert.equal(await store.getUser('app'), null);
    assert.equal(await store.getDomain('acme.example'), null);
    assert.equal(await store.getApiKey('k1'), null);
    assert.deepEqual(await store.listWebhooks('acme'), []);
    assert.deepEqual(await store.listEvents({ account: 'acme' }), []);
    assert.equal((await store.getUser('plain'))?.account, 'default');
    assert.deepEqual((await store.listDomains()).map((d) => d.name), ['main.example']);
  });

  it('api keys: add, get by id, list per account, revoke and touch within the account only', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
    await store.addAccount({ name: 'beta', createdAt: T0, limits: {} });
    const k1 = apiKey('a1', 'acme', { scopes: ['admin'], limits: { perSecond: 3 } });
    await store.addApiKey(k1);
    await store.addApiKey(apiKey('a2', 'acme', { createdAt: T0 + 1, name: null }));
    await store.addApiKey(apiKey('b1', 'beta'));
    await assert.rejects(store.addApiKey(apiKey('x1', 'nope')), code('ERR_NOT_FOUND'));
    assert.deepEqual(await store.getApiKey('a1'), k1);
    assert.equal(await store.getApiKey('zz'), null);
    assert.deepEqual((await store.listApiKeys('acme')).map((k) => k.id), ['a1', 'a2']);
    assert.deepEqual((await store.listApiKeys('beta')).map((k) => k.id), ['b1']);
    assert.equal(await store.revokeApiKey('beta', 'a1', T0 + 5), false, 'another account cannot revoke it');
    assert.equal((await store.getApiKey('a1'))?.revokedAt, null);
    assert.equal(await store.revokeApiKey('acme', 'a1', T0 + 5), true);
    assert.equal((await store.getApiKey('a1'))?.revokedAt, T0 + 5);
    await store.touchApiKey('a2', T0 + 60_000);
    assert.equal((await store.getApiKey('a2'))?.lastUsedAt, T0 + 60_000);
    await store.touchApiKey('a2', T0 + 1000); // a late, older touch never moves it back
    assert.equal((await store.getApiKey('a2'))?.lastUsedAt, T0 + 60_000);
  });

  it('quota: consumeQuota adds to every window or to none; reports the first window exceeded', async (store) => {
    const acct = win('account:acme', 5);
    const user = win('user:app', 3, 'hour');
    assert.deepEqual(await store.consumeQuota([acct, user], 2), { ok: true });
    assert.deepEqual(await store.quotaUsage([acct, user, win('key:none', 1)]), [2, 2, 0]);
    assert.deepEqual(await store.consumeQuota([acct, user], 2), { ok: false, exceeded: user, used: 2 });
    assert.deepEqual(await store.quotaUsage([acct, user]), [2, 2], 'a refused charge changes no window');
    assert.deepEqual(await store.consumeQuota([acct, user], 1), { ok: true });
    assert.deepEqual(await store.consumeQuota([acct], 2), { ok: true });
    assert.deepEqual(await store.consumeQuota([acct], 1), { ok: false, exceeded: acct, used: 5 });
    const next = win('account:acme', 5, 'second', T0 + 1000);
    assert.deepEqual(await store.consumeQuota([next], 5), { ok: true }, 'a new window starts from zero');
    assert.deepEqual(await store.consumeQuota([win('account:zero', 0)], 1), { ok: false, exceeded: win('account:zero', 0), used: 0 });
    // windows that ended are purged with old events
    await store.purgeEvents(T0 + 1500);
    assert.deepEqual(await store.quotaUsage([acct, next]), [0, 5]);
  });

  it('quota: 50 concurrent charges against a limit of 20, from two nodes, admit exactly 20', async (store, fx) => {
    const peer = await fx.openPeer();
    const windows = [win('account:acme', 20, 'day'), win('key:k1', 1000, 'second')];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? peer : store).consumeQuota(windows, 1)));
    assert.equal(results.filter((r) => r.ok).length, 20);
    assert.deepEqual(await store.quotaUsage(windows), [20, 20]);
    for (const r of results.filter((x) => !x.ok)) assert.deepEqual(r, { ok: false, exceeded: windows[0], used: 20 });
  });

  it('idempotency: reserve, replay the completed response, refuse a different request, release', async (store) => {
    assert.equal(await store.reserveIdempotencyKey('acme', 'k', 'h1', T0), null, 'newly reserved');
    const pending = await store.reserveIdempotencyKey('acme', 'k', 'h1', T0 + 1);
    assert.deepEqual(pending, { account: 'acme', key: 'k', requestHash: 'h1', response: null, createdAt: T0 }, 'in progress');
    assert.equal(await store.reserveIdempotencyKey('beta', 'k', 'h1', T0), null, 'keys are per account');
    await store.completeIdempotencyKey('acme', 'k', { status: 202, body: { id: 'm1', recipients: ['r1'] } });
    assert.deepEqual(await store.reserveIdempotencyKey('acme', 'k', 'h1', T0 + 2),
      { account: 'acme', key: 'k', requestHash: 'h1', response: { status: 202, body: { id: 'm1', recipients: ['r1'] } }, createdAt: T0 });
    assert.equal((await store.reserveIdempotencyKey('acme', 'k', 'other', T0 + 3))?.requestHash, 'h1', 'a different request sees the first hash');
    await store.releaseIdempotencyKey('beta', 'k');
    assert.equal(await store.reserveIdempotencyKey('beta', 'k', 'h2', T0 + 4), null, 'released: reserved anew');
    await store.releaseIdempotencyKey('acme', 'k');
    assert.notEqual(await store.reserveIdempotencyKey('acme', 'k', 'h1', T0 + 5), null, 'a completed key is not released');
    assert.equal(await store.purgeIdempotencyKeys(T0 + 1), 1);
    assert.equal(await store.reserveIdempotencyKey('acme', 'k', 'h3', T0 + 6), null, 'purged');
    const racers = await Promise.all(Array.from({ length: 10 }, () => store.reserveIdempotencyKey('acme', 'race', 'h', T0)));
    assert.equal(racers.filter((r) => r === null).length, 1, 'exactly one concurrent request wins the key');
  });

  platformEventsContract(it);
  suppressionContract(it);
  dashboardContract(it);
}
