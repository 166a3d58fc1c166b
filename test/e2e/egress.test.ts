// Egress sources end to end with the real relay process: sources on 127.0.0.30/31, mail submitted
// over SMTP, the receiving MX records the client address and EHLO name of every message. Live
// operations through the CLI and /v1/sources (pause, add, drain, resume; operator only) change
// the source used within egress.refreshInterval; `sources check` prints the PTR table and exits 4
// on a mismatch, which the relay also warned about at start; a bind address the machine does not
// have is refused at start with a line naming the key.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { Submitter } from '../helpers/smtp-client.js';
import { apiAs, createRig } from '../helpers/relay-rig.js';

const source = (name: string, address: string) => ({ name, address, ehlo: `${name}.relay.test`, pool: 'main' });

test('sources: mail leaves from the pool\'s sources, and pause / add / drain / resume act live through the CLI and the API', async (t) => {
  const { mx, relay, ok, out } = await createRig(t, {
    mx: { tls: false },
    zone: {
      '30.0.0.127.in-addr.arpa': { PTR: ['mta1.relay.test'] }, 'mta1.relay.test': { A: ['127.0.0.30'] },
      '31.0.0.127.in-addr.arpa': { PTR: ['somewhere.else.test'] },
    },
    config: {
      dns: { timeout: '500ms' },
      egress: { sources: [source('mta1', '127.0.0.30'), source('mta2', '127.0.0.31')], defaultPool: 'main', refreshInterval: '200ms' },
    },
  });
  await ok('users', 'add', 'alice', '--password', 'alice-password', '--any-domain');
  const operator = await out('keys', 'create', '--account', 'default', '--scope', 'admin');
  await ok('accounts', 'add', 'acme');
  const tenant = await out('keys', 'create', '--account', 'acme', '--scope', 'admin');
  await relay.start();
  const api = (key: string, path: string, body?: unknown) => apiAs(relay, key)(path, { body });
  const submitter = new Submitter({ port: relay.port('submission'), user: 'alice', pass: 'alice-password' });
  t.after(() => submitter.close());
  let n = 0;
  const sendSome = async (count: number) => {
    const start = mx.messages.length;
    for (let i = 0; i < count; i++, n++) await submitter.send('a@sender.test', [`r${n}@dest.test`], `From: a@sender.test\r\nTo: r${n}@dest.test\r\nSubject: m${n}\r\n\r\nhi\r\n`);
    await mx.waitFor(start + count, 20_000);
    return mx.messages.slice(start).map((m) => `${m.remoteAddress} ${m.ehlo}`);
  };

  // The PTR of mta2 names another host: a warning line at start; `sources check` says so and exits 4.
  const warned = await eventually(() => relay.logs.find((l) => l.event === 'egress.ptr_mismatch'));
  assert.equal(warned.source, 'mta2');
  const check = await relay.cli(['sources', 'check']);
  assert.equal(check.code, 4, check.stderr);
  assert.match(check.stdout, /^mta1\t127\.0\.0\.30\tmta1\.relay\.test\tok$/m);
  assert.match(check.stdout, /^mta2\t127\.0\.0\.31\tmta2\.relay\.test\tFAIL: the PTR of 127\.0\.0\.31 names somewhere\.else\.test/m);

  // Both sources take turns, each with its own EHLO name.
  assert.deepEqual(new Set(await sendSome(4)), new Set(['127.0.0.30 mta1.relay.test', '127.0.0.31 mta2.relay.test']));

  // The tenant may not see or change sources; the operator pauses mta2 through the API.
  assert.equal((await api(tenant, '/v1/sources')).status, 403);
  assert.equal((await api(tenant, '/v1/sources/mta2/pause', {})).status, 403);
  assert.equal((await api(operator, '/v1/sources/nope/pause', {})).status, 404);
  const paused = await api(operator, '/v1/sources/mta2/pause', {});
  assert.equal(paused.status, 200, JSON.stringify(paused.body));
  assert.equal(paused.body.state, 'paused');
  await new Promise((r) => setTimeout(r, 400)); // egress.refreshInterval: the relay re-reads the state
  assert.deepEqual(new Set(await sendSome(4)), new Set(['127.0.0.30 mta1.relay.test']), 'a paused source gets nothing');

  // Add mta3 at run time (CLI), drain mta1 (CLI): mail moves to mta3. A non-local address is refused.
  const far = await api(operator, '/v1/sources', { name: 'far', address: '192.0.2.9', ehlo: 'far.relay.test' });
  assert.equal(far.status, 422);
  assert.match(far.body.error.message, /192\.0\.2\.9 is not an address of this machine/);
  const bad = await relay.cli(['sources', 'add', 'mta9', '--address', '127.0.0.39', '--ehlo', 'mta9.relay.test', '--warmup-start', '2026-13-01']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /warmup start: expected a calendar day/);
  const added = await relay.cli(['sources', 'add', 'mta3', '--address', '127.0.0.32', '--ehlo', 'mta3.relay.test', '--pool', 'main']);
  assert.equal(added.code, 0, added.stderr);
  assert.equal((await api(operator, '/v1/sources', { name: 'mta3', address: '127.0.0.33', ehlo: 'x.relay.test' })).status, 409);
  assert.equal((await relay.cli(['sources', 'drain', 'mta1'])).code, 0);
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(new Set(await sendSome(3)), new Set(['127.0.0.32 mta3.relay.test']));
  const list = (await api(operator, '/v1/sources')).body.data as { name: string; state: string; origin: string }[];
  assert.deepEqual(list.map((s) => [s.name, s.state, s.origin]), [['mta1', 'draining', 'config'], ['mta2', 'paused', 'config'], ['mta3', 'active', 'added']]);
  assert.match((await relay.cli(['sources', 'list'])).stdout, /^mta2\t127\.0\.0\.31\tmta2\.relay\.test\tmain\tpaused\twarm$/m);

  // Resume both config sources through the API: all three take turns; no message bounced anywhere.
  for (const s of ['mta1', 'mta2']) assert.equal((await api(operator, `/v1/sources/${s}/resume`, {})).status, 200);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(new Set(await sendSome(9)).size, 3);
  // The MX has every message; the delivered event is written with the result, just after its 250.
  const delivered = async () => (await api(operator, '/v1/events?type=delivered&limit=1000')).body.data as { data: { source: string } }[];
  await eventually(async () => (await delivered()).length >= n || undefined);
  const events = await delivered();
  assert.equal(events.length, n, 'every message delivered');
  assert.deepEqual(new Set(events.map((e) => e.data.source)), new Set(['mta1', 'mta2', 'mta3']), 'the source is on each event');
  assert.equal((await api(operator, '/v1/events?type=bounced')).body.data.length, 0);
});

test('sources: a bind address that is not on this machine is refused at start, naming the key', async (t) => {
  const relay = await RelayProcess.create({ egress: { sources: [source('far', '192.0.2.50')], defaultPool: 'main', checkPtr: false } });
  t.after(() => relay.cleanup());
  await assert.rejects(relay.start(), /egress\.sources\[0\]\.address: 192\.0\.2\.50 is not an address of this machine/);
});
