// Independent SMTP client implementations against the ingress: Python's smtplib (STARTTLS +
// login + sendmail) and nodemailer's SMTPConnection (implicit TLS). What they send must land in
// the queue intact.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Submitter, queueIdOf } from '../helpers/smtp-client.js';
import { startHarness, type Harness } from './harness.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';

const run = promisify(execFile);
const skipPython = await skipUnless(TOOLS.python3);
const PYTHON3 = (await toolPath(TOOLS.python3)) ?? 'python3';
let h: Harness;
before(async () => { h = await startHarness(); });
after(async () => { await h.close(); });

const PYTHON = `
import smtplib, ssl, sys
port = int(sys.argv[1])
msg = "From: alice@example.com\\r\\nTo: py@dest.example\\r\\nSubject: from smtplib\\r\\n\\r\\nHello from Python.\\r\\n.leading dot\\r\\n"
with smtplib.SMTP("127.0.0.1", port, local_hostname="py.client.test", timeout=10) as s:
    s.starttls(context=ssl._create_unverified_context())
    s.login("alice", sys.argv[2])
    refused = s.sendmail("alice@example.com", ["py@dest.example", "py2@dest.example"], msg)
    assert refused == {}, refused
    code, text = s.noop()
print("ok")
`;

test('Python smtplib: STARTTLS, login, sendmail', { skip: skipPython }, async () => {
  const { stdout } = await run(PYTHON3, ['-c', PYTHON, String(h.port('submission')), 'secret'], { timeout: 20_000 });
  assert.equal(stdout.trim(), 'ok');
  const rows = await h.store.listRecipients({ includeFinal: true });
  const id = rows.find((r) => r.address === 'py@dest.example')!.messageId;
  const m = await h.store.getMessage(id);
  assert.equal(m?.mailFrom, 'alice@example.com');
  assert.deepEqual(m?.recipients.map((r) => r.address), ['py@dest.example', 'py2@dest.example']);
  assert.deepEqual(m?.origin, { listener: 'submission', clientIp: '127.0.0.1', user: 'alice', helo: 'py.client.test' });
  const body = await h.body(id);
  assert.match(body, /^Received: from py\.client\.test \(\[127\.0\.0\.1\]\)\r\n\tby relay\.test \(Postlane\) with ESMTPSA id \w+\r\n\t\(using TLSv1\.[23] with cipher [\w-]+\);\r\n\t\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n/);
  assert.ok(!body.slice(0, body.indexOf('\r\nFrom: ')).includes('alice'), 'the Received header does not reveal the AUTH user');
  assert.match(body, /\r\nSubject: from smtplib\r\nMessage-ID: <\w+@relay\.test>\r\nDate: .+\r\n\r\nHello from Python\.\r\n\.leading dot\r\n$/);
});

test('nodemailer SMTPConnection over implicit TLS, two messages on one connection', async () => {
  const sub = new Submitter({ port: h.port('submissions'), secure: true, user: 'alice', pass: 'secret' });
  try {
    const first = queueIdOf(await sub.send('alice@example.com', ['nm@dest.example'], 'Subject: one\r\nMessage-ID: <mine@example.com>\r\n\r\nbody one\r\n'));
    const second = queueIdOf(await sub.send('alice@example.com', ['nm@dest.example'], 'Subject: two\r\n\r\nbody two\r\n'));
    assert.ok(first && second);
    const one = await h.body(first!);
    assert.equal(one.match(/Message-ID:/g)?.length, 1, 'an existing Message-ID is kept, not duplicated');
    assert.match(one, /Message-ID: <mine@example\.com>\r\nDate: .+\r\n\r\nbody one\r\n$/);
    assert.match(await h.body(second!), /Subject: two\r\nMessage-ID: <\w+@relay\.test>\r\nDate: .+\r\n\r\nbody two\r\n$/);
  } finally {
    sub.close();
  }
});
