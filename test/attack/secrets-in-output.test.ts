// Attacker's and auditor's pass (secrets, thirty-first session): "secrets are never logged", checked
// by planting canary values in every secret the relay holds or is sent — the smarthost password,
// the PostgreSQL URL (in the file and in a POSTLANE_* override), metrics.token, SMTP AUTH passwords
// (wrong, malformed, pipelined), a wrong bearer key, a dashboard password — and searching
// everything the real processes wrote and answered. What leaked before this pass:
//  - `postlane config` printed metrics.token, and of storage.url the password of "postgres://:pw@h",
//    the tail of one with an '@' in it ("u:p@ss@h") and a `?password=` parameter;
//  - a YAML syntax error quoted the offending source line, secret and all; a smarthost written as
//    "smtp://user:pass@host:587" was echoed in the error, or without a dot taken for an IPv6 host;
//  - a smarthost whose 535 echoed the AUTH command it was sent put the relay's credentials into the
//    recipient's response: the log, GET /v1/events, webhooks and the DSN to every sender;
//  - a webhook URL with a password was accepted, though fetch refuses it with an error quoting it
//    (stored, logged, answered by .../attempts); GET /v1/webhooks (read scope) showed ?token=;
//  - the request log line gave the path of /u/<token> and /t/c/<token>: a click token carries the
//    link (a password reset's) and the recipient.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import YAML from 'yaml';
import { BIN, RelayProcess, eventually } from '../helpers/relay-process.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { call } from '../helpers/api-fixture.js';

const HOST = '127.0.75.1';
const CANARY = /CANARY[A-Za-z0-9]*/g;
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** Every canary in `text`, plain or as the base64 an AUTH dialogue carries them in. */
function leaks(text: string, secrets: string[]): string[] {
  const forms = secrets.flatMap((s) => [s, b64(s), b64(`\0smuser\0${s}`), b64(`\0alice\0${s}`)].map((f) => f.replace(/=+$/, '')));
  return [...new Set([...(text.match(CANARY) ?? []), ...forms.filter((f) => text.includes(f))])];
}

/** `postlane <args>` with `env` added (POSTLANE_* variables this test sets for its own child only). */
function postlane(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POSTLANE_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
  });
}

async function tempConfig(t: test.TestContext, config: Record<string, unknown> | string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-secret31-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'postlane.yaml');
  await fs.writeFile(file, typeof config === 'string' ? config : YAML.stringify({ dataDir: path.join(dir, 'data'), ...config }));
  return file;
}

test('`postlane config` hides every secret, from the file and from POSTLANE_* overrides', async (t) => {
  const file = await tempConfig(t, {
    hostname: 'relay.test',
    delivery: { smarthost: { host: 'smarthost.test', port: 587, auth: { user: 'smuser', pass: 'CANARYsmarthostPass' } } },
    metrics: { host: HOST, port: 0, token: 'CANARYmetricsToken0123' },
  });
  const urls = ['postgres://:CANARYnoUser@db.test/q', 'postgres://u:CANARYat@sign@db.test/q',
    'postgres://u@db.test/q?sslmode=disable&password=CANARYquery', 'postgresql://u:CANARYplain@db.test:5432/q?sslpassword=CANARYsslpw'];
  for (const url of urls) {
    for (const format of [[], ['--json']]) {
      const r = await postlane(['config', '--config', file, ...format], { POSTLANE_STORAGE_URL: url });
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(leaks(r.out, []), [], `${url}: ${r.out}`);
      assert.match(r.out, /db\.test/, 'the URL is still shown, without its password'); // not hidden whole
      assert.match(r.out, /smuser/);
    }
  }
});

test('a YAML syntax error names the line, not the secret on it', async (t) => {
  const file = await tempConfig(t, 'hostname: relay.test\ndelivery:\n  smarthost: { host: h, auth: { user: u, pass: "CANARYunterminated } }\n');
  const r = await postlane(['config', '--config', file]);
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /invalid YAML: .*line \d+, column \d+/);
  assert.deepEqual(leaks(r.out, []), [], r.out);
  // A value the schema refuses is named by its key, never echoed.
  const good = await tempConfig(t, { hostname: 'relay.test' });
  const bad = await postlane(['config', '--config', good], { POSTLANE_METRICS_TOKEN: 'CANARY short token' });
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /metrics\.token/);
  assert.deepEqual(leaks(bad.out, []), [], bad.out);
  // Credentials written URL-style where "host:port" belongs were taken for a bare IPv6 host (kept,
  // printed, logged at every delivery) or echoed in the error.
  for (const smarthost of ['smtp://u:CANARYurlStyle@smtp.example.com:587', 'u:CANARYnoDot@smarthost:587']) {
    const r = await postlane(['config', '--config', good], { POSTLANE_DELIVERY_SMARTHOST: smarthost });
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /invalid configuration at delivery\.smarthost/);
    assert.deepEqual(leaks(r.out, []), [], r.out);
  }
  const dns = await postlane(['config', '--config', good], { POSTLANE_DNS_SERVERS: '["dns://u:CANARYdns@ns.example.com:53"]' });
  assert.equal(dns.code, 2, dns.out);
  assert.match(dns.out, /dns\.servers\.0: expected "host" or "host:port", got a URL with credentials/);
  assert.deepEqual(leaks(dns.out, []), [], dns.out);
});

test('an unreachable PostgreSQL URL with a password: the start fails without quoting it', async (t) => {
  const file = await tempConfig(t, { hostname: 'relay.test', smtp: { submission: { host: HOST, port: 0 }, submissions: false, alt: false, mx: false }, http: false, metrics: false });
  for (const url of ['postgres://u:CANARYpgRefused@127.0.75.2:27599/q', 'postgres://u:CANARYpgBad@[::1/q']) {
    for (const debug of [{}, { POSTLANE_DEBUG: '1' }] as Record<string, string>[]) {
      const r = await postlane(['start', '--config', file], { POSTLANE_STORAGE_URL: url, POSTLANE_STORAGE_CONNECT_TIMEOUT: '2s', ...debug });
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /PostgreSQL/);
      assert.deepEqual(leaks(r.out, []), [], r.out);
    }
  }
});

/** A pipelined dialogue on implicit TLS: every line written at once, then what the server said until it closed. */
function dialogue(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: HOST, port, rejectUnauthorized: false }, () => s.write(lines.map((l) => `${l}\r\n`).join('')));
    let got = '';
    s.on('data', (d: Buffer) => { got += d.toString(); });
    s.on('error', reject);
    s.on('close', () => resolve(got));
  });
}

test('a running relay: wrong, malformed and pipelined AUTH, wrong keys and tokens, an echoing smarthost', async (t) => {
  const secrets = ['CANARYsmarthostPass', 'CANARYmetricsToken0123'];
  // The smarthost wants other credentials and answers a failed AUTH by echoing what it was sent.
  const smarthost = await startReceiver({
    host: '127.0.75.9', auth: { user: 'smuser', pass: 'the right one' },
    behaviour: { authFailed: (a) => ({ code: 535, message: `5.7.8 refused ${a.username} ${a.password} AUTH PLAIN ${b64(`\0${a.username}\0${a.password}`)}` }) },
  });
  t.after(() => smarthost.close());
  const relay = await RelayProcess.create({
    smtp: { submission: { host: HOST, port: 0 }, submissions: { host: HOST, port: 0 }, mx: { host: HOST, port: 0 },
      auth: { maxFailures: 1000, failureDelay: '0s' } },
    http: { host: HOST, port: 0 },
    metrics: { host: HOST, port: 0, token: 'CANARYmetricsToken0123' },
    log: { level: 'trace' },
    delivery: { smarthost: { host: '127.0.75.9', port: smarthost.port, auth: { user: 'smuser', pass: 'CANARYsmarthostPass' } } },
  });
  t.after(() => relay.cleanup());
  const add = await relay.cli(['users', 'add', 'alice', '--domain', 'example.com', '--password', 'alice-right-password']);
  assert.equal(add.code, 0, add.stderr);
  const key = await relay.cli(['keys', 'create', '--scope', 'admin']);
  assert.equal(key.code, 0, key.stderr);
  const token = key.stdout.trim().split(/\s/)[0]!;
  const dash = await relay.cli(['dashboard-users', 'add', 'ops', '--admin', '--password-stdin'], 'dashboard-right-password\n');
  assert.equal(dash.code, 0, dash.stderr);
  await relay.start();
  const answers: string[] = [];

  // SMTP AUTH: wrong PLAIN and LOGIN, malformed PLAIN, LOGIN with the user inline, CRAM-MD5 and
  // XOAUTH2 (not offered), a cancelled exchange, all pipelined; then a good login that sends mail.
  secrets.push('CANARYwrongPlain', 'CANARYwrongLogin', 'CANARYnotBase64', 'CANARYnoNul', 'CANARYrawLine', 'CANARYxoauth', 'CANARYcancel', 'CANARYpipelined', 'CANARYcleartext');
  answers.push(await dialogue(relay.port('submissions'), [
    'EHLO client.test', `AUTH PLAIN ${b64('\0alice\0CANARYwrongPlain')}`, 'AUTH PLAIN CANARYnotBase64!!', `AUTH PLAIN ${b64('CANARYnoNul')}`,
    'AUTH LOGIN', b64('alice'), b64('CANARYwrongLogin'), `AUTH LOGIN ${b64('alice')}`, 'CANARYrawLine',
    `AUTH XOAUTH2 ${b64('user=alice\x01auth=Bearer CANARYxoauth\x01\x01')}`, 'AUTH PLAIN', '*', `AUTH PLAIN ${b64('\0alice\0CANARYcancel')}`,
    `AUTH PLAIN ${b64('\0alice\0CANARYpipelined')}`, 'MAIL FROM:<a@example.com>', 'RCPT TO:<b@remote.test>', 'QUIT',
  ]));
  assert.match(answers.at(-1)!, /535 5\.7\.8/);
  const plain = await new Promise<string>((resolve, reject) => { // AUTH before STARTTLS on submission
    import('node:net').then(({ default: net }) => {
      const s = net.connect({ host: HOST, port: relay.port('submission') }, () => s.write(`EHLO c\r\nAUTH PLAIN ${b64('\0alice\0CANARYcleartext')}\r\nQUIT\r\n`));
      let got = ''; s.on('data', (d: Buffer) => { got += d.toString(); }); s.on('error', reject); s.on('close', () => resolve(got));
    }, reject);
  });
  answers.push(plain);
  const sent = await dialogue(relay.port('submissions'), [
    'EHLO client.test', `AUTH PLAIN ${b64('\0alice\0alice-right-password')}`, 'MAIL FROM:<a@example.com>', 'RCPT TO:<b@remote.test>', 'DATA',
    'From: a@example.com\r\nTo: b@remote.test\r\nSubject: hi\r\n\r\nbody\r\n.', 'QUIT',
  ]);
  assert.match(sent, /250 2\.0\.0.*queued as/i, sent);

  // HTTP: a wrong bearer key (well-formed and not), Basic, a bad session cookie, a wrong dashboard password.
  secrets.push('CANARYwrongKeySecretXXXXXXXXXXXXXXXXXXXXXXXXXX', 'CANARYbearer', 'CANARYcookie', 'CANARYdashWrong', 'CANARYmetricsWrong');
  const base = `http://${HOST}:${relay.port('http')}`;
  for (const headers of [{ authorization: 'Bearer pl_0123456789abcdef_CANARYwrongKeySecretXXXXXXXXXXXXXXXXXXXXXXXXXX' }, { authorization: 'Bearer CANARYbearer' },
    { authorization: `Basic ${b64('CANARYbearer:x')}` }, { cookie: 'postlane_session=CANARYcookie' }] as Record<string, string>[]) {
    const r = await call(base, 'GET', '/v1/messages', { headers });
    assert.equal(r.status, 401);
    answers.push(r.text);
  }
  const login = await call(base, 'POST', '/v1/dashboard/login', { body: { username: 'ops', password: 'CANARYdashWrong' } });
  assert.equal(login.status, 401);
  answers.push(login.text);
  const metricsBase = `http://${HOST}:${relay.port('metrics')}`;
  const refused = await fetch(`${metricsBase}/metrics`, { headers: { authorization: 'Bearer CANARYmetricsWrong' } });
  assert.equal(refused.status, 401);
  answers.push(await refused.text());
  const scraped = await fetch(`${metricsBase}/metrics`, { headers: { authorization: 'Bearer CANARYmetricsToken0123' } });
  assert.equal(scraped.status, 200);
  answers.push(await scraped.text());

  // A webhook URL with a password can never be fetched (fetch refuses it, quoting it): refused, by
  // the API and the CLI, without an echo. A token in its query is shown to a read-scoped key as redacted.
  secrets.push('CANARYhookPass', 'CANARYhookQuery', 'CANARYcliHookPass');
  const withPassword = await call(base, 'POST', '/v1/webhooks', { token, body: { url: 'https://hookuser:CANARYhookPass@hooks.example.com/in' } });
  assert.equal(withPassword.status, 422, withPassword.text);
  answers.push(withPassword.text);
  const cliHook = await relay.cli(['webhooks', 'add', '--url', 'https://u:CANARYcliHookPass@hooks.example.com/in']);
  assert.notEqual(cliHook.code, 0, cliHook.stdout);
  answers.push(cliHook.stdout + cliHook.stderr);
  const hook = await call(base, 'POST', '/v1/webhooks', { token, body: { url: 'https://hooks.example.com/in?token=CANARYhookQuery&source=relay' } });
  assert.equal(hook.status, 201, hook.text);
  answers.push(hook.text);
  const reader = await relay.cli(['keys', 'create', '--scope', 'read']);
  const readToken = reader.stdout.trim().split(/\s/)[0]!;
  const hooks = await eventually(async () => { const r = await call(base, 'GET', '/v1/webhooks', { token: readToken }); return r.status === 200 ? r : null; });
  assert.match(hooks.text, /https:\/\/hooks\.example\.com\/in\?token=redacted&source=relay/);
  answers.push(hooks.text);
  // Unsubscribe and tracking paths are their tokens (a click token carries the link and the recipient).
  secrets.push('CANARYunsubToken', 'CANARYclickToken', 'CANARYopenToken');
  for (const p of ['/u/CANARYunsubToken', '/t/c/CANARYclickToken', '/t/o/CANARYopenToken.gif']) {
    const r = await fetch(`${base}${p}`);
    answers.push(await r.text());
  }
  await relay.waitForLog((l) => l.event === 'http.request' && l.route === '/t/o/:file');

  // The smarthost refused the relay's credentials, echoing them: the deferral is recorded and shown.
  await relay.waitForLog((l) => l.event === 'delivery.deferred', 30_000);
  const events = await eventually(async () => {
    const r = await call(base, 'GET', '/v1/events', { token });
    return r.status === 200 && /authentication at the relay failed/.test(r.text) ? r : null;
  });
  answers.push(events.text);
  const shown = await relay.cli(['queue', 'list']);
  answers.push(shown.stdout + shown.stderr);
  assert.match(JSON.stringify(relay.logs), /authentication at the relay failed: 535 5\.7\.8 refused smuser/, 'the reply is kept, its secret hidden');

  const output = [JSON.stringify(relay.logs), relay.stderr.join(''), ...answers].join('\n');
  assert.deepEqual(leaks(output, secrets), []);
});
