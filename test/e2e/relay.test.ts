// End to end: the built relay as a child process, a test DNS server, receiving MX servers on
// 127.0.0.2/.3, and independent clients (swaks, Python smtplib). Asserts what arrives, byte for byte.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { simpleParser } from 'mailparser';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { Submitter, queueIdOf } from '../helpers/smtp-client.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

const PASSWORD = 'correct horse battery';
let dns: DnsServer;
let mx1: Receiver;          // 127.0.0.2: example.net (preference 10), sender domain example.com
let mx2: Receiver;          // 127.0.0.3: example.net (preference 20), fallback.test, flaky.test, reject.test
let relay: RelayProcess;
let flakyFailures = 0;

before(async () => {
  dns = await startDnsServer();
  mx1 = await startReceiver({ host: '127.0.0.2', port: 0 });
  mx2 = await startReceiver({
    host: '127.0.0.3', port: mx1.port,
    behaviour: {
      rcpt: (addr: string) => {
        if (addr.endsWith('@reject.test')) return { code: 550, message: '5.1.1 No such user here' };
        if (addr.endsWith('@flaky.test') && flakyFailures < 2) { flakyFailures++; return { code: 451, message: '4.3.0 Try again later' }; }
        if (addr.endsWith('@stuck.test')) return { code: 450, message: '4.2.1 Mailbox busy' };
        return null;
      },
    },
  });
  dns.setZone({
    'example.net': { MX: [{ exchange: 'mx1.example.net', priority: 10 }, { exchange: 'mx2.example.net', priority: 20 }] },
    'example.com': { MX: [{ exchange: 'mx1.example.net', priority: 10 }] },
    'mx1.example.net': { A: ['127.0.0.2'] },
    'mx2.example.net': { A: ['127.0.0.3'] },
    'fallback.test': { MX: [{ exchange: 'dead.fallback.test', priority: 5 }, { exchange: 'mx2.example.net', priority: 50 }] },
    'dead.fallback.test': { A: ['127.0.0.9'] },
    'flaky.test': { MX: [{ exchange: 'mx2.example.net', priority: 10 }] },
    'reject.test': { MX: [{ exchange: 'mx2.example.net', priority: 10 }] },
    'stuck.test': { MX: [{ exchange: 'mx2.example.net', priority: 10 }] },
    'implicit.test': { A: ['127.0.0.2'] },
    'nullmx.test': { MX: [{ exchange: '.', priority: 0 }] },
    // nothing listens on 127.0.0.4 until the restart test starts Postfix's smtp-sink there
    'later.test': { MX: [{ exchange: 'mx.later.test', priority: 10 }] },
    'mx.later.test': { A: ['127.0.0.4'] },
  });
  relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: {
      port: mx1.port, pollInterval: '200ms', connectTimeout: '3s',
      retrySchedule: { initial: '300ms', factor: 1, max: '300ms', jitter: 0 },
    },
  });
  const add = await relay.cli(['users', 'add', 'alice', '--domain', 'example.com'], PASSWORD + '\n');
  assert.equal(add.code, 0, add.stderr);
  await relay.start();
});

after(async () => {
  await relay?.cleanup();
  await Promise.all([mx1?.close(), mx2?.close(), dns?.close()]);
});

const bodyText = (m: { body: Buffer }) => m.body.toString('utf8');
const findMessage = (r: Receiver, marker: string) => r.messages.find((m) => bodyText(m).includes(marker));

function swaks(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => execFile(SWAKS, args, { timeout: 30_000 }, (err, stdout, stderr) =>
    resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })));
}

const skipSwaks = await skipUnless(TOOLS.swaks);
const skipPython = await skipUnless(TOOLS.python3);
const skipSink = await skipUnless(TOOLS.smtpSink);
const skipOpenssl = await skipUnless(TOOLS.openssl);
const OPENSSL = (await toolPath(TOOLS.openssl)) ?? 'openssl';
const SWAKS = (await toolPath(TOOLS.swaks)) ?? 'swaks';
const PYTHON3 = (await toolPath(TOOLS.python3)) ?? 'python3';

test('swaks submits over STARTTLS + AUTH; the MX receives the exact envelope and body, with headers added', { skip: skipSwaks }, async () => {
  const marker = `swaks-${Date.now()}`;
  const r = await swaks(['--server', `127.0.0.1:${relay.port('submission')}`, '--tls',
    '--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', PASSWORD,
    '--from', 'alice@example.com', '--to', 'bob@example.net', '--ehlo', 'client.test',
    '--header', `Subject: ${marker}`, '--body', `Hello Bob\nline two ${marker}`, '--add-header', 'X-Test: 1']);
  assert.equal(r.code, 0, r.out);
  const id = queueIdOf(r.out);
  assert.ok(id, `queue id in the 250 reply: ${r.out}`);
  const got = await eventually(() => findMessage(mx1, marker));
  assert.equal(got.mailFrom, 'alice@example.com');
  assert.deepEqual(got.rcptTo, ['bob@example.net']);
  const text = bodyText(got);
  assert.match(text, /^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\t(.+\r\n\t)?by relay\.test \(Postlane\) [^]*?\(using TLSv1\.[23] with cipher [A-Z0-9_]+\)/, 'Received is the first header');
  assert.match(text, new RegExp(`with ESMTPSA id ${id}`));
  assert.match(text, /\r\nSubject: swaks-\d+\r\n/);
  assert.match(text, /\r\nX-Test: 1\r\n/);
  assert.ok(text.includes(`\r\n\r\nHello Bob\r\nline two ${marker}\r\n`), 'body intact with CRLF');
  assert.equal(got.tls, true, 'delivered over STARTTLS');
  const parsed = await simpleParser(got.body);
  assert.ok(parsed.messageId, 'a Message-ID exists');
  assert.ok(parsed.date, 'a Date exists');
  // the result is recorded just after the receiver's 250 (which follows its copy): wait for it
  const view = await eventually(async () => {
    const show = await relay.cli(['queue', 'show', id!, '--json']);
    assert.equal(show.code, 0, show.stderr);
    const v = JSON.parse(show.stdout);
    return v.recipients[0].state === 'delivered' ? v : null;
  }, 20_000, 200);
  assert.equal(view.attempts[0].status, 'delivered');
});

test('openssl s_client: implicit TLS on submissions and STARTTLS on submission negotiate TLS 1.2+ before the SMTP dialog', { skip: skipOpenssl }, async () => {
  const sClient = (args: string[]) => new Promise<string>((resolve) => {
    const p = execFile(OPENSSL, ['s_client', '-brief', '-ign_eof', '-crlf', '-servername', 'relay.test', ...args], { timeout: 30_000 }, (_err, stdout, stderr) => resolve(stdout + stderr));
    p.stdin!.end('QUIT\n'); // -ign_eof: after QUIT, read on until the server closes
  });
  const implicit = await sClient(['-connect', `127.0.0.1:${relay.port('submissions')}`]);
  assert.match(implicit, /Protocol version: TLSv1\.[23]/, implicit);
  assert.match(implicit, /^220 relay\.test /m, 'the greeting comes inside TLS');
  const starttls = await sClient(['-starttls', 'smtp', '-connect', `127.0.0.1:${relay.port('submission')}`]);
  assert.match(starttls, /Protocol version: TLSv1\.[23]/, starttls);
  assert.match(starttls, /^221 /m, 'the dialog goes on inside TLS');
});

test('Python smtplib: two recipient domains, one transaction each; Message-ID and Date added', { skip: skipPython }, async () => {
  const marker = `py-${Date.now()}`;
  const script = `
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="py.test")
s.starttls(context=ctx); s.ehlo("py.test"); s.login("alice", sys.argv[2])
s.sendmail("alice@example.com", ["carol@example.net", "dave@example.net", "erin@implicit.test"],
           "From: alice@example.com\\r\\nTo: carol@example.net\\r\\nSubject: ${marker}\\r\\n\\r\\nbody ${marker}\\r\\n")
s.quit()
`;
  await new Promise<void>((resolve, reject) => execFile(PYTHON3, ['-c', script, String(relay.port('submission')), PASSWORD], (err, _o, e) => (err ? reject(new Error(e)) : resolve())));
  const atNet = await eventually(() => findMessage(mx1, marker));
  assert.deepEqual([...atNet.rcptTo].sort(), ['carol@example.net', 'dave@example.net'], 'both example.net recipients in one transaction');
  const text = bodyText(atNet);
  assert.match(text, /\r\nMessage-ID: <[0-9A-Z]{20}@relay\.test>\r\n/i);
  assert.match(text, /\r\nDate: /);
  assert.ok(text.endsWith(`\r\n\r\nbody ${marker}\r\n`));
  const implicit = await eventually(() => mx1.messages.find((m) => m.rcptTo.includes('erin@implicit.test')));
  assert.ok(bodyText(implicit).includes(marker), 'implicit MX (A record) delivery');
});

test('MX fallback: the preferred MX refuses connections, the next one gets the message', async () => {
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const marker = `fallback-${Date.now()}`;
  await sub.send('alice@example.com', ['frank@fallback.test'], `Subject: ${marker}\r\n\r\n${marker}\r\n`);
  sub.close();
  const got = await eventually(() => findMessage(mx2, marker));
  assert.deepEqual(got.rcptTo, ['frank@fallback.test']);
});

test('150 KB messages arrive byte for byte: one plain (written straight to the socket), one with lines starting with a dot (stuffed on the way out)', async () => {
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const marker = `large-${Date.now()}`;
  const plain = Array.from({ length: 2000 }, (_, i) => `${marker} line ${i} ${'q'.repeat(60)}\r\n`).join('');
  const dotted = Array.from({ length: 2000 }, (_, i) => (i % 97 === 3 ? '.\r\n' : i % 89 === 5 ? '..\r\n' : i % 83 === 7 ? `.lead ${'z'.repeat(40)}\r\n` : `${marker} dot ${i} ${'w'.repeat(60)}\r\n`)).join('');
  for (const [name, body] of [['plain', plain], ['dotted', dotted]]) {
    await sub.send('alice@example.com', [`${name}@example.net`], `Subject: ${marker} ${name}\r\n\r\n${body}`);
    const got = await eventually(() => mx1.messages.find((m) => m.rcptTo[0] === `${name}@example.net` && bodyText(m).includes(`${marker} ${name}`)));
    const at = got.body.indexOf('\r\n\r\n');
    assert.ok(body.length > 150_000);
    assert.equal(got.body.subarray(at + 4).toString('latin1'), body, `${name}: the body as submitted`);
  }
  sub.close();
});

test('4xx from the receiver: deferred, retried with backoff, then delivered', async () => {
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const marker = `flaky-${Date.now()}`;
  const id = queueIdOf(await sub.send('alice@example.com', ['gina@flaky.test'], `Subject: ${marker}\r\n\r\n${marker}\r\n`));
  sub.close();
  await eventually(() => findMessage(mx2, marker), 20_000);
  const view = await eventually(async () => {
    const v = JSON.parse((await relay.cli(['queue', 'show', id!, '--json'])).stdout);
    return v.attempts.at(-1)?.status === 'delivered' ? v : null;
  }, 20_000, 200);
  assert.deepEqual(view.attempts.map((a: { status: string }) => a.status), ['deferred', 'deferred', 'delivered']);
  assert.match(view.attempts[0].response, /451/);
});

test('5xx from the receiver: bounced, and a DSN with a null sender reaches the original sender', async () => {
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const marker = `reject-${Date.now()}`;
  await sub.send('alice@example.com', ['nobody@reject.test'], `Subject: ${marker}\r\nMessage-ID: <${marker}@client.test>\r\n\r\n${marker}\r\n`);
  sub.close();
  const dsn = await eventually(() => mx1.messages.find((m) => m.mailFrom === '' && bodyText(m).includes(marker)), 20_000);
  assert.deepEqual(dsn.rcptTo, ['alice@example.com']);
  const parsed = await simpleParser(dsn.body);
  assert.match(String(parsed.headers.get('content-type') && (parsed.headers.get('content-type') as { value: string }).value), /multipart\/report/);
  const text = bodyText(dsn);
  assert.match(text, /report-type="?delivery-status"?/i);
  assert.match(text, /Final-Recipient: rfc822; ?nobody@reject\.test/i);
  assert.match(text, /Status: 5\.1\.1/);
  assert.match(text, /Action: failed/i);
  assert.match(text, new RegExp(`Message-ID: <${marker}@client.test>`), 'original headers included');
});

test('queue CLI: list, hold, release, retry and delete a deferred message on the running relay', async () => {
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const id = queueIdOf(await sub.send('alice@example.com', ['hank@stuck.test'], 'Subject: stuck\r\n\r\nstuck\r\n'))!;
  sub.close();
  await eventually(async () => {
    const rows = JSON.parse((await relay.cli(['queue', 'list', '--json'])).stdout) as { messageId: string; state: string; attempts: number }[];
    return rows.find((r) => r.messageId === id && r.state === 'deferred' && r.attempts >= 1);
  });
  const human = await relay.cli(['queue', 'list']);
  assert.match(human.stdout, new RegExp(`${id}\\s+(deferred|delivering)\\s+\\d+`), "a human-readable row (it retries every 300 ms)");
  assert.equal(JSON.parse((await relay.cli(['queue', 'list', '--limit', '1', '--json'])).stdout).length, 1, '--limit: at most that many rows');
  // A hold applies to waiting recipients; one in the middle of an attempt is held on the next try.
  await eventually(async () => (await relay.cli(['queue', 'hold', id])).code === 0);
  await eventually(async () => JSON.parse((await relay.cli(['queue', 'show', id, '--json'])).stdout).recipients[0].state === 'held');
  const attemptsHeld = JSON.parse((await relay.cli(['queue', 'show', id, '--json'])).stdout).attempts.length;
  // Meanwhile the scheduler keeps trying stuck.test (another message, not held): once that one has
  // been tried twice more, the held one would have been too.
  const probeSub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const probe = queueIdOf(await probeSub.send('alice@example.com', ['ivan@stuck.test'], 'Subject: probe\r\n\r\nprobe\r\n'))!;
  probeSub.close();
  await eventually(async () => JSON.parse((await relay.cli(['queue', 'show', probe, '--json'])).stdout).attempts.length >= 2);
  assert.equal(JSON.parse((await relay.cli(['queue', 'show', id, '--json'])).stdout).attempts.length, attemptsHeld, 'no attempts while held');
  assert.equal((await relay.cli(['queue', 'delete', probe])).code, 0);
  assert.equal((await relay.cli(['queue', 'release', id])).code, 0);
  assert.equal((await relay.cli(['queue', 'retry', '--all'])).code, 0);
  await eventually(async () => JSON.parse((await relay.cli(['queue', 'show', id, '--json'])).stdout).attempts.length > attemptsHeld);
  assert.equal((await relay.cli(['queue', 'delete', id])).code, 0);
  assert.equal((await relay.cli(['queue', 'show', id])).code, 3, 'deleted message is gone');
  assert.equal((await relay.cli(['queue', 'delete', 'NOSUCHID'])).code, 3);
});

test('null MX bounces at once without any connection', async () => {
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const marker = `nullmx-${Date.now()}`;
  await sub.send('alice@example.com', ['ivy@nullmx.test'], `Subject: ${marker}\r\n\r\n${marker}\r\n`);
  sub.close();
  const dsn = await eventually(() => mx1.messages.find((m) => m.mailFrom === '' && bodyText(m).includes(marker)), 20_000);
  assert.match(bodyText(dsn), /Status: 5\.1\.10/);
});

test('SIGTERM with mail pending (its MX down): exits 0; after the restart, with the MX up, the pending mail leaves', { skip: skipSink }, async () => {
  // Pending: later.test's MX (127.0.0.4) refuses connections, so the message is deferred.
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const marker = `pending-over-restart-${Date.now()}`;
  const id = queueIdOf(await sub.send('alice@example.com', ['pat@later.test'], `Subject: ${marker}\r\n\r\nbody ${marker} end\r\n`))!;
  sub.close();
  await eventually(async () => {
    const v = JSON.parse((await relay.cli(['queue', 'show', id, '--json'])).stdout) as { recipients: { state: string }[]; attempts: { status: string }[] };
    return v.recipients[0]!.state === 'deferred' && v.attempts.length >= 1;
  });

  const stopped = await relay.stop('SIGTERM');
  assert.equal(stopped.code, 0);
  assert.ok(relay.logs.some((l) => l.event === 'relay.stopped'));
  const before = JSON.parse((await relay.cli(['queue', 'show', id, '--json'])).stdout) as { recipients: { state: string }[]; attempts: { status: string }[] };
  assert.notEqual(before.recipients[0]!.state, 'delivered', 'still pending while the relay is down');
  assert.ok(before.attempts.every((a) => a.status !== 'delivered'));

  // The MX comes up only now, while the relay is stopped: whatever reaches it was sent after the restart.
  const sink = await startSmtpSink({ host: '127.0.0.4', port: mx1.port });
  try {
    await relay.start();
    const got = await eventually(async () => (await sink.messages()).find((m) => m.includes(`body ${marker} end`)), 30_000)
      .catch(async (err) => { throw new Error(`${err.message}: ${(await relay.cli(['queue', 'show', id, '--json'])).stdout} ${JSON.stringify(relay.logs.filter((l) => l.id === id || String(l.event).startsWith('delivery')).slice(-5))}`); });
    assert.match(got, /^X-Mail-Args: <alice@example\.com>/m);
    assert.match(got, /^X-Rcpt-Args: <pat@later\.test>/m);
    const after = await eventually(async () => {
      const v = JSON.parse((await relay.cli(['queue', 'show', id, '--json'])).stdout) as { recipients: { state: string }[]; attempts: { status: string }[] };
      return v.recipients[0]!.state === 'delivered' ? v : null;
    });
    assert.deepEqual(after.attempts.at(-1)!.status, 'delivered');
    assert.ok(after.attempts.slice(0, -1).every((a) => a.status === 'deferred'), 'deferred before the restart, delivered after');
  } finally {
    await sink.stop();
  }
});

test('logs are JSON lines and never contain the password', () => {
  const all = [...relay.previousLogs, ...relay.logs];
  assert.ok(all.length > 10);
  assert.ok(all.every((l) => typeof l.level === 'number'), 'every stdout line is a JSON log record');
  assert.ok(!JSON.stringify(all).includes(PASSWORD));
});
