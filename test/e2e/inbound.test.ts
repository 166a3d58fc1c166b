// Inbound mail on the MX listener: only local domains, never a relay; what is accepted is stored
// in dataDir/inbound with an Authentication-Results header (SPF, DKIM, DMARC, ARC via mailauth),
// verified against records served by the test DNS server. What the relay verifies is signed and
// sealed by python3-dkim, not by mailauth: a verifier sharing the signer's code proves nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { pythonArcSign, pythonArcVerify, pythonDkimSign } from '../helpers/python-dkim.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';

function sendPlain(port: number, from: string, to: string[], body: string): Promise<string> {
  const conn = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, name: 'mta.sender.test' });
  return new Promise<string>((resolve, reject) => {
    conn.on('error', reject);
    conn.connect(() => conn.send({ from, to }, body, (err, info) => {
      conn.quit();
      if (err) reject(err); else resolve(info.response);
    }));
  });
}

const skipPython = await skipUnless(TOOLS.pythonDkim);

test('a signed bounce from an SPF-authorised host is stored with spf=pass dkim=pass dmarc=pass', { skip: skipPython }, async (t) => {
  const dns = await startDnsServer();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  dns.setZone({
    'sender.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    'sel._domainkey.sender.test': { TXT: [[`v=DKIM1; k=rsa; p=${pub.slice(0, 200)}`, pub.slice(200)]] },
    '_dmarc.sender.test': { TXT: ['v=DMARC1; p=reject'] },
    'forged.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
    '_dmarc.forged.test': { TXT: ['v=DMARC1; p=reject'] },
  });
  const relay = await RelayProcess.create({ dns: { servers: [`127.0.0.1:${dns.port}`] }, localDomains: ['bounces.relay.test'] });
  t.after(async () => { await relay.cleanup(); await dns.close(); });
  await relay.start();
  const mxPort = relay.port('mx');

  const message = 'From: mailer@sender.test\r\nTo: bounce+abc@bounces.relay.test\r\nSubject: report\r\n' +
    'Message-ID: <r1@sender.test>\r\nDate: Sat, 28 Nov 2026 08:00:00 +0000\r\n\r\nDelivery report\r\n';
  const keyFile = path.join(relay.dir, 'dkim-key.pem');
  await fs.writeFile(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
  const signed = await pythonDkimSign(Buffer.from(message), { selector: 'sel', domain: 'sender.test', keyFile });
  assert.match(signed.toString(), /^DKIM-Signature: /);
  const reply = await sendPlain(mxPort, 'mailer@sender.test', ['bounce+abc@bounces.relay.test'], signed.toString());
  const id = /queued as (\w+)/.exec(reply)![1]!;
  const file = path.join(relay.dir, 'data', 'inbound', `${id}.eml`);
  const stored = await eventually(() => fs.readFile(file, 'utf8').catch(() => null));
  assert.match(stored, /^Received-SPF: pass/m);
  assert.match(stored, /Authentication-Results: relay\.test;/);
  assert.match(stored, /dkim=pass header\.i=@sender\.test header\.s=sel/);
  assert.match(stored, /spf=pass/);
  assert.match(stored, /dmarc=pass/);
  assert.ok(stored.endsWith('\r\n\r\nDelivery report\r\n'));
  const log = await relay.waitForLog((l) => l.event === 'inbound.authenticated' && l.id === id);
  assert.equal(log.spf, 'pass');
  assert.equal(log.dmarc, 'pass');

  // Forged sender: an unsigned message claiming a domain whose SPF does not list us.
  const reply2 = await sendPlain(mxPort, 'x@forged.test', ['postmaster@relay.test'], 'From: x@forged.test\r\nSubject: forged\r\n\r\nhi\r\n');
  const id2 = /queued as (\w+)/.exec(reply2)![1]!;
  const stored2 = await eventually(() => fs.readFile(path.join(relay.dir, 'data', 'inbound', `${id2}.eml`), 'utf8').catch(() => null));
  assert.match(stored2, /spf=fail/);
  assert.match(stored2, /dmarc=fail/);

  // And the MX port never relays.
  await assert.rejects(sendPlain(mxPort, 'x@sender.test', ['victim@elsewhere.test'], 'Subject: relay?\r\n\r\nx\r\n'), (err: Error & { responseCode?: number }) => {
    assert.equal(err.responseCode, 550);
    return true;
  });
});

// ARC (RFC 8617) as the README claims it for inbound mail, checked against an independent
// implementation: python3-dkim seals the message as a forwarder would (forwarder.test, with the
// test's own key served by the test DNS server), and the relay's stored Authentication-Results
// must say arc=pass; the same sealed message changed in transit must say arc=fail.
test('a message ARC-sealed by python3-dkim is stored with arc=pass; changed after sealing, arc=fail', { skip: skipPython }, async (t) => {
  const dns = await startDnsServer();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  dns.setZone({
    'arc._domainkey.forwarder.test': { TXT: [[`v=DKIM1; k=rsa; p=${pub.slice(0, 200)}`, pub.slice(200)]] },
    'forwarder.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
  });
  const relay = await RelayProcess.create({ dns: { servers: [`127.0.0.1:${dns.port}`] }, localDomains: ['bounces.relay.test'] });
  t.after(async () => { await relay.cleanup(); await dns.close(); });
  const keyFile = path.join(relay.dir, 'arc-key.pem');
  await fs.writeFile(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
  await relay.start();

  // What the forwarder received and authenticated (its own Authentication-Results), then sealed.
  const original = 'Authentication-Results: forwarder.test; spf=pass smtp.mailfrom=list@origin.test\r\n' +
    'From: list@origin.test\r\nTo: bounce+arc@bounces.relay.test\r\nSubject: forwarded report\r\n' +
    'Message-ID: <arc1@origin.test>\r\nDate: Sat, 28 Nov 2026 08:00:00 +0000\r\n\r\nForwarded through an ARC-sealing list.\r\n';
  const sealed = await pythonArcSign(Buffer.from(original), { selector: 'arc', domain: 'forwarder.test', keyFile, authservId: 'forwarder.test' });
  assert.match(sealed.toString(), /^ARC-Seal: i=1; /m);
  assert.equal((await pythonArcVerify(dns.port, sealed)).cv, 'pass', 'dkimpy validates its own seal through the test DNS');
  const tampered = Buffer.from(sealed.toString().replace('ARC-sealing list.', 'ARC-sealing list, then changed.'));
  assert.equal((await pythonArcVerify(dns.port, tampered)).cv, 'fail', 'dkimpy rejects the changed copy');

  const stored = async (message: Buffer) => {
    const reply = await sendPlain(relay.port('mx'), 'list@forwarder.test', ['bounce+arc@bounces.relay.test'], message.toString());
    const id = /queued as (\w+)/.exec(reply)![1]!;
    return eventually(() => fs.readFile(path.join(relay.dir, 'data', 'inbound', `${id}.eml`), 'utf8').catch(() => null));
  };
  const ours = (eml: string) => /^Authentication-Results: relay\.test;[^]*?(?=\r\n\S)/m.exec(eml)?.[0] ?? '';
  const good = await stored(sealed);
  assert.match(ours(good), /\barc=pass\b/, ours(good));
  const bad = await stored(tampered);
  assert.match(ours(bad), /\barc=fail\b/, ours(bad));
});

// Postfix's smtp-source as the sending MTA: an independent client (its own pipelining and DATA
// framing), several sessions at once against the MX listener. Every message it was answered 250
// for is stored, once.
const skipSource = await skipUnless(TOOLS.smtpSource);

test('Postfix smtp-source: 20 messages over 4 concurrent sessions to the MX listener are all stored', { skip: skipSource }, async (t) => {
  const dns = await startDnsServer();
  dns.setZone({ 'source.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] } });
  const relay = await RelayProcess.create({ dns: { servers: [`127.0.0.1:${dns.port}`] }, localDomains: ['bounces.relay.test'] });
  t.after(async () => { await relay.cleanup(); await dns.close(); });
  await relay.start();
  const bin = (await toolPath(TOOLS.smtpSource))!;
  const out = await new Promise<{ code: number; text: string }>((resolve) => execFile(bin,
    ['-m', '20', '-s', '4', '-l', '2048', '-f', 'mailer@source.test', '-t', 'bounce+src@bounces.relay.test', '-S', 'smtp-source load', '-M', 'mta.source.test', `127.0.0.1:${relay.port('mx')}`],
    { timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, text: stdout + stderr })));
  assert.equal(out.code, 0, out.text);
  const dir = path.join(relay.dir, 'data', 'inbound');
  const stored = await eventually(async () => {
    // Only finished copies: a .tmp file may be renamed away between the listing and the read.
    const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml'));
    const bodies = await Promise.all(files.map((f) => fs.readFile(path.join(dir, f), 'utf8')));
    const ours = bodies.filter((b) => /^Subject: smtp-source load\r$/m.test(b));
    return ours.length >= 20 ? ours : null;
  }, 60_000, 200);
  assert.equal(stored.length, 20, 'each message stored once');
  assert.ok(stored.every((b) => /\bspf=pass\b/.test(b)), 'authenticated like any inbound mail');
  assert.equal(relay.logs.filter((l) => l.event === 'smtp.accepted' && l.listener === 'mx').length, 20);
});
