// Quotas end to end, against the built relay as a child process (SQLite store) with a receiving
// MX on 127.0.0.2: an account's per-day limit over SMTP (Python smtplib and swaks as the clients)
// refuses the excess with 452 4.7.1 per RCPT, and still after a restart (the counters are in the
// store); over HTTP a burst past a key's per-second limit gets 429 with Retry-After; one
// account's per-day count is shared by SMTP and HTTP.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { call } from '../helpers/api-fixture.js';
import { cliFixture } from '../helpers/cli-fixture.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';

const PASSWORD = 'quota-password';
let dns: DnsServer;
let mx: Receiver;
let relay: RelayProcess;
let burstToken = '';
let sharedToken = '';

const { out, addTenant } = cliFixture(() => relay);

before(async () => {
  // The day's counters reset at 00:00 UTC: do not straddle it.
  const toMidnight = 86_400_000 - (Date.now() % 86_400_000);
  if (toMidnight < 120_000) await new Promise((r) => setTimeout(r, toMidnight + 1000));
  dns = await startDnsServer();
  mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({ 'dest.test': { MX: [{ exchange: 'mx.dest.test', priority: 10 }] }, 'mx.dest.test': { A: ['127.0.0.2'] } });
  relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms', connectTimeout: '3s' },
  });
  await addTenant({ account: 'acme', limits: ['--per-day', '6'], domain: 'acme.test', users: [{ name: 'app', password: PASSWORD }] });
  burstToken = await addTenant({ account: 'burst', domain: 'burst.test', key: { scope: 'send', args: ['--per-second', '2'] } });
  sharedToken = await addTenant({
    account: 'shared', limits: ['--per-day', '5'], domain: 'shared.test', users: [{ name: 'mixed', password: PASSWORD }], key: { scope: 'send' },
  });
  await relay.start();
});

after(async () => {
  await relay?.cleanup();
  await Promise.all([mx?.close(), dns?.close()]);
});

/** Python smtplib: one transaction; prints {"refused": {rcpt: [code, text]}} or {"error": ...}. */
function smtplib(port: number, user: string, from: string, rcpts: string[]): Promise<{ refused?: Record<string, [number, string]>; error?: string; code?: number; detail?: Record<string, [number, string]> }> {
  const script = `
import json, smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
port, user, password, sender = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rcpts = sys.argv[5:]
s = smtplib.SMTP("127.0.0.1", port, local_hostname="py.test")
s.starttls(context=ctx); s.ehlo("py.test"); s.login(user, password)
msg = "From: %s\\r\\nSubject: quota\\r\\n\\r\\nhello\\r\\n" % sender
try:
    refused = s.sendmail(sender, rcpts, msg)
    print(json.dumps({"refused": {k: [v[0], v[1].decode()] for k, v in refused.items()}}))
except smtplib.SMTPRecipientsRefused as e:
    print(json.dumps({"error": "all refused", "detail": {k: [v[0], v[1].decode()] for k, v in e.recipients.items()}}))
s.quit()
`;
  return new Promise((resolve, reject) => execFile(PYTHON3, ['-c', script, String(port), user, PASSWORD, from, ...rcpts], { timeout: 30_000 }, (err, stdout, stderr) => {
    if (err) return reject(new Error(`python: ${err.message}\n${stderr}`));
    resolve(JSON.parse(stdout));
  }));
}

function swaks(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => execFile(SWAKS, args, { timeout: 30_000 }, (err, stdout, stderr) =>
    resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })));
}
// Both clients are required for the SMTP test: a missing one fails under CI, skips elsewhere.
const skipSmtp = await skipUnless(TOOLS.python3, TOOLS.swaks);
const SWAKS = (await toolPath(TOOLS.swaks)) ?? 'swaks';
const PYTHON3 = (await toolPath(TOOLS.python3)) ?? 'python3';

const dayUsage = async (account: string) => {
  const list = JSON.parse(await out('accounts', 'list', '--json')) as { name: string; usage: { window: string; used: number }[] }[];
  return list.find((a) => a.name === account)?.usage.find((u) => u.window === 'day')?.used;
};
const delivered = (domainPart: string) => mx.messages.flatMap((m) => m.rcptTo).filter((r) => r.includes(domainPart)).length;

test('per day over SMTP: the excess RCPTs get 452 4.7.1 (smtplib, swaks); after a restart the count holds', { skip: skipSmtp }, async () => {
  const port = relay.port('submission');
  assert.deepEqual(await smtplib(port, 'app', 'app@acme.test', ['a1@dest.test', 'a2@dest.test', 'a3@dest.test', 'a4@dest.test']), { refused: {} });
  const second = await smtplib(port, 'app', 'app@acme.test', ['a5@dest.test', 'a6@dest.test', 'a7@dest.test']);
  assert.deepEqual(Object.keys(second.refused ?? {}), ['a7@dest.test'], JSON.stringify(second));
  const [code, text] = second.refused!['a7@dest.test']!;
  assert.equal(code, 452);
  assert.match(text, /^4\.7\.1 Account limit of 6 per day reached; try again in \d+ s$/);

  const r = await swaks(['--server', `127.0.0.1:${port}`, '--tls', '--auth', 'PLAIN', '--auth-user', 'app', '--auth-password', PASSWORD,
    '--from', 'app@acme.test', '--to', 'a8@dest.test', '--ehlo', 'client.test', '--header', 'Subject: over']);
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /<~\* 452 4\.7\.1 Account limit of 6 per day reached/);
  assert.equal(await dayUsage('acme'), 6);
  await eventually(() => delivered('a') >= 6 && delivered('@dest.test') >= 6);
  assert.deepEqual(mx.messages.flatMap((m) => m.rcptTo).filter((r) => /^a\d@/.test(r)).sort(),
    ['a1@dest.test', 'a2@dest.test', 'a3@dest.test', 'a4@dest.test', 'a5@dest.test', 'a6@dest.test']);

  await relay.stop();
  await relay.start();
  const after = await smtplib(relay.port('submission'), 'app', 'app@acme.test', ['a9@dest.test']);
  assert.equal(after.error, 'all refused', JSON.stringify(after));
  assert.equal(after.detail!['a9@dest.test']![0], 452);
  assert.equal(await dayUsage('acme'), 6);
  assert.ok(relay.logs.some((l) => l.event === 'smtp.quota_exceeded' && l.account === 'acme' && l.window === 'day' && l.limit === 6));
});

const message = (from: string, to: string[]) => ({ from, to, subject: 'quota', text: 'hello' });

test('HTTP: a burst past the key\'s per-second limit gets 429 with Retry-After', async (t) => {
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const LIMIT = 2;
  const BURST = 6;
  // The server charges each request to the UTC second it handles it in, which lies between the
  // burst's start and its last answer here: a burst whose span touched `seconds` wall-clock seconds
  // may have at most LIMIT × seconds accepted, whatever the machine's speed. Bursts are repeated
  // until one outruns the limit (it must be refused with 429 and Retry-After: 1).
  let limitedSeen = 0;
  for (let round = 0; limitedSeen === 0; round++) {
    assert.ok(round < 20, 'no burst of 6 ever outran 2 per second');
    const t0 = Date.now();
    const answers = await Promise.all(Array.from({ length: BURST }, (_, i) =>
      call(base, 'POST', '/v1/messages', { token: burstToken, body: message('app@burst.test', [`b${round}-${i}@dest.test`]) })));
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(t0 / 1000) + 1;
    const ok = answers.filter((a) => a.status === 202);
    const limited = answers.filter((a) => a.status === 429);
    assert.equal(ok.length + limited.length, BURST, answers.map((a) => `${a.status} ${a.text}`).join('\n'));
    assert.ok(ok.length <= LIMIT * seconds, `${ok.length} accepted within ${seconds} s`);
    for (const a of limited) assert.equal(a.headers.get('retry-after'), '1', a.text);
    limitedSeen += limited.length;
    t.diagnostic(`round ${round}: ${ok.length} accepted, ${limited.length} refused, within ${seconds} s`);
  }
});

test('per day shared by SMTP and HTTP for one account', { skip: skipSmtp }, async () => {
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const port = relay.port('submission');
  assert.deepEqual(await smtplib(port, 'mixed', 'app@shared.test', ['s1@dest.test', 's2@dest.test', 's3@dest.test']), { refused: {} });
  const two = await call(base, 'POST', '/v1/messages', { token: sharedToken, body: message('app@shared.test', ['s4@dest.test', 's5@dest.test']) });
  assert.equal(two.status, 202, two.text);
  const over = await call(base, 'POST', '/v1/messages', { token: sharedToken, body: message('app@shared.test', ['s6@dest.test']) });
  assert.equal(over.status, 429, over.text);
  const retryAfter = Number(over.headers.get('retry-after'));
  const toMidnight = Math.ceil((86_400_000 - (Date.now() % 86_400_000)) / 1000);
  assert.ok(retryAfter >= 1 && retryAfter <= toMidnight + 1, `Retry-After ${retryAfter} s, midnight in ${toMidnight} s`);
  const smtp = await smtplib(port, 'mixed', 'app@shared.test', ['s7@dest.test']);
  assert.equal(smtp.detail?.['s7@dest.test']?.[0], 452, JSON.stringify(smtp));
  assert.match(smtp.detail!['s7@dest.test']![1], /^4\.7\.1 Account limit of 5 per day reached/);
  assert.equal(await dayUsage('shared'), 5);
});
