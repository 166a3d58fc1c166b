// A user's default stream, end to end: `users add --stream broadcast` (and `users stream`) makes
// that user's SMTP submissions broadcast unless they say X-Postlane-Stream, so they get the
// one-click unsubscribe fields and broadcast events; its transactional messages (the header) and
// another user's messages do not. Python's smtplib submits; the test MX receives.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually } from '../helpers/relay-process.js';
import { createRig } from '../helpers/relay-rig.js';
import { DEBIAN_PYTHON, TOOLS, requireTools } from '../helpers/require-tool.js';

const run = promisify(execFile);

/** Submits with Python's smtplib over STARTTLS on the submission port. */
async function smtplibSend(port: number, user: string, subject: string, extra = ''): Promise<void> {
  const script = `
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)
s.starttls(context=ctx); s.login(sys.argv[2], 'pass-' + sys.argv[2])
msg = 'From: ' + sys.argv[2] + '@acme.test\\r\\nTo: bob@dest.test\\r\\nSubject: ' + sys.argv[3] + '\\r\\n' + sys.argv[4] + '\\r\\nHello.\\r\\n'
s.sendmail(sys.argv[2] + '@acme.test', ['bob@dest.test'], msg)
s.quit()
`;
  await run(DEBIAN_PYTHON, ['-c', script, String(port), user, subject, extra]);
}

test('a user\'s default stream: broadcast unless the message says otherwise; other users unchanged', async (t) => {
  if (!(await requireTools(t, TOOLS.python3))) return;
  const { mx, relay, ok } = await createRig(t, { config: { publicUrl: 'https://links.relay.test' } });
  const add = async (args: string[]) => (await ok(...args)).stdout;
  await add(['domains', 'add', 'acme.test', '--json']);
  assert.match(await add(['users', 'add', 'news', '--password', 'pass-news', '--domain', 'acme.test', '--stream', 'broadcast']), /its mail is broadcast unless it says X-Postlane-Stream: transactional/);
  await add(['users', 'add', 'app', '--password', 'pass-app', '--domain', 'acme.test']);
  await add(['users', 'add', 'later', '--password', 'pass-later', '--domain', 'acme.test']);
  assert.equal((await add(['users', 'stream', 'later', 'broadcast'])).trim(), 'user later: messages without X-Postlane-Stream are broadcast');
  const bad = await relay.cli(['users', 'stream', 'later', 'bulk']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid stream "bulk" \(transactional or broadcast\)/);
  const listed = JSON.parse(await add(['users', 'list', '--json'])) as { name: string; defaultStream: string }[];
  assert.deepEqual(listed.map((u) => [u.name, u.defaultStream]), [['app', 'transactional'], ['later', 'broadcast'], ['news', 'broadcast']]);
  await relay.start();

  const port = relay.port('submission');
  await smtplibSend(port, 'news', 'news default');
  await smtplibSend(port, 'news', 'news receipt', 'X-Postlane-Stream: transactional');
  await smtplibSend(port, 'app', 'app default');
  await smtplibSend(port, 'later', 'later default');
  const received = (subject: string) => eventually(() => mx.messages.find((m) => m.body.toString().includes(`Subject: ${subject}\r\n`))).then((m) => m.body.toString());
  const unsubscribe = /^List-Unsubscribe: <https:\/\/links\.relay\.test\/u\/[^>]+>/mi;
  assert.match(await received('news default'), unsubscribe, 'the broadcast user\'s message is broadcast: one-click unsubscribe added');
  assert.match(await received('later default'), unsubscribe, 'users stream changes the default');
  for (const subject of ['news receipt', 'app default']) {
    const body = await received(subject);
    assert.doesNotMatch(body, /List-Unsubscribe/i, `${subject}: transactional`);
    assert.doesNotMatch(body, /X-Postlane-Stream/i, 'the request field never leaves the relay');
  }
});
