// The session's quota hook: with opts.quotas, each RCPT a submission would accept becomes a
// chargeQuota action; quotaCharged() answers that RCPT. mx and sessions without quotas never charge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReply, reply } from '../../message/reply.js';
import { SmtpSession, type SessionOptions, type SessionOutput } from './session.js';

const TLS = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const wire = (o: SessionOutput) => o.replies.map(formatReply).join('');

function open(over: Partial<SessionOptions> = {}) {
  const s = new SmtpSession({
    listener: 'submission', hostname: 'relay.test', banner: 'Postlane ESMTP',
    localDomains: new Set(['relay.test']), maxMessageSize: 1000, maxRecipients: 3,
    maxBadCommands: 50, tls: null, trustedNetwork: false, quotas: true, ...over,
  });
  s.greet();
  const send = (line: string) => s.handleLine(Buffer.from(line, 'utf8'));
  send('EHLO client.test');
  return { s, send };
}

function authed(grant: Parameters<SmtpSession['authVerified']>[1], over: Partial<SessionOptions> = {}) {
  const c = open(over);
  c.send('STARTTLS');
  c.s.tlsStarted(TLS);
  c.send('EHLO client.test');
  c.send(`AUTH PLAIN ${b64('\0app\0secret')}`);
  c.s.authVerified('ok', grant);
  return c;
}

test('an authenticated RCPT is charged to the user account with the user limits; 250 once charged', () => {
  const { s, send } = authed({ allowedDomains: [], anyDomain: true, account: 'acme', limits: { perDay: 5 } });
  send('MAIL FROM:<a@acme.test>');
  const out = send('RCPT TO:<x@dest.test>');
  assert.deepEqual(out, {
    replies: [], close: false, command: 'RCPT',
    action: { type: 'chargeQuota', subject: { account: 'acme', principal: { kind: 'user', id: 'app', limits: { perDay: 5 } } }, recipient: 'x@dest.test' },
  });
  assert.equal(s.isBusy, true);
  assert.throws(() => send('DATA'), /line while waiting for quota/);
  assert.equal(wire(s.quotaCharged({ ok: true })), '250 2.1.5 Ok\r\n');
  const data = send('DATA');
  assert.equal(data.action?.type, 'receiveData');
  assert.deepEqual(data.action?.type === 'receiveData' && [data.action.transaction.recipients, data.action.transaction.account], [['x@dest.test'], 'acme']);
});

test('a refused charge answers that RCPT only; the others go through; a duplicate RCPT is not charged again', () => {
  const { s, send } = authed({ allowedDomains: [], anyDomain: true, account: 'acme' });
  send('MAIL FROM:<a@acme.test>');
  send('RCPT TO:<one@dest.test>');
  s.quotaCharged({ ok: true });
  send('RCPT TO:<two@dest.test>');
  const full = reply(452, '4.7.1', 'Account limit of 1 per second reached; try again in 1 s');
  assert.equal(wire(s.quotaCharged({ ok: false, reply: full })), '452 4.7.1 Account limit of 1 per second reached; try again in 1 s\r\n');
  assert.equal(wire(send('RCPT TO:<one@dest.test>')), '250 2.1.5 Ok\r\n', 'already accepted: no second charge');
  const three = send('RCPT TO:<three@dest.test>');
  assert.equal(three.action?.type, 'chargeQuota');
  assert.equal(wire(s.quotaCharged({ ok: false, reply: reply(451, '4.3.0', 'Temporary local problem, try again later') })), '451 4.3.0 Temporary local problem, try again later\r\n');
  const data = send('DATA');
  assert.ok(data.action?.type === 'receiveData');
  assert.deepEqual(data.action.transaction.recipients, ['one@dest.test']);
});

test('a user without a grant account is charged to default; relayNetworks clients without AUTH to default, no principal', () => {
  const a = authed(null);
  a.send('MAIL FROM:<a@b.test>');
  const out = a.send('RCPT TO:<x@dest.test>');
  assert.deepEqual(out.action, { type: 'chargeQuota', subject: { account: 'default', principal: { kind: 'user', id: 'app', limits: {} } }, recipient: 'x@dest.test' });

  const t = open({ trustedNetwork: true });
  t.send('MAIL FROM:<a@b.test>');
  const rcpt = t.send('RCPT TO:<x@dest.test>');
  assert.deepEqual(rcpt.action, { type: 'chargeQuota', subject: { account: 'default' }, recipient: 'x@dest.test' });
  t.s.quotaCharged({ ok: true });
  const data = t.send('DATA');
  assert.ok(data.action?.type === 'receiveData');
  assert.equal(data.action.transaction.account, 'default');
});

test('mx is never charged, and its transaction has no account; without opts.quotas nothing is charged', () => {
  const mx = open({ listener: 'mx' });
  mx.send('MAIL FROM:<a@remote.test>');
  assert.equal(wire(mx.send('RCPT TO:<postmaster@relay.test>')), '250 2.1.5 Ok\r\n');
  const data = mx.send('DATA');
  assert.ok(data.action?.type === 'receiveData');
  assert.equal(data.action.transaction.account, null);

  const plain = authed({ allowedDomains: [], anyDomain: true, account: 'acme' }, { quotas: false });
  plain.send('MAIL FROM:<a@acme.test>');
  assert.equal(wire(plain.send('RCPT TO:<x@dest.test>')), '250 2.1.5 Ok\r\n');
});

test('refused RCPTs (relay denied, too many recipients) are answered before any charge', () => {
  const { s, send } = authed({ allowedDomains: [], anyDomain: true, account: 'acme' });
  send('MAIL FROM:<a@acme.test>');
  for (const r of ['a', 'b', 'c']) { send(`RCPT TO:<${r}@dest.test>`); s.quotaCharged({ ok: true }); }
  assert.equal(wire(send('RCPT TO:<d@dest.test>')), '452 4.5.3 Too many recipients\r\n');
  const u = open();
  assert.equal(wire(u.send('MAIL FROM:<a@b.test>')), '530 5.7.0 Must issue a STARTTLS command first\r\n');
});

test('STARTTLS forgets the account: after TLS and a new AUTH the new grant counts', () => {
  const { s, send } = authed({ allowedDomains: [], anyDomain: true, account: 'acme' });
  assert.throws(() => s.quotaCharged({ ok: true }), /expected quota/);
  send('MAIL FROM:<a@acme.test>');
  const out = send('RCPT TO:<x@dest.test>');
  assert.equal(out.action?.type === 'chargeQuota' && out.action.subject.account, 'acme');
});

test('permanent quota refusals do not use up the error budget (the accepted recipients survive)', () => {
  const { s, send } = authed({ allowedDomains: [], anyDomain: true, account: 'acme' }, { maxBadCommands: 3, maxRecipients: 100 });
  send('MAIL FROM:<a@acme.test>');
  send('RCPT TO:<ok@dest.test>');
  s.quotaCharged({ ok: true });
  for (let i = 0; i < 10; i++) {
    send(`RCPT TO:<r${i}@dest.test>`);
    const out = s.quotaCharged({ ok: false, reply: reply(550, '5.7.1', 'Account limit of 1 per month reached; sending refused') });
    assert.equal(out.close, false);
    assert.equal(wire(out), '550 5.7.1 Account limit of 1 per month reached; sending refused\r\n');
  }
  const data = send('DATA');
  assert.ok(data.action?.type === 'receiveData');
  assert.deepEqual(data.action.transaction.recipients, ['ok@dest.test']);
});

test('a charged RCPT keeps its DSN parameters (NOTIFY/ORCPT); a refused one leaves none behind', () => {
  const { s, send } = authed({ allowedDomains: [], anyDomain: true, account: 'acme' });
  send('MAIL FROM:<a@acme.test> ENVID=e1');
  send('RCPT TO:<one@dest.test> NOTIFY=DELAY ORCPT=rfc822;one@orig.test');
  s.quotaCharged({ ok: true });
  send('RCPT TO:<two@dest.test> NOTIFY=NEVER');
  s.quotaCharged({ ok: false, reply: reply(452, '4.7.1', 'limit') });
  send('RCPT TO:<three@dest.test>');
  s.quotaCharged({ ok: true });
  const data = send('DATA');
  assert.deepEqual(data.action?.type === 'receiveData' && data.action.transaction.dsn, {
    envid: 'e1', recipients: { 'one@dest.test': { notify: ['DELAY'], orcpt: { type: 'rfc822', address: 'one@orig.test' } } },
  });
});
