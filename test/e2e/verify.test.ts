// Address verification end to end: a relay process whose resolver is the test DNS server, asked
// over real HTTP (fetch) and through the built CLI. Covers each DNS shape (MX, implicit MX, null
// MX, NXDOMAIN, no MX and no A, SERVFAIL, timeout, an IDN domain), the lists (role, built-in disposable, an operator's
// extra file), the account's suppressions and history (a hard bounce appended through the store,
// its suppression lifted so only the history speaks), UTF-8 and malformed addresses, the batch
// limit, scopes, the per-account budget and tenant isolation; then, with the probe configured, a
// test MX that refuses unknown users, and a real hard bounce from it read back as history.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/store/open-store.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { call, seedTenant } from '../helpers/api-fixture.js';
import { startReceiver } from '../helpers/smtp-receiver.js';

interface Result { address: string; normalized: string | null; verdict: string; reasons: { code: string; detail: string }[]; checks: Record<string, any> }

test('POST /v1/verify and postlane verify against a test DNS server', async (t) => {
  const dns = await startDnsServer();
  t.after(() => dns.close());
  dns.setZone({
    'mx.test': { MX: [{ exchange: 'mx1.mx.test', priority: 10 }] },
    'mx1.mx.test': { A: ['127.0.0.2'] },
    'aonly.test': { A: ['127.0.0.3'] },
    'nullmx.test': { MX: [{ exchange: '.', priority: 0 }] },
    'nothing.test': { TXT: ['v=spf1 -all'] },
    'servfail.test': { MX: [{ exchange: 'mx1.mx.test', priority: 10 }] },
    'mailinator.com': { MX: [{ exchange: 'mx1.mx.test', priority: 10 }] },
    'burner.test': { MX: [{ exchange: 'mx1.mx.test', priority: 10 }] },
    'xn--bcher-kva.test': { MX: [{ exchange: 'mx1.mx.test', priority: 10 }] },   // bücher.test
    'timeout.test': { MX: [{ exchange: 'mx1.mx.test', priority: 10 }] },
  });
  dns.fail('servfail.test', 'servfail');
  dns.fail('timeout.test', 'timeout');

  const extraDir = await fs.mkdtemp(path.join(os.tmpdir(), 'verify-extra-'));
  t.after(() => fs.rm(extraDir, { recursive: true, force: true }));
  const extraFile = path.join(extraDir, 'disposable.txt');
  await fs.writeFile(extraFile, '# an operator\'s newer list\nburner.test\n');

  const relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`], timeout: '1s' },
    verify: { extraDisposableDomains: extraFile, perAccountPerMinute: 150 },
  });
  t.after(() => relay.cleanup());
  const store = await openStore(loadConfig({ file: relay.configFile, env: {} }), pino({ level: 'silent' }), 'admin');
  await store.open();
  const alpha = await seedTenant(store, { account: 'alpha', domains: ['alpha.test'], keys: { send: ['send'], read: ['read'] } });
  const beta = await seedTenant(store, { account: 'beta', domains: ['beta.test'], keys: { send: ['send'] } });
  const gamma = await seedTenant(store, { account: 'gamma', domains: ['gamma.test'], keys: { send: ['send'] } });
  const now = Date.now();
  const entry = (account: string, address: string, scope: 'all' | 'broadcast', reason: 'manual' | 'unsubscribe') =>
    ({ account, address, scope, reason, source: 'cli', messageId: null, detail: null, createdAt: now });
  await store.addSuppressions([entry('alpha', 'gone@mx.test', 'all', 'manual'), entry('alpha', 'unsub@mx.test', 'broadcast', 'unsubscribe'), entry('beta', 'secret@mx.test', 'all', 'manual')]);
  // A hard bounce in alpha's history; the operator lifted the suppression it caused, so only the history tells.
  await store.appendEvents([{ at: now - 60_000, account: 'alpha', type: 'bounced', messageId: 'verifye2e0001', recipient: 'bounced@mx.test',
    data: { bounceType: 'hard', bounceCategory: 'bad-mailbox', response: '550 5.1.1 no such user', code: 550, enhanced: '5.1.1' } }]);
  assert.equal((await store.listSuppressions({ account: 'alpha', address: 'bounced@mx.test' })).length, 1, 'the hard bounce suppressed it');
  await store.removeSuppression('alpha', 'bounced@mx.test');
  await store.close();
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const verify = (token: string, body: unknown) => call(base, 'POST', '/v1/verify', { token, body });

  const table: [address: string, verdict: string, codes: string[], mx?: { kind: string; hosts: string[] }][] = [
    ['ann@mx.test', 'deliverable', [], { kind: 'mx', hosts: ['mx1.mx.test'] }],
    ['ann@aonly.test', 'deliverable', ['implicit_mx'], { kind: 'implicit', hosts: ['aonly.test'] }],
    ['ann@nullmx.test', 'undeliverable', ['null_mx'], { kind: 'null', hosts: [] }],
    ['ann@nxdomain.test', 'undeliverable', ['domain_not_found'], { kind: 'none', hosts: [] }],
    ['ann@nothing.test', 'undeliverable', ['no_mail_host'], { kind: 'none', hosts: [] }],
    ['ann@servfail.test', 'unknown', ['dns_temporary']],
    ['ann@timeout.test', 'unknown', ['dns_temporary']],
    ['ann@mailinator.com', 'risky', ['disposable_domain']],
    ['ann@burner.test', 'risky', ['disposable_domain']],
    ['postmaster@mx.test', 'risky', ['role_account']],
    ['gone@mx.test', 'undeliverable', ['suppressed']],
    ['unsub@mx.test', 'risky', ['suppressed_broadcast']],
    ['bounced@mx.test', 'undeliverable', ['hard_bounced']],
    ['用户@mx.test', 'deliverable', ['smtputf8']],
    ['ann@bücher.test', 'deliverable', ['smtputf8'], { kind: 'mx', hosts: ['mx1.mx.test'] }],
    ['not an address', 'undeliverable', ['syntax_invalid']],
    ['secret@mx.test', 'deliverable', []],   // beta's suppression is not alpha's
  ];

  await t.test('a batch: each verdict and its reasons, in order', async () => {
    const r = await verify(alpha.tokens.send!, { addresses: table.map(([a]) => a) });
    assert.equal(r.status, 200, r.text);
    const data = r.body.data as Result[];
    assert.deepEqual(data.map((x) => x.address), table.map(([a]) => a));
    for (const [i, [address, verdict, codes, mx]] of table.entries()) {
      const got = data[i]!;
      assert.equal(got.verdict, verdict, `${address}: ${JSON.stringify(got.reasons)}`);
      assert.deepEqual(got.reasons.map((x) => x.code).sort(), [...codes].sort(), address);
      if (mx) assert.deepEqual(got.checks.mx, mx, address);
    }
    const bounced = data.find((x) => x.address === 'bounced@mx.test')!;
    assert.equal(bounced.checks.history.hard_bounces, 1);
    assert.equal(bounced.checks.suppressed, null);
    assert.equal(data.find((x) => x.address === '用户@mx.test')!.checks.syntax.smtputf8, true);
    assert.equal(data.find((x) => x.address === 'gone@mx.test')!.checks.suppressed.scope, 'all');
    assert.ok(data.every((x) => x.checks.smtp_probe === null && x.checks.catch_all === 'not_checked'), 'no probe unless configured');
  });

  await t.test('one address: its result; tenant isolation both ways', async () => {
    const mine = await verify(alpha.tokens.send!, { address: 'Secret@MX.test' });
    assert.equal(mine.status, 200, mine.text);
    assert.equal(mine.body.verdict, 'deliverable');
    assert.equal(mine.body.normalized, 'Secret@mx.test');
    assert.equal(mine.body.checks.suppressed, null);
    const theirs = await verify(beta.tokens.send!, { address: 'secret@mx.test' });
    assert.equal(theirs.body.verdict, 'undeliverable');
    for (const a of ['gone@mx.test', 'bounced@mx.test']) {
      const b = await verify(beta.tokens.send!, { address: a });
      assert.equal(b.body.verdict, 'deliverable', `alpha's ${a} is not beta's`);
      assert.deepEqual(b.body.checks.history, { delivered: 0, hard_bounces: 0, soft_bounces: 0, complaints: 0, last_hard_bounce: null, last_delivered: null });
    }
  });

  await t.test('request shape, scope and limits', async () => {
    const over = await verify(alpha.tokens.send!, { addresses: Array.from({ length: 101 }, (_, i) => `u${i}@mx.test`) });
    assert.equal(over.status, 422, over.text);
    assert.ok(over.body.error.fields.some((f: { path: string }) => f.path.startsWith('addresses')), over.text);
    assert.equal((await verify(alpha.tokens.send!, { address: 'a@mx.test', addresses: ['b@mx.test'] })).status, 422);
    assert.equal((await verify(alpha.tokens.send!, {})).status, 422);
    assert.equal((await verify(alpha.tokens.send!, { addresses: [] })).status, 422);
    assert.equal((await verify(alpha.tokens.send!, { address: 'a@mx.test', extra: 1 })).status, 422);
    assert.equal((await verify(alpha.tokens.read!, { address: 'a@mx.test' })).status, 403);
    assert.equal((await call(base, 'POST', '/v1/verify', { body: { address: 'a@mx.test' } })).status, 401);
    const doc = await call(base, 'GET', '/openapi.json');
    assert.equal(doc.body.paths['/v1/verify'].post['x-scope'], 'send');
  });

  await t.test('the per-account budget: 429 with Retry-After, other accounts unaffected', async () => {
    const hundred = { addresses: Array.from({ length: 100 }, (_, i) => `u${i}@mx.test`) };
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await verify(gamma.tokens.send!, hundred));
    const limited = answers.find((a) => a.status === 429);
    assert.ok(limited, `statuses ${answers.map((a) => a.status)}`);     // 150 a minute: at most one per window passes
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await verify(beta.tokens.send!, { address: 'a@mx.test' })).status, 200);
  });

  await t.test('the CLI: a table, JSON, --fail-on, one-line errors', async () => {
    const tableRun = await relay.cli(['verify', 'ann@mx.test', 'ann@nullmx.test', 'gone@mx.test', 'ann@aonly.test', '--account', 'alpha']);
    assert.equal(tableRun.code, 0, tableRun.stderr);
    const lines = tableRun.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ADDRESS\s+VERDICT\s+MAIL HOSTS\s+REASONS$/);
    assert.match(lines[1]!, /^ann@mx\.test\s+deliverable\s+mx1\.mx\.test\s+-$/);
    assert.match(lines[2]!, /^ann@nullmx\.test\s+undeliverable\s+\(null MX\)\s+null_mx$/);
    assert.match(lines[3]!, /^gone@mx\.test\s+undeliverable\s+mx1\.mx\.test\s+suppressed$/);
    assert.match(lines[4]!, /^ann@aonly\.test\s+deliverable\s+\(implicit\) aonly\.test\s+implicit_mx$/);
    const asBeta = await relay.cli(['verify', 'gone@mx.test', '--account', 'beta', '--json']);
    assert.equal(asBeta.code, 0, asBeta.stderr);
    const json = JSON.parse(asBeta.stdout) as Result[];
    assert.equal(json[0]!.verdict, 'deliverable');
    const fromStdin = await relay.cli(['verify', '-', '--account', 'alpha', '--json'], 'ann@servfail.test\nbounced@mx.test\n');
    assert.deepEqual((JSON.parse(fromStdin.stdout) as Result[]).map((r) => r.verdict), ['unknown', 'undeliverable']);
    const failOn = await relay.cli(['verify', 'ann@mx.test', 'ann@nxdomain.test', '--account', 'alpha', '--fail-on', 'undeliverable,unknown']);
    assert.equal(failOn.code, 4);
    assert.equal((await relay.cli(['verify', 'ann@mx.test', '--account', 'alpha', '--fail-on', 'undeliverable'])).code, 0);
    for (const [args, code, message] of [
      [['verify', 'a@mx.test', '--account', 'nobody'], 3, /account nobody not found/],
      [['verify', 'a@mx.test', '--fail-on', 'bad'], 2, /--fail-on takes/],
    ] as const) {
      const r = await relay.cli([...args]);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
  });
});

test('the SMTP probe when configured: a test MX that refuses unknown users with 550 5.1.1', async (t) => {
  const dns = await startDnsServer();
  t.after(() => dns.close());
  const rcpts: string[] = [];
  const mx = await startReceiver({ host: '127.0.0.1', tls: false, behaviour: {
    rcpt: (a) => (rcpts.push(a), a === 'ann@probe.test' ? null : { code: 550, message: '5.1.1 no such user' }),
  } });
  t.after(() => mx.close());
  dns.setZone({ 'probe.test': { MX: [{ exchange: 'mx.probe.test', priority: 10 }] }, 'mx.probe.test': { A: ['127.0.0.1'] } });
  const relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port }, verify: { smtpProbe: { timeout: '5s' } },
  });
  t.after(() => relay.cleanup());
  const store = await openStore(loadConfig({ file: relay.configFile, env: {} }), pino({ level: 'silent' }), 'admin');
  await store.open();
  const alpha = await seedTenant(store, { account: 'alpha', domains: ['alpha.test'], keys: { send: ['send'], read: ['read'] } });
  await store.close();
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const r = await call(base, 'POST', '/v1/verify', { token: alpha.tokens.send!, body: { addresses: ['ann@probe.test', 'bob@probe.test'] } });
  assert.equal(r.status, 200, r.text);
  const [ann, bob] = r.body.data as Result[];
  assert.equal(ann!.verdict, 'deliverable');
  assert.equal(ann!.checks.catch_all, false);
  assert.equal(ann!.checks.smtp_probe.outcome, 'accepted');
  assert.equal(bob!.verdict, 'undeliverable');
  assert.equal(bob!.reasons[0]!.code, 'rcpt_rejected');
  assert.ok(rcpts.includes('ann@probe.test') && rcpts.includes('bob@probe.test'));
  assert.equal(mx.messages.length, 0, 'never DATA');

  // Real history: mail to carl@ is refused 550 5.1.1 by the MX; once bounced, verification says so
  // from the account's own records and does not probe again.
  const sent = await call(base, 'POST', '/v1/messages', { token: alpha.tokens.send!, body: { from: 'news@alpha.test', to: ['carl@probe.test'], subject: 'hi', text: 'x' } });
  assert.equal(sent.status, 202, sent.text);
  await eventually(async () => {
    const ev = await call(base, 'GET', '/v1/events?recipient=carl@probe.test&type=bounced', { token: alpha.tokens.read! });
    return ev.body.data.length > 0;
  });
  const probesBefore = rcpts.length;
  const carl = await call(base, 'POST', '/v1/verify', { token: alpha.tokens.send!, body: { address: 'carl@probe.test' } });
  assert.equal(carl.body.verdict, 'undeliverable');
  assert.deepEqual(carl.body.reasons.map((x: { code: string }) => x.code).sort(), ['hard_bounced', 'suppressed']);
  assert.equal(carl.body.checks.history.hard_bounces, 1);
  assert.equal(carl.body.checks.suppressed.reason, 'hard-bounce');
  assert.equal(carl.body.checks.smtp_probe, null, 'known undeliverable: not probed');
  assert.equal(rcpts.length, probesBefore);
});
