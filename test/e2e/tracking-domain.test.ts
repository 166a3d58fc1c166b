// An account's own tracking domain, end to end: `postlane accounts tracking-domain` sets it and
// checks its CNAME against the test DNS server (missing, pointing elsewhere, right); mail accepted
// afterwards carries its pixel, click redirects and List-Unsubscribe URL on that host (publicUrl's
// scheme and port), signed after the rewrite (python3-dkim); curl, resolving the tracking domain to
// the relay, follows a click to the original URL and the click is recorded; --clear goes back to
// publicUrl's host.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import MailComposer from 'nodemailer/lib/mail-composer';
import { eventually } from '../helpers/relay-process.js';
import { Submitter } from '../helpers/smtp-client.js';
import { ALICE, createRig } from '../helpers/relay-rig.js';
import { pythonVerify } from '../helpers/python-dkim.js';
import { TOOLS, requireTools, toolPath } from '../helpers/require-tool.js';
import { freePort } from '../helpers/free-port.js';

const run = promisify(execFile);

test('an account\'s tracking domain: CNAME check, links and List-Unsubscribe on it, a click through it, --clear', async (t) => {
  if (!(await requireTools(t, TOOLS.curl, TOOLS.pythonDkim))) return;
  const curl = (await toolPath(TOOLS.curl))!;
  const httpPort = await freePort();
  const { dns, mx, relay, ok, out } = await createRig(t, { config: { http: { host: '127.0.0.1', port: httpPort }, publicUrl: `http://links.relay.test:${httpPort}` } });
  await relay.addSigningDomain(dns, 'acme.test', ['--key', 'ed25519', '--selector', 's1']);
  await ok('users', 'add', ALICE.user, '--password', ALICE.pass, '--domain', ALICE.domain);
  const key = await out('keys', 'create', '--scope', 'admin');

  // Set before its DNS exists: accepted, with the record to publish and what DNS says now.
  const set = await relay.cli(['accounts', 'tracking-domain', 'default', 'Track.Acme.test.']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, new RegExp(`links use http://track\\.acme\\.test:${httpPort}\\n`));
  assert.match(set.stdout, /^publish: track\.acme\.test\. CNAME links\.relay\.test\.$/m);
  assert.match(set.stdout, /^DNS: track\.acme\.test: no CNAME record yet$/m);
  dns.set('track.acme.test', 'CNAME', ['elsewhere.test']);
  const wrong = JSON.parse((await relay.cli(['accounts', 'tracking-domain', 'default', '--json'])).stdout) as { dns: { ok: boolean; text: string } };
  assert.deepEqual(wrong.dns, { ok: false, text: 'track.acme.test is a CNAME to elsewhere.test, not links.relay.test' });
  dns.set('track.acme.test', 'CNAME', ['links.relay.test']);
  const shown = await relay.cli(['accounts', 'tracking-domain', 'default']);
  assert.match(shown.stdout, /^DNS: ok \(track\.acme\.test is a CNAME to links\.relay\.test\)$/m, shown.stdout);
  const bad = await relay.cli(['accounts', 'tracking-domain', 'default', 'not a host']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid tracking domain "not a host"/);
  const listed = JSON.parse((await relay.cli(['accounts', 'list', '--json'])).stdout) as { name: string; trackingDomain: string | null }[];
  assert.equal(listed.find((a) => a.name === 'default')?.trackingDomain, 'track.acme.test');

  await relay.start();
  const submitter = new Submitter({ port: relay.port('submission'), user: ALICE.user, pass: ALICE.pass });
  t.after(() => submitter.close());
  const send = async (subject: string) => {
    const raw = await new MailComposer({
      from: 'alice@acme.test', to: 'bob@dest.test', subject, text: 'Sale: https://shop.acme.test/sale',
      html: '<p>Sale: <a href="https://shop.acme.test/sale?x=1">shop</a></p>',
      headers: { 'X-Postlane-Track': 'opens, clicks', 'X-Postlane-Stream': 'broadcast' },
    }).compile().build();
    await submitter.send('alice@acme.test', ['bob@dest.test'], raw);
    return (await eventually(() => mx.messages.find((m) => m.body.toString().includes(`Subject: ${subject}\r\n`)))).body.toString();
  };

  const body = await send('on the tracking domain');
  const host = `http://track\\.acme\\.test:${httpPort}`;
  const unfolded = body.replace(/\r\n[ \t]+/g, ' ').replace(/=\r\n/g, '').replace(/=3D/g, '=');
  const click = new RegExp(`href="(${host}/t/c/[^"]+)"`).exec(unfolded)?.[1];
  assert.ok(click, 'the link goes through the tracking domain');
  assert.match(unfolded, new RegExp(`<img src="${host}/t/o/[^"]+\\.gif"`), 'the pixel is on the tracking domain');
  assert.match(unfolded, new RegExp(`^List-Unsubscribe: <${host}/u/[^>]+>`, 'mi'), 'so is the one-click unsubscribe URL');
  assert.doesNotMatch(unfolded, /links\.relay\.test/, 'publicUrl\'s host appears nowhere');
  assert.deepEqual(await pythonVerify(dns.port, Buffer.from(body), 1), ['pass'], 'python3-dkim verifies the rewritten message');

  // curl resolves the tracking domain to the relay, as the CNAME would: the redirect is the original link.
  const followed = await run(curl, ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '-A', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    '--resolve', `track.acme.test:${httpPort}:127.0.0.1`, click]);
  assert.equal(followed.stdout, '302 https://shop.acme.test/sale?x=1');
  const events = async () => (await (await fetch(`http://127.0.0.1:${httpPort}/v1/events?type=clicked`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: { recipient: string }[] };
  assert.equal((await eventually(async () => ((await events()).data.length ? events() : null))).data[0]!.recipient, 'bob@dest.test');

  // --clear: mail accepted once the relay's account cache has expired (5 s) uses publicUrl again.
  const cleared = await relay.cli(['accounts', 'tracking-domain', 'default', '--clear']);
  assert.match(cleared.stdout, new RegExp(`links use publicUrl \\(http://links\\.relay\\.test:${httpPort}\\)`));
  let n = 0;
  await eventually(async () => (await send(`after clear ${++n}`)).replace(/=\r\n/g, '').includes(`http://links.relay.test:${httpPort}/t/o/`) || null, 30_000, 1000);
});
