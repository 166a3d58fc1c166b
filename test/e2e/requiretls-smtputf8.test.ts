// End to end, REQUIRETLS (RFC 8689) and SMTPUTF8 (RFC 6531) through the relay process: Python's
// smtplib submits over STARTTLS (REQUIRETLS is offered only then) and the HTTP API with
// require_tls; the next hops are smtp-server receivers with a certificate from a test CA (trusted
// through delivery.tlsCaFile) that offer, or hide, SMTPUTF8 and REQUIRETLS. What arrives (and the
// MAIL parameters it came with) and what bounces, with which code, is asserted.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/store/open-store.js';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';
import { call, seedTenant } from '../helpers/api-fixture.js';
import { createTestCa, issueCert } from '../delivery/test-pki.js';

const PASSWORD = 'correct horse battery';
const skipPython = await skipUnless(TOOLS.python3);
const PYTHON3 = (await toolPath(TOOLS.python3)) ?? 'python3';

let dns: DnsServer;
let full: Receiver; // 127.0.5.2: offers SMTPUTF8 and REQUIRETLS; also the MX of the sender domains (DSNs)
let bare: Receiver; // 127.0.5.3: offers neither
let relay: RelayProcess;
let token: string;
let caDir: string;

before(async () => {
  const ca = await createTestCa();
  const leaf = await issueCert(ca, ['mx.full.test', 'mx.bare.test', 'mx.example.com', 'mx.acme.test']);
  full = await startReceiver({ host: '127.0.5.2', tlsOptions: { cert: leaf.cert, key: leaf.key } });
  bare = await startReceiver({ host: '127.0.5.3', port: full.port, tlsOptions: { cert: leaf.cert, key: leaf.key }, hide: ['SMTPUTF8', 'REQUIRETLS'] });
  dns = await startDnsServer();
  const mx = (host: string) => ({ MX: [{ exchange: host, priority: 10 }] });
  dns.setZone({
    'full.test': mx('mx.full.test'), 'bare.test': mx('mx.bare.test'), 'example.com': mx('mx.example.com'), 'acme.test': mx('mx.acme.test'),
    'mx.full.test': { A: ['127.0.5.2'] }, 'mx.example.com': { A: ['127.0.5.2'] }, 'mx.acme.test': { A: ['127.0.5.2'] }, 'mx.bare.test': { A: ['127.0.5.3'] },
  });
  caDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-rtls-ca-'));
  const caFile = path.join(caDir, 'ca.pem');
  await fs.writeFile(caFile, ca.cert);
  relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: full.port, tlsCaFile: caFile, pollInterval: '200ms', connectTimeout: '3s', retrySchedule: { initial: '300ms', factor: 1, max: '300ms', jitter: 0 } },
  });
  const add = await relay.cli(['users', 'add', 'alice', '--domain', 'example.com'], PASSWORD + '\n');
  assert.equal(add.code, 0, add.stderr);
  const store = await openStore(loadConfig({ file: relay.configFile, env: {} }), pino({ level: 'silent' }), 'admin');
  await store.open();
  token = (await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { app: ['send', 'read'] } })).tokens.app!;
  await store.close();
  await relay.start();
});

after(async () => {
  await relay?.cleanup();
  await Promise.all([full?.close(), bare?.close(), dns?.close()]);
  if (caDir) await fs.rm(caDir, { recursive: true, force: true });
});

/** Runs a Python smtplib script with argv[1] = the submission port, argv[2] = the password; returns its stdout. */
function python(script: string): Promise<string> {
  return new Promise((resolve, reject) => execFile(PYTHON3, ['-c', script, String(relay.port('submission')), PASSWORD], { timeout: 30_000 },
    (err, out, e) => (err ? reject(new Error(`${e}${out}`)) : resolve(out))));
}

const LOGIN = `
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="py.test")
s.ehlo("py.test"); before = s.has_extn("requiretls")
s.starttls(context=ctx); s.ehlo("py.test"); s.login("alice", sys.argv[2])
print("requiretls before/after STARTTLS:", before, s.has_extn("requiretls"))
`;
const withMarker = (r: Receiver, marker: string) => r.messages.find((m) => m.body.toString('utf8').includes(marker));
const dsnAbout = (rcpt: string) => eventually(() => full.messages.find((m) => m.mailFrom === '' && m.body.toString('utf8').includes(rcpt)));
const stateOf = async (id: string) => JSON.parse((await relay.cli(['queue', 'show', id, '--json'])).stdout) as { recipients: { state: string; lastResponse: string | null }[] };

test('smtplib MAIL FROM … REQUIRETLS: offered only after STARTTLS; relayed with REQUIRETLS to a verified hop offering it, bounced 5.7.30 otherwise', { skip: skipPython }, async () => {
  const marker = `rtls-${Date.now()}`;
  const out = await python(`${LOGIN}
for rcpt in ["bob@full.test", "carol@bare.test"]:
    s.sendmail("alice@example.com", [rcpt], "From: alice@example.com\\r\\nSubject: ${marker}\\r\\n\\r\\nsecret ${marker}\\r\\n", mail_options=["REQUIRETLS"])
s.quit()
`);
  assert.match(out, /requiretls before\/after STARTTLS: False True/);
  const got = await eventually(() => withMarker(full, marker));
  assert.deepEqual([got.rcptTo, got.tls, got.requireTls], [['bob@full.test'], true, true]);
  const dsn = await dsnAbout('carol@bare.test');
  assert.equal(dsn.requireTls, true, 'the DSN is sent with REQUIRETLS');
  assert.match(dsn.body.toString('utf8'), /Status: 5\.7\.30/);
  assert.doesNotMatch(dsn.body.toString('utf8'), new RegExp(`secret ${marker}`), 'the body is not returned');
  assert.equal(withMarker(bare, marker), undefined, 'never sent to the hop without REQUIRETLS');
});

test('smtplib SMTPUTF8: a UTF-8 recipient and UTF-8 header fields reach a hop offering SMTPUTF8 with MAIL … SMTPUTF8; a hop without it gets nothing (5.6.7 / 5.6.9)', { skip: skipPython }, async () => {
  const marker = `utf8-${Date.now()}`;
  await python(`${LOGIN}
msg = "From: alice@example.com\\r\\nSubject: Grüße ${marker}\\r\\n\\r\\nHallo ${marker}\\r\\n".encode("utf-8")
s.sendmail("alice@example.com", ["josé@full.test"], msg, mail_options=["SMTPUTF8"])
s.sendmail("alice@example.com", ["josé@bare.test"], msg, mail_options=["SMTPUTF8"])
s.sendmail("alice@example.com", ["hans@bare.test"], msg, mail_options=["SMTPUTF8"])
s.quit()
`);
  const got = await eventually(() => withMarker(full, marker));
  assert.deepEqual([got.rcptTo.map((r) => r.normalize()), got.smtpUtf8], [['josé@full.test'], true]);
  assert.match(got.body.toString('utf8'), new RegExp(`Subject: Grüße ${marker}`), 'UTF-8 header field intact');
  const dsnText = async (rcpt: string) => (await eventually(() => full.messages.find((m) => m.mailFrom === '' && m.body.toString('utf8').includes(rcpt)))).body.toString('utf8');
  assert.match(await dsnText('josé@bare.test'), /Status: 5\.6\.7/);
  assert.match(await dsnText('hans@bare.test'), /Status: 5\.6\.9/);
  assert.equal(withMarker(bare, marker), undefined);
});

test('API require_tls: true is REQUIRETLS (delivered with it; bounced 5.7.30 where the hop lacks it); documented in /openapi.json', async () => {
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const send = (to: string, subject: string) => call(base, 'POST', '/v1/messages', { token, body: { from: 'app@acme.test', to: [to], subject, text: 'hi', require_tls: true } });
  const marker = `api-rtls-${Date.now()}`;
  const ok = await send('dora@full.test', marker);
  assert.equal(ok.status, 202, JSON.stringify(ok.body));
  const got = await eventually(() => withMarker(full, marker));
  assert.equal(got.requireTls, true);
  const refused = await send('ed@bare.test', `${marker}-bare`);
  assert.equal(refused.status, 202);
  const id = (refused.body as { id: string }).id;
  const view = await eventually(async () => { const v = await stateOf(id); return v.recipients[0]!.state === 'bounced' ? v : null; });
  assert.match(view.recipients[0]!.lastResponse ?? '', /^5\.7\.30 /);
  const bad = await call(base, 'POST', '/v1/messages', { token, body: { from: 'app@acme.test', to: ['x@full.test'], text: 'x', require_tls: 'yes' } });
  assert.equal(bad.status, 422);
  const openapi = await (await fetch(`${base}/openapi.json`)).text();
  assert.match(openapi, /"require_tls"/);
});
