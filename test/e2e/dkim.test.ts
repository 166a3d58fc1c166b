// Sending domains end to end: `postlane domains add` creates RSA + Ed25519 keys, the records it
// prints are published in the test DNS server, and mail submitted by a user authorised for the
// domain arrives at the MX signed twice; both signatures verify with the independent python3-dkim
// (not with mailauth: the relay signs with mailauth, and a verifier sharing the signer's code would
// share its bugs). A user cannot send as a domain it was not granted (MAIL FROM or From:).
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { Submitter } from '../helpers/smtp-client.js';
import { ALICE, startMailRig } from '../helpers/relay-rig.js';
import { pythonVerify } from '../helpers/python-dkim.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';

const skip = await skipUnless(TOOLS.pythonDkim);

test('DKIM-signed at acceptance (RSA + Ed25519), verified by python3-dkim; spoofing refused', { skip }, async (t) => {
  const { dns, mx, relay } = await startMailRig(t, {
    mx: { behaviour: { rcpt: (a: string) => (a === 'nobody@dest.test' ? { code: 550, message: '5.1.1 No such user' } : null) } },
    mxDomains: ['dest.test', 'acme.test'], config: { domains: { bounceDomain: { label: 'bounces', target: 'relay.test' } } },
    provision: async (r) => { for (const domain of ['acme.test', 'other.test', 'relay.test']) await r.relay.addSigningDomain(r.dns, domain); },
  });
  const sub = () => new Submitter({ port: relay.port('submission'), user: ALICE.user, pass: ALICE.pass });

  const s = sub();
  const message = 'From: Alice <alice@acme.test>\r\nTo: bob@dest.test\r\nSubject: signed\r\n' +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob\r\n';
  await s.send('alice@acme.test', ['bob@dest.test'], message);
  s.close();
  const got = await eventually(() => mx.messages.find((m) => m.body.toString().includes('Hello Bob')));
  const text = got.body.toString();
  assert.match(text, /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=acme\.test;/);
  assert.match(text, /DKIM-Signature: v=1; a=ed25519-sha256;/);
  // The return-path is in the bounce domain of acme.test (aligned for SPF), naming the message.
  assert.match(got.mailFrom, /^bounce\+[0-9A-Z]{20}\.[a-z2-7]{10}@bounces\.acme\.test$/);
  // ... and a bounce sent there comes back to the relay's MX listener, stored locally.
  const mxConn = new (await import('nodemailer/lib/smtp-connection')).default({ host: '127.0.0.1', port: relay.port('mx'), ignoreTLS: true });
  const back = await new Promise<string>((resolve, reject) => {
    mxConn.on('error', reject);
    mxConn.connect(() => mxConn.send({ from: '', to: [got.mailFrom] }, 'Subject: bounce\r\n\r\nx\r\n', (err, info) => { mxConn.quit(); if (err) reject(err); else resolve(info.response); }));
  });
  assert.match(back, /^250 /);

  assert.deepEqual(await pythonVerify(dns.port, got.body, 2), ['pass', 'pass'], 'python3-dkim verifies both');

  // A bounce Postlane generates is signed as the relay's own domain (its hostname, relay.test).
  const b = sub();
  await b.send('alice@acme.test', ['nobody@dest.test'], 'From: alice@acme.test\r\nSubject: to nobody\r\n\r\nlost\r\n');
  b.close();
  const dsn = await eventually(() => mx.messages.find((m) => m.mailFrom === '' && m.rcptTo[0] === 'alice@acme.test'));
  assert.match(dsn.body.toString(), /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=relay\.test;/);
  assert.deepEqual(await pythonVerify(dns.port, dsn.body, 2), ['pass', 'pass'], 'python3-dkim verifies the DSN');

  // Spoofing: MAIL FROM in a domain alice was not granted → 550 5.7.1 at MAIL FROM.
  const spoof = sub();
  await assert.rejects(spoof.send('alice@other.test', ['bob@dest.test'], 'Subject: x\r\n\r\nx\r\n'),
    (err: Error & { responseCode?: number; response?: string }) => err.responseCode === 550 && /5\.7\.1/.test(err.response ?? ''));
  spoof.close();
  // ... and the From: header of another domain → 550 5.7.1 after DATA; nothing is queued.
  const spoof2 = sub();
  await assert.rejects(spoof2.send('alice@acme.test', ['bob@dest.test'], 'From: ceo@other.test\r\nSubject: pay\r\n\r\nwire money\r\n'),
    (err: Error & { responseCode?: number; response?: string }) => err.responseCode === 550 && /From: header/.test(err.response ?? ''));
  spoof2.close();
  // Nothing was queued: once a later message has been delivered, the queue holds nothing else and
  // the MX never saw the refused one (a queued copy would be in one place or the other).
  const later = sub();
  await later.send('alice@acme.test', ['bob@dest.test'], 'From: alice@acme.test\r\nSubject: later\r\n\r\nafter the refusals\r\n');
  later.close();
  await eventually(() => mx.messages.find((m) => m.body.toString().includes('after the refusals')));
  const queued = await eventually(async () => {
    const rows = JSON.parse((await relay.cli(['queue', 'list', '--json'])).stdout) as unknown[];
    return rows.length === 0 ? rows : null;
  });
  assert.deepEqual(queued, []);
  assert.ok(!mx.messages.some((m) => m.body.toString().includes('wire money')));
});
