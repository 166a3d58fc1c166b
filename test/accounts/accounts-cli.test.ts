// `postlane accounts|keys|users|domains` with accounts, as child processes against a temp config:
// plans and their usage, API key tokens printed once (and only their hash stored), revocation,
// accounts refusing removal while they own things, users and domains bound to accounts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiKeyAuthenticator } from '../../src/accounts/api-keys.js';
import { QuotaService } from '../../src/accounts/quota.js';
import { systemClock } from '../../src/clock.js';
import { RelayProcess } from '../helpers/relay-process.js';
import { cliFixture } from '../helpers/cli-fixture.js';

describe('postlane accounts / keys (CLI)', () => {
  let relay: RelayProcess;
  /** The relay's own store is opened in this process for what the CLI cannot show. */
  const { cli, ok, withStore } = cliFixture(() => relay);

  before(async () => { relay = await RelayProcess.create({}); });
  after(async () => { await relay.cleanup(); });

  it('accounts add / limits / list with the usage of each limited window', async () => {
    assert.match((await ok('accounts', 'add', 'acme', '--per-second', '5', '--per-day', '1000')).stdout, /^account acme added \(limits: 5\/second 1000\/day\)\n$/);
    assert.equal((await cli('accounts', 'add', 'acme')).code, 2, 'exists');
    assert.equal((await cli('accounts', 'add', 'Acme')).code, 2, 'upper case refused');
    assert.equal((await cli('accounts', 'add', 'a/b')).code, 2);
    assert.equal((await cli('accounts', 'limits', 'acme', '--per-hour', '-1')).code, 2);
    assert.equal((await cli('accounts', 'limits', 'acme', '--per-hour', 'lots')).code, 2);
    assert.equal((await cli('accounts', 'limits', 'ghost', '--per-hour', '1')).code, 3);
    assert.match((await ok('accounts', 'limits', 'acme', '--per-month', '20000', '--per-second', 'none')).stdout, /^account acme limits: 1000\/day 20000\/month\n$/);

    await withStore(async (store) => {
      const quota = new QuotaService(store, systemClock);
      for (let i = 0; i < 3; i++) assert.ok((await quota.charge({ account: 'acme' })).ok);
    });
    const list = JSON.parse((await ok('accounts', 'list', '--json')).stdout) as { name: string; limits: object; usage: { window: string; limit: number; used: number; resetsAt: string }[] }[];
    assert.deepEqual(list.map((a) => a.name), ['acme', 'default']);
    assert.deepEqual(list[0]!.limits, { perDay: 1000, perMonth: 20000 });
    assert.deepEqual(list[0]!.usage.map((u) => [u.window, u.used, u.limit]), [['day', 3, 1000], ['month', 3, 20000]]);
    assert.ok(Date.parse(list[0]!.usage[0]!.resetsAt) > Date.now());
    assert.deepEqual(list[1]!.usage, [], 'default: unlimited, nothing counted');
    assert.match((await ok('accounts', 'list')).stdout, /^acme\t\S+\tlimits 1000\/day 20000\/month\tused 3\/1000 per day, 3\/20000 per month$/m);
  });

  it('keys create prints only the token on stdout; the store keeps its hash; list, revoke', async () => {
    const created = await ok('keys', 'create', '--account', 'acme', '--scope', 'send,read', '--name', 'ci', '--per-second', '10');
    assert.match(created.stdout, /^pl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/, 'nothing else on stdout');
    assert.match(created.stderr, /shown once/);
    const token = created.stdout.trim();
    const id = token.slice(3, 19);
    const json = JSON.parse((await ok('keys', 'create', '--account', 'acme', '--scope', 'admin', '--json')).stdout) as { id: string; token: string; scopes: string[] };
    assert.deepEqual(json.scopes, ['admin']);
    assert.ok(json.token.startsWith(`pl_${json.id}_`));

    assert.equal((await cli('keys', 'create', '--account', 'ghost', '--scope', 'send')).code, 3);
    assert.equal((await cli('keys', 'create', '--account', 'acme', '--scope', 'send,root')).code, 2);
    assert.equal((await cli('keys', 'create', '--account', 'acme')).code, 1, 'commander: --scope is required');

    const keys = JSON.parse((await ok('keys', 'list', '--account', 'acme', '--json')).stdout) as { id: string; name: string | null; scopes: string[]; limits: object; revokedAt: string | null }[];
    assert.deepEqual(keys.map((k) => [k.id, k.name, k.scopes, k.limits, k.revokedAt]),
      [[id, 'ci', ['send', 'read'], { perSecond: 10 }, null], [json.id, null, ['admin'], {}, null]]);
    const text = (await ok('keys', 'list', '--account', 'acme')).stdout;
    assert.ok(!text.includes(token.slice(20)) && !/[0-9a-f]{64}/.test(text), 'never the secret or its hash');
    assert.equal((await ok('keys', 'list', '--account', 'default', '--json')).stdout, '[]\n', 'another account sees none');

    await withStore(async (store) => {
      const record = await store.getApiKey(id);
      assert.ok(record && !JSON.stringify(record).includes(token.slice(20)), 'the secret is not stored');
      assert.equal((await new ApiKeyAuthenticator(store, systemClock).authenticate(token))?.account, 'acme');
    });
    assert.equal((await cli('keys', 'revoke', id, '--account', 'default')).code, 3, 'not in that account');
    assert.match((await ok('keys', 'revoke', id, '--account', 'acme')).stdout, new RegExp(`API key ${id} revoked`));
    assert.match((await ok('keys', 'list', '--account', 'acme')).stdout, new RegExp(`^${id}\tci\tsend,read\trevoked \\S+\t`, 'm'));
    await withStore(async (store) => {
      assert.equal(await new ApiKeyAuthenticator(store, systemClock).authenticate(token), null, 'revoked');
    });
  });

  it('users and domains belong to an account; a granted domain must be one of the account\'s', async () => {
    assert.equal((await cli('users', 'add', 'app', '--password', 'long enough', '--account', 'ghost')).code, 3);
    const notOwned = await cli('users', 'add', 'app', '--password', 'long enough', '--account', 'acme', '--domain', 'acme.test');
    assert.equal(notOwned.code, 2);
    assert.match(notOwned.stderr, /acme\.test is not a sending domain of account acme: add it first with "postlane domains add acme\.test --account acme"/);
    assert.equal((await cli('domains', 'add', 'acme.test', '--account', 'ghost', '--key', 'ed25519')).code, 3);
    await ok('domains', 'add', 'acme.test', '--account', 'acme', '--key', 'ed25519');
    assert.match((await ok('users', 'add', 'app', '--password', 'long enough', '--account', 'acme', '--domain', 'mail.acme.test', '--per-day', '50')).stdout,
      /^user app added \(may send as mail\.acme\.test\) in account acme \(limits: 50\/day\)\n$/);
    // default keeps the single-tenant behaviour (unregistered domains), but never another account's domain
    assert.match((await ok('users', 'add', 'legacy', '--password', 'long enough', '--domain', 'example.com')).stdout, /^user legacy added \(may send as example\.com\)\n$/);
    const stolen = await cli('users', 'add', 'thief', '--password', 'long enough', '--domain', 'acme.test');
    assert.equal(stolen.code, 2);
    assert.match(stolen.stderr, /acme\.test belongs to another account/);
    assert.equal((await cli('users', 'allow', 'legacy', 'sub.acme.test')).code, 2, 'allow applies the same rule');
    assert.equal((await cli('users', 'allow', 'app', 'example.com')).code, 2);

    assert.match((await ok('users', 'limits', 'app', '--per-second', '2', '--per-day', 'none')).stdout, /^user app limits: 2\/second\n$/);
    assert.equal((await cli('users', 'limits', 'ghost', '--per-day', '1')).code, 3);
    const users = JSON.parse((await ok('users', 'list', '--json')).stdout) as { name: string; account: string; limits: object }[];
    assert.deepEqual(users.map((u) => [u.name, u.account, u.limits]), [['app', 'acme', { perSecond: 2 }], ['legacy', 'default', {}]]);
    assert.match((await ok('users', 'list')).stdout, /^app\t\S+\tmail\.acme\.test\taccount acme\tlimits 2\/second$/m);
    assert.deepEqual(JSON.parse((await ok('users', 'list', '--account', 'acme', '--json')).stdout).map((u: { name: string }) => u.name), ['app']);
    assert.match((await ok('domains', 'list')).stdout, /^acme\.test\t\S+\t\S+\taccount acme$/m);
    assert.deepEqual(JSON.parse((await ok('domains', 'list', '--account', 'default', '--json')).stdout), []);
  });

  it('accounts remove: refused while the account owns things, --force removes them; default cannot be removed', async () => {
    const refused = await cli('accounts', 'remove', 'acme');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /account acme still owns 1 user, 1 domain, 1 key; remove them first, or use --force/);
    assert.equal((await cli('accounts', 'remove', 'default')).code, 2);
    assert.equal((await cli('accounts', 'remove', 'ghost')).code, 3);
    await ok('accounts', 'add', 'empty');
    assert.match((await ok('accounts', 'remove', 'empty')).stdout, /^account empty removed\n$/);
    await ok('accounts', 'remove', 'acme', '--force');
    assert.deepEqual(JSON.parse((await ok('users', 'list', '--json')).stdout).map((u: { name: string }) => u.name), ['legacy']);
    assert.deepEqual(JSON.parse((await ok('domains', 'list', '--json')).stdout), []);
    assert.deepEqual(JSON.parse((await ok('accounts', 'list', '--json')).stdout).map((a: { name: string }) => a.name), ['default']);
  });
});
