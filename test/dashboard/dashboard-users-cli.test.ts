// `postlane dashboard-users` against a real relay process: users added by the CLI (password on
// stdin) log in over HTTP; bad names, missing or unknown accounts, short passwords and
// duplicates are usage errors; list shows role and account but never a hash; passwd and remove
// end the user's live sessions at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RelayProcess } from '../helpers/relay-process.js';
import { call } from '../helpers/api-fixture.js';
import { cliFixture } from '../helpers/cli-fixture.js';

describe('postlane dashboard-users (CLI) with a running relay', () => {
  let relay: RelayProcess;
  const { ok, okWithInput } = cliFixture(() => relay);
  const base = () => `http://127.0.0.1:${relay.port('http')}`;
  const login = (username: string, password: string) => call(base(), 'POST', '/v1/dashboard/login', { body: { username, password } });
  const cookieOf = (r: { headers: Headers }) => /^(postlane_session=[^;]+)/.exec(r.headers.get('set-cookie') ?? '')![1]!;

  before(async () => {
    relay = await RelayProcess.create({});
    await relay.start();
    await ok('accounts', 'add', 'acme');
  });
  after(async () => { await relay.cleanup(); });

  it('add (admin or account user), refusals, list', async () => {
    assert.match((await okWithInput('correct horse battery\n', 'dashboard-users', 'add', 'root', '--admin', '--password-stdin')).stdout, /^dashboard user root added: admin \(every account\)\n$/);
    assert.match((await okWithInput('staple-staple-1\n', 'dashboard-users', 'add', 'ops@acme', '--account', 'acme', '--password-stdin')).stdout, /account acme/);
    assert.equal((await relay.cli(['dashboard-users', 'add', 'root', '--admin', '--password-stdin'], 'another-password\n')).code, 2, 'exists');
    assert.equal((await relay.cli(['dashboard-users', 'add', 'x', '--password-stdin'], 'long-enough-pw\n')).code, 2, 'neither --admin nor --account');
    assert.equal((await relay.cli(['dashboard-users', 'add', 'x', '--admin', '--account', 'acme', '--password-stdin'], 'long-enough-pw\n')).code, 2, 'both');
    assert.equal((await relay.cli(['dashboard-users', 'add', 'x', '--account', 'ghost', '--password-stdin'], 'long-enough-pw\n')).code, 3, 'unknown account');
    assert.equal((await relay.cli(['dashboard-users', 'add', 'bad name', '--admin', '--password-stdin'], 'long-enough-pw\n')).code, 2);
    const short = await relay.cli(['dashboard-users', 'add', 'y', '--admin', '--password-stdin'], 'short\n');
    assert.equal(short.code, 2);
    assert.match(short.stderr, /too short/);
    const list = JSON.parse((await ok('dashboard-users', 'list', '--json')).stdout) as Record<string, unknown>[];
    assert.deepEqual(list.map((u) => [u.username, u.role, u.account]), [['ops@acme', 'account', 'acme'], ['root', 'admin', null]]);
    assert.ok(!JSON.stringify(list).includes('scrypt'), 'no password hash is shown');
    assert.match((await ok('dashboard-users', 'list')).stdout, /^root\tadmin \(every account\)\tadded /m);
  });

  it('a CLI user logs in to the running relay; passwd and remove end its sessions', async () => {
    const first = await login('ops@acme', 'staple-staple-1');
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.user, { username: 'ops@acme', role: 'account', account: 'acme' });
    const cookie = cookieOf(first);
    assert.equal((await call(base(), 'GET', '/v1/messages', { headers: { cookie } })).status, 200);
    await okWithInput('staple-staple-2\n', 'dashboard-users', 'passwd', 'ops@acme', '--password-stdin');
    assert.equal((await call(base(), 'GET', '/v1/messages', { headers: { cookie } })).status, 401, 'the old session ended');
    assert.equal((await login('ops@acme', 'staple-staple-1')).status, 401, 'the old password is refused');
    const second = await login('ops@acme', 'staple-staple-2');
    assert.equal(second.status, 200);
    assert.match((await ok('dashboard-users', 'remove', 'ops@acme')).stdout, /removed/);
    assert.equal((await call(base(), 'GET', '/v1/dashboard/session', { headers: { cookie: cookieOf(second) } })).status, 401);
    assert.equal((await relay.cli(['dashboard-users', 'remove', 'ops@acme'])).code, 3);
    assert.equal((await relay.cli(['dashboard-users', 'passwd', 'ghost', '--password-stdin'], 'whatever-long\n')).code, 3);
  });
});
