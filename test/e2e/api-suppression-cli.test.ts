// The HTTP API's suppression check against entries written by another process: the CLI opens the
// relay's SQLite file itself (`postlane suppressions add|remove`), so an entry it adds while the
// relay runs must stop the very next API send, in the answer and in the stored recipient — also
// for a burst of sends in flight together (the lookup rides in the put's transaction: api20) — and
// an entry it removes must let mail through again. A 'broadcast' entry stops broadcast mail only.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess } from '../helpers/relay-process.js';
import { call } from '../helpers/api-fixture.js';
import { cliFixture } from '../helpers/cli-fixture.js';

test('suppressions added and removed by the CLI while the relay runs decide the next API sends', { timeout: 300_000 }, async (t) => {
  const relay = await RelayProcess.create({});
  t.after(async () => { await relay.cleanup(); });
  const { out, addTenant } = cliFixture(() => relay);
  const token = await addTenant({ account: 'acme', domain: 'acme.test', key: { scope: 'send,read' } });
  await relay.start();
  const api = `http://127.0.0.1:${relay.port('http')}`;
  // Two hours ahead: nothing is attempted while the test looks at the stored states.
  const later = new Date(Date.now() + 2 * 3600_000).toISOString();
  const send = (to: string[], stream?: 'broadcast' | 'transactional', subject = 's') =>
    call(api, 'POST', '/v1/messages', { token, body: { from: 'app@acme.test', to, subject, text: 'hello', send_at: later, ...(stream ? { stream } : {}) } });
  const statuses = (r: Awaited<ReturnType<typeof send>>) =>
    (r.body.recipients as { email: string; status: string }[]).map((x) => [x.email, x.status]);
  const stored = async (id: string) =>
    (JSON.parse(await out('queue', 'show', id, '--json')) as { recipients: { address: string; state: string }[] }).recipients.map((x) => [x.address, x.state]);

  const first = await send(['gone@dest.test', 'ok@dest.test']);
  assert.equal(first.status, 202, first.text);
  assert.deepEqual(statuses(first), [['gone@dest.test', 'queued'], ['ok@dest.test', 'queued']], 'no entry yet');

  assert.equal(await out('suppressions', 'add', 'Gone@dest.test', '--account', 'acme'), '1 added');
  const second = await send(['gone@dest.test', 'ok@dest.test']);
  assert.equal(second.status, 202, second.text);
  assert.deepEqual(statuses(second), [['gone@dest.test', 'suppressed'], ['ok@dest.test', 'queued']], 'the CLI\'s entry stops the next send');
  assert.equal(second.body.recipients[0].suppression.reason, 'manual');
  assert.deepEqual(await stored(second.body.id), [['gone@dest.test', 'suppressed'], ['ok@dest.test', 'queued']]);

  // A burst in flight together: each send that names the address has it suppressed, the others not.
  const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i % 5 === 0 ? ['GONE@dest.test', `b${i}@dest.test`] : [`b${i}@dest.test`], undefined, `burst ${i}`)));
  for (const [i, r] of burst.entries()) {
    assert.equal(r.status, 202, r.text);
    const want = i % 5 === 0 ? [['GONE@dest.test', 'suppressed'], [`b${i}@dest.test`, 'queued']] : [[`b${i}@dest.test`, 'queued']];
    assert.deepEqual(statuses(r), want);
    if (i % 5 === 0 || i === 1) assert.deepEqual(await stored(r.body.id), want); // a CLI process each: a sample
  }

  // A broadcast-only entry: broadcast mail stopped, transactional mail goes.
  assert.equal(await out('suppressions', 'add', 'news@dest.test', '--scope', 'broadcast', '--account', 'acme'), '1 added');
  assert.deepEqual(statuses(await send(['news@dest.test'], 'broadcast')), [['news@dest.test', 'suppressed']]);
  assert.deepEqual(statuses(await send(['news@dest.test'], 'transactional')), [['news@dest.test', 'queued']]);

  // Removed by the CLI: the next send goes again.
  await out('suppressions', 'remove', 'gone@dest.test', '--account', 'acme');
  const third = await send(['gone@dest.test']);
  assert.deepEqual(statuses(third), [['gone@dest.test', 'queued']]);
  assert.deepEqual(await stored(third.body.id), [['gone@dest.test', 'queued']]);
});
