// Attacker's pass (the web dashboard, thirty-first session): a dashboard user of one account acts
// for it with every scope (docs/dashboard.md), and an admin-scoped principal of the default
// account is the installation's operator (accounts/operator.ts): every account's plans, usage,
// alerts and breakers. So `dashboard-users add ops --account default`, documented as a user who
// "sees only its account", made an operator (GET /v1/accounts listed every tenant). Now the CLI
// refuses it and names --admin; another account's user is added as before.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess } from '../helpers/relay-process.js';
import { cliFixture } from '../helpers/cli-fixture.js';

test('a dashboard user of the default account is refused (it would be the operator)', async (t) => {
  const relay = await RelayProcess.create({});
  t.after(() => relay.cleanup());
  const { ok } = cliFixture(() => relay);
  await ok('accounts', 'add', 'acme');
  const refused = await relay.cli(['dashboard-users', 'add', 'ops', '--account', 'default', '--password-stdin'], 'a long enough password\n');
  assert.notEqual(refused.code, 0, refused.stdout);
  assert.match(refused.stderr, /operator.*--admin/);
  const listed = await relay.cli(['dashboard-users', 'list', '--json']);
  assert.deepEqual(JSON.parse(listed.stdout), []);
  const added = await relay.cli(['dashboard-users', 'add', 'ops', '--account', 'acme', '--password-stdin'], 'a long enough password\n');
  assert.equal(added.code, 0, added.stderr);
});
