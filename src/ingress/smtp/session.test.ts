import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReply } from '../../message/reply.js';
import { SmtpSession, type SessionOptions, type SessionOutput } from './session.js';

const TLS = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function open(over: Partial<SessionOptions> = {}) {
  const s = new SmtpSession({
    listener: 'submission', hostname: 'relay.test', banner: 'Postlane ESMTP',
    localDomains: new Set(['relay.test', 'bounces.test']), maxMessageSize: 1000, maxRecipients: 3,
    maxBadCommands: 50, tls: null, trustedNetwork: false, ...over,
  });
  const greeting = wire(s.greet());
  return { s, greeting, send: (line: string | Buffer) => s.handleLine(Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8')) };
}
const wire = (o: SessionOutput) => o.replies.map(formatReply).join('');

/** A submission session through STARTTLS and AUTH PLAIN as alice. */
function authed(over: Partial<SessionOptions> = {}) {
  const c = open(over);
  c.send('EHLO client.test');
  c.send('STARTTLS');
  c.s.tlsStarted(TLS);
  c.send('EHLO client.test');
  c.send(`AUTH PLAIN ${b64('\0alice\0secret')}`);
  c.s.authVerified('ok');
  return c;
}

test('greeting and EHLO on plaintext submission: STARTTLS offered, AUTH not', () => {
  const { greeting, send } = open();
  assert.equal(greeting, '220 relay.test Postlane ESMTP\r\n');
  assert.equal(wire(send('EHLO client.test')), '250-relay.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n' +
    '250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n250 STARTTLS\r\n');
});

test('STARTTLS resets the session; after TLS AUTH is offered and STARTTLS is not', () => {
  const { s, send } = open();
  assert.equal(wire(send('STARTTLS')), '503 Send EHLO first\r\n');
  send('EHLO client.test');
  assert.equal(wire(send('STARTTLS now')), '501 5.5.4 Syntax: STARTTLS\r\n');
  const out = send('STARTTLS');
  assert.equal(wire(out), '220 2.0.0 Ready to start TLS\r\n');
  assert.deepEqual(out.action, { type: 'startTls' });
  assert.throws(() => send('EHLO early'), /line while waiting for tls/);
  assert.deepEqual(s.tlsStarted(TLS).replies, []);
  assert.equal(wire(send('MAIL FROM:<a@b.example>')), '503 Send HELO/EHLO first\r\n', 'EHLO again is required (RFC 3207)');
  assert.equal(wire(send('EHLO client.test')), '250-relay.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n' +
    '250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n250-AUTH PLAIN LOGIN\r\n250 REQUIRETLS\r\n');
  assert.equal(wire(send('STARTTLS')), '503 5.5.1 TLS already active\r\n');
});

test('no AUTH and no MAIL before TLS on submission', () => {
  const { send } = open({ listener: 'alt' });
  send('EHLO client.test');
  assert.equal(wire(send(`AUTH PLAIN ${b64('\0alice\0secret')}`)), '538 5.7.11 Encryption required for requested authentication mechanism\r\n');
  assert.equal(wire(send('MAIL FROM:<a@b.example>')), '530 5.7.0 Must issue a STARTTLS command first\r\n');
});

test('MAIL before AUTH after TLS: 530 5.7.0', () => {
  const { s, send } = open();
  send('EHLO client.test');
  send('STARTTLS');
  s.tlsStarted(TLS);
  send('EHLO client.test');
  assert.equal(wire(send('MAIL FROM:<a@b.example>')), '530 5.7.0 Authentication required\r\n');
});

test('AUTH PLAIN with an initial response', () => {
  const { s, send } = open({ listener: 'submissions', tls: TLS });
  send('EHLO client.test');
  const out = send(`AUTH PLAIN ${b64('\0alice\0pä ss')}`);
  assert.deepEqual(out, { replies: [], close: false, action: { type: 'verifyAuth', user: 'alice', password: 'pä ss' }, command: 'AUTH' });
  assert.equal(wire(s.authVerified('ok')), '235 2.7.0 Authentication successful\r\n');
  assert.equal(s.user, 'alice');
  assert.equal(wire(send(`AUTH PLAIN ${b64('\0alice\0x')}`)), '503 5.5.1 Already authenticated\r\n');
});

test('AUTH PLAIN with a 334 continuation; authzid must match', () => {
  const { s, send } = open({ listener: 'submissions', tls: TLS });
  send('EHLO client.test');
  assert.equal(wire(send('AUTH PLAIN')), '334 \r\n');
  assert.deepEqual(send(b64('alice\0alice\0pw')).action, { type: 'verifyAuth', user: 'alice', password: 'pw' });
  assert.equal(wire(s.authVerified('failed')), '535 5.7.8 Authentication credentials invalid\r\n');
  assert.equal(wire(send(`AUTH PLAIN ${b64('bob\0alice\0pw')}`)), '535 5.7.8 Authentication credentials invalid\r\n');
  assert.equal(wire(send(`AUTH PLAIN ${b64('alice:pw')}`)), '501 5.5.2 Invalid AUTH PLAIN data\r\n');
  assert.equal(wire(send('AUTH PLAIN =')), '501 5.5.2 Invalid AUTH PLAIN data\r\n');
});

test('AUTH LOGIN, with and without an initial user name', () => {
  const { s, send } = open({ listener: 'submissions', tls: TLS });
  send('EHLO client.test');
  assert.equal(wire(send('AUTH LOGIN')), '334 VXNlcm5hbWU6\r\n');
  assert.equal(wire(send(b64('alice'))), '334 UGFzc3dvcmQ6\r\n');
  assert.deepEqual(send(b64('secret')).action, { type: 'verifyAuth', user: 'alice', password: 'secret' });
  s.authVerified('failed');
  assert.equal(wire(send(`AUTH login ${b64('bob')}`)), '334 UGFzc3dvcmQ6\r\n');
  assert.deepEqual(send(b64('pw')).action, { type: 'verifyAuth', user: 'bob', password: 'pw' });
});

test('AUTH: cancel, bad base64, unknown mechanism, lockout', () => {
  const { s, send } = open({ listener: 'submissions', tls: TLS });
  send('EHLO client.test');
  send('AUTH LOGIN');
  assert.equal(wire(send('*')), '501 5.0.0 Authentication canceled\r\n');
  assert.equal(wire(send('NOOP')), '250 2.0.0 Ok\r\n', 'back to commands after a cancel');
  send('AUTH PLAIN');
  assert.equal(wire(send('not base64!')), '501 5.5.2 Invalid base64 data\r\n');
  assert.equal(wire(send('AUTH PLAIN abc')), '501 5.5.2 Invalid base64 data\r\n');
  assert.equal(wire(send('AUTH CRAM-MD5')), '504 5.5.4 Unrecognized authentication type\r\n');
  assert.equal(wire(send('AUTH')), '501 5.5.4 Syntax: AUTH <mechanism> [initial-response]\r\n');
  send(`AUTH PLAIN ${b64('\0alice\0pw')}`);
  assert.equal(wire(s.authVerified('error')), '454 4.7.0 Temporary authentication failure\r\n');
  send(`AUTH PLAIN ${b64('\0alice\0pw')}`);
  const locked = s.authVerified('locked');
  assert.equal(wire(locked), '421 4.7.0 Too many failed authentications, try again later\r\n');
  assert.equal(locked.close, true);
});

test('a transaction: MAIL, RCPT, DATA, queued', () => {
  const { s, send } = authed();
  assert.equal(wire(send('MAIL FROM:<Alice@Example.COM> SIZE=500 BODY=8BITMIME')), '250 2.1.0 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<bob@dest.example>')), '250 2.1.5 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<carol@dest.example>')), '250 2.1.5 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<bob@DEST.example>')), '250 2.1.5 Ok\r\n', 'a duplicate is accepted once');
  const data = send('DATA');
  assert.equal(wire(data), '354 End data with <CR><LF>.<CR><LF>\r\n');
  assert.deepEqual(data.action, { type: 'receiveData', transaction: {
    mailFrom: 'Alice@example.com', recipients: ['bob@dest.example', 'carol@dest.example'], smtputf8: false,
    helo: 'client.test', esmtp: true, tls: TLS, user: 'alice', grant: null, submission: true, account: 'default',
  } });
  assert.equal(wire(s.dataFinished({ queuedAs: '01ABCDEFGHJKMNPQRSTV' })), '250 2.0.0 Ok: queued as 01ABCDEFGHJKMNPQRSTV\r\n');
  assert.equal(wire(send('RCPT TO:<bob@dest.example>')), '503 5.5.1 Need MAIL command\r\n', 'the transaction is over');
  assert.equal(wire(send('MAIL FROM:<>')), '250 2.1.0 Ok\r\n');
  send('RCPT TO:<bob@dest.example>');
  send('DATA');
  assert.equal(wire(s.dataFinished({ reply: { code: 552, enhanced: '5.3.4', text: 'Message too big' } })), '552 5.3.4 Message too big\r\n');
});

test('MAIL and RCPT errors', () => {
  const { send } = authed();
  assert.equal(wire(send('RCPT TO:<bob@dest.example>')), '503 5.5.1 Need MAIL command\r\n');
  assert.equal(wire(send('DATA')), '503 5.5.1 Need MAIL command\r\n');
  assert.equal(wire(send('MAIL FROM:alice@example.com')), '501 5.1.7 Bad sender address syntax\r\n');
  assert.equal(wire(send('MAIL TO:<alice@example.com>')), '501 5.1.7 Bad sender address syntax\r\n');
  assert.equal(wire(send('MAIL FROM:<a@b.example> SIZE=1001')), '552 5.3.4 Message too big\r\n');
  assert.equal(wire(send('MAIL FROM:<a@b.example> X-FOO=1')), '555 5.5.4 Unsupported parameter\r\n');
  assert.equal(wire(send('MAIL FROM:<a@b.example> RET=BODY')), '501 5.5.4 Invalid parameters\r\n');
  assert.equal(wire(send('MAIL FROM:<a@b.example> ENVID=a+zz')), '501 5.5.4 Invalid parameters\r\n');
  assert.equal(wire(send('MAIL FROM:<a@b.example> SIZE=x')), '501 5.5.4 Invalid parameters\r\n');
  assert.equal(wire(send('MAIL FROM:<josé@b.example>')), '553 5.6.7 Non-ASCII address requires SMTPUTF8\r\n');
  assert.equal(wire(send('MAIL FROM:<a@b.example>')), '250 2.1.0 Ok\r\n');
  assert.equal(wire(send('MAIL FROM:<a@b.example>')), '503 5.5.1 Sender already specified\r\n');
}
);

test('RCPT errors, too many recipients, DATA without recipients', () => {
  const { send } = authed({ maxBadCommands: 50 });
  send('MAIL FROM:<a@b.example>');
  assert.equal(wire(send('DATA')), '503 5.5.1 Need RCPT command\r\n');
  assert.equal(wire(send('RCPT TO:<>')), '501 5.1.3 Bad recipient address syntax\r\n');
  assert.equal(wire(send('RCPT TO:<bob>')), '501 5.1.3 Bad recipient address syntax\r\n');
  assert.equal(wire(send(`RCPT TO:<${'x'.repeat(250)}@b.example>`)), '501 5.1.3 Bad recipient address syntax\r\n');
  assert.equal(wire(send('RCPT TO:<b@b.example> X-FOO=1')), '555 5.5.4 Unsupported parameter\r\n');
  assert.equal(wire(send('RCPT TO:<b@b.example> NOTIFY=NEVER,SUCCESS')), '501 5.5.4 Invalid parameters\r\n');
  assert.equal(wire(send('RCPT TO:<b@b.example> ORCPT=b@b.example')), '501 5.5.4 Invalid parameters\r\n');
  assert.equal(wire(send('RCPT TO:<josé@b.example>')), '553 5.6.7 Non-ASCII address requires SMTPUTF8\r\n');
  for (const n of [1, 2, 3]) assert.equal(wire(send(`RCPT TO:<r${n}@b.example>`)), '250 2.1.5 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<r4@b.example>')), '452 4.5.3 Too many recipients\r\n');
  assert.equal(wire(send('DATA extra')), '501 5.5.4 Syntax: DATA\r\n');
});

test('SMTPUTF8 transactions accept UTF-8 addresses', () => {
  const { send } = authed();
  assert.equal(wire(send('MAIL FROM:<josé@b.example> SMTPUTF8')), '250 2.1.0 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<用户@例子.example>')), '250 2.1.5 Ok\r\n');
  assert.deepEqual((send('DATA').action as { transaction: { recipients: string[]; smtputf8: boolean } }).transaction.smtputf8, true);
});

test('REQUIRETLS (RFC 8689): offered only under TLS on submission listeners; carried to accept.ts', () => {
  const { send } = authed();
  assert.equal(wire(send('MAIL FROM:<a@b.example> REQUIRETLS')), '250 2.1.0 Ok\r\n');
  send('RCPT TO:<bob@dest.example>');
  assert.equal((send('DATA').action as { transaction: { requireTls?: boolean } }).transaction.requireTls, true);
  const implicit = open({ listener: 'submissions', tls: TLS });
  assert.match(wire(implicit.send('EHLO client.test')), /250 REQUIRETLS\r\n$/, 'implicit TLS: offered at once');
  const plain = open({ listener: 'alt', trustedNetwork: true });
  assert.doesNotMatch(wire(plain.send('EHLO client.test')), /REQUIRETLS/);
  assert.equal(wire(plain.send('MAIL FROM:<a@b.example> REQUIRETLS')), '530 5.7.10 REQUIRETLS needs a TLS-protected session\r\n');
  const mx = open({ listener: 'mx', tls: TLS });
  assert.doesNotMatch(wire(mx.send('EHLO mx.example')), /REQUIRETLS/, 'mx mail is not relayed: never offered');
  assert.equal(wire(mx.send('MAIL FROM:<a@b.example> REQUIRETLS')), '555 5.5.4 Unsupported parameter\r\n');
});

test('mx: no AUTH, local domains only, relay tricks refused, <postmaster> accepted', () => {
  const { s, send } = open({ listener: 'mx' });
  assert.equal(wire(send('EHLO mx.example')), '250-relay.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n' +
    '250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n250 STARTTLS\r\n');
  assert.equal(wire(send('AUTH PLAIN AGFAYg==')), '502 5.5.1 Command not implemented\r\n');
  assert.equal(wire(send('MAIL FROM:<someone@far.example>')), '250 2.1.0 Ok\r\n');
  for (const rcpt of ['<user@other.example>', '<user%other.example@relay.test>', '<other.example!user@relay.test>',
    '<@relay.test:user@other.example>', '<"user@other.example"@relay.test>', '<user@[127.0.0.1]>', '<@other.example:user@relay.test>']) {
    assert.equal(wire(send(`RCPT TO:${rcpt}`)), '550 5.7.1 Relaying denied\r\n', rcpt);
  }
  assert.equal(wire(send('RCPT TO:<Postmaster>')), '250 2.1.5 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<bounce+x@BOUNCES.test>')), '250 2.1.5 Ok\r\n');
  assert.deepEqual((send('DATA').action as { transaction: { recipients: string[] } }).transaction.recipients,
    ['postmaster@relay.test', 'bounce+x@bounces.test']);
  s.dataFinished({ queuedAs: '01ABCDEFGHJKMNPQRSTV' });
  send('STARTTLS');
  s.tlsStarted(TLS);
  assert.ok(!wire(send('EHLO mx.example')).includes('AUTH'), 'never AUTH on mx, even with TLS');
});

test('relayNetworks: a trusted client submits on submission/alt without TLS or AUTH, to any domain; never on mx', () => {
  const { s, send } = open({ listener: 'alt', trustedNetwork: true });
  send('EHLO client.test');
  assert.equal(wire(send('MAIL FROM:<app@example.com>')), '250 2.1.0 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<someone@far.example>')), '250 2.1.5 Ok\r\n');
  assert.deepEqual((send('DATA').action as { transaction: unknown }).transaction, {
    mailFrom: 'app@example.com', recipients: ['someone@far.example'], smtputf8: false,
    helo: 'client.test', esmtp: true, tls: null, user: null, grant: null, submission: true, account: 'default',
  });
  s.dataFinished({ queuedAs: '01ABCDEFGHJKMNPQRSTV' });
  assert.equal(wire(send(`AUTH PLAIN ${b64('\0a\0b')}`)), '538 5.7.11 Encryption required for requested authentication mechanism\r\n', 'AUTH rules unchanged');
  const mx = open({ listener: 'mx', trustedNetwork: true });
  mx.send('EHLO client.test');
  mx.send('MAIL FROM:<app@example.com>');
  assert.equal(wire(mx.send('RCPT TO:<someone@far.example>')), '550 5.7.1 Relaying denied\r\n');
});

test('HELO: no extensions and no enhanced codes', () => {
  const { send } = open({ listener: 'mx' });
  assert.equal(wire(send('HELO')), '501 Syntax: HELO <domain>\r\n');
  assert.equal(wire(send('HELO mx.example')), '250 relay.test\r\n');
  assert.equal(wire(send('STARTTLS')), '503 Send EHLO first\r\n');
  assert.equal(wire(send('MAIL FROM:<a@far.example>')), '250 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<a@far.example>')), '550 Relaying denied\r\n');
});

test('other commands', () => {
  const { send } = open();
  assert.equal(wire(send('NOOP')), '250 Ok\r\n');
  send('EHLO client.test');
  assert.equal(wire(send('NOOP anything')), '250 2.0.0 Ok\r\n');
  assert.equal(wire(send('RSET')), '250 2.0.0 Ok\r\n');
  assert.equal(wire(send('VRFY bob')), '252 2.5.0 Cannot verify user, but will accept message and attempt delivery\r\n');
  assert.equal(wire(send('VRFY')), '501 5.5.4 Syntax: VRFY <address>\r\n');
  assert.equal(wire(send('HELP')), '214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH\r\n');
  assert.equal(wire(send('EXPN staff')), '502 5.5.1 Command not implemented\r\n');
  assert.equal(wire(send('FOO')), '500 5.5.2 Command unrecognized\r\n');
  assert.equal(wire(send('')), '500 5.5.2 Command unrecognized\r\n');
  const quit = send('QUIT');
  assert.deepEqual([wire(quit), quit.close], ['221 2.0.0 Bye\r\n', true]);
});

test('HTTP on the SMTP port is dropped', () => {
  const { send } = open();
  const out = send('POST / HTTP/1.1');
  assert.deepEqual([wire(out), out.close], ['421 Protocol error\r\n', true]);
});

test('line limits, NUL bytes and invalid UTF-8', () => {
  const { send } = authed({ maxBadCommands: 50 });
  assert.equal(wire(send('NOOP ' + 'x'.repeat(505))), '250 2.0.0 Ok\r\n', '510 octets is the limit');
  assert.equal(wire(send('NOOP ' + 'x'.repeat(506))), '500 5.5.2 Line too long\r\n');
  assert.equal(wire(send('AUTH PLAIN ' + 'A'.repeat(2000))), '503 5.5.1 Already authenticated\r\n', 'AUTH lines may be longer');
  assert.equal(wire(send(Buffer.from('NOOP a\0b'))), '500 5.5.2 NUL bytes are not allowed\r\n');
  assert.equal(wire(send(Buffer.from([0x4e, 0x4f, 0x4f, 0x50, 0x20, 0xff]))), '500 5.5.2 Invalid UTF-8\r\n');
});

test('after maxBadCommands errors: 421 and close', () => {
  const { send } = open({ maxBadCommands: 5 });
  send('EHLO client.test');
  for (let i = 0; i < 4; i++) assert.equal(send('FOO').close, false);
  const out = send('FOO');
  assert.equal(wire(out), '500 5.5.2 Command unrecognized\r\n421 4.7.0 Too many errors, closing connection\r\n');
  assert.equal(out.close, true);
});

test('timeout and shutdown', () => {
  const idle = open();
  idle.send('EHLO client.test');
  assert.equal(wire(idle.s.timedOut()), '421 4.4.2 Timeout, closing connection\r\n');
  const quiet = open();
  quiet.send('EHLO client.test');
  const down = quiet.s.shutdown();
  assert.deepEqual([wire(down), down.close], ['421 4.3.2 Service shutting down\r\n', true]);

  const busy = authed();
  busy.send('MAIL FROM:<a@b.example>');
  assert.deepEqual(busy.s.shutdown(), { replies: [], close: false }, 'a transaction in progress may finish');
  busy.send('RCPT TO:<b@c.example>');
  busy.send('DATA');
  const done = busy.s.dataFinished({ queuedAs: '01ABCDEFGHJKMNPQRSTV' });
  assert.equal(wire(done), '250 2.0.0 Ok: queued as 01ABCDEFGHJKMNPQRSTV\r\n421 4.3.2 Service shutting down\r\n');
  assert.equal(done.close, true);

  const between = authed();
  between.send('MAIL FROM:<a@b.example>');
  between.s.shutdown();
  assert.equal(wire(between.send('RSET')), '250 2.0.0 Ok\r\n');
  assert.equal(wire(between.send('MAIL FROM:<a@b.example>')), '421 4.3.2 Service shutting down\r\n');
});

test('inputs out of order are bugs, not silently ignored', () => {
  const { s } = open();
  assert.throws(() => s.authVerified('ok'), /expected verify/);
  assert.throws(() => s.dataFinished({ queuedAs: 'x' }), /expected data/);
});

test('DSN (RFC 3461): RET/ENVID and each recipient\'s NOTIFY/ORCPT reach the transaction, decoded', () => {
  const { send } = authed();
  assert.equal(wire(send('MAIL FROM:<a@b.example> RET=FULL ENVID=id+2B1')), '250 2.1.0 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<bob@dest.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+2Bx@dest.example')), '250 2.1.5 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<carol@dest.example>')), '250 2.1.5 Ok\r\n');
  assert.equal(wire(send('RCPT TO:<dan@dest.example> NOTIFY=never')), '250 2.1.5 Ok\r\n');
  const data = send('DATA');
  const tx = (data.action as { transaction: { dsn?: unknown } }).transaction;
  assert.deepEqual(tx.dsn, {
    ret: 'FULL', envid: 'id+1', recipients: {
      'bob@dest.example': { notify: ['SUCCESS', 'FAILURE'], orcpt: { type: 'rfc822', address: 'Bob+x@dest.example' } },
      'dan@dest.example': { notify: 'NEVER' },
    },
  });
});

test('sessions sharing one options object (as a listener\'s): each gets the greeting, HELO and EHLO replies of its own state', () => {
  const shared = {
    listener: 'submission' as const, hostname: 'relay.test', banner: 'Postlane ESMTP', localDomains: new Set(['relay.test']),
    maxMessageSize: 1000, maxRecipients: 3, maxBadCommands: 50,
  };
  const plainEhlo = '250-relay.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n250 STARTTLS\r\n';
  const tlsEhlo = '250-relay.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n250-AUTH PLAIN LOGIN\r\n250 REQUIRETLS\r\n';
  for (let i = 0; i < 3; i++) {
    const a = new SmtpSession(shared, null, false);
    assert.equal(wire(a.greet()), '220 relay.test Postlane ESMTP\r\n');
    assert.deepEqual(a.greet().replies, [{ code: 220, text: 'relay.test Postlane ESMTP' }], 'no enhanced code before EHLO');
    assert.equal(wire(a.handleLine(Buffer.from('EHLO c.test'))), plainEhlo);
    a.handleLine(Buffer.from('STARTTLS'));
    a.tlsStarted(TLS);
    assert.equal(wire(a.handleLine(Buffer.from('EHLO c.test'))), tlsEhlo, 'after TLS: AUTH and REQUIRETLS, no STARTTLS');
    const b = new SmtpSession(shared, TLS, false); // implicit TLS state from the start
    assert.equal(wire(b.handleLine(Buffer.from('EHLO c.test'))), tlsEhlo);
    const c = new SmtpSession(shared, null, true);
    assert.deepEqual(c.handleLine(Buffer.from('HELO c.test')).replies, [{ code: 250, text: 'relay.test' }]);
    assert.equal(wire(c.handleLine(Buffer.from('MAIL FROM:<a@b.example>'))), '250 Ok\r\n', 'a trusted network client may send; no enhanced code after HELO');
    assert.equal(wire(c.handleLine(Buffer.from('RCPT TO:<x@y.example>'))), '250 Ok\r\n');
    assert.equal(wire(c.handleLine(Buffer.from('QUIT'))), '221 Bye\r\n');
  }
  const other = new SmtpSession({ ...shared, hostname: 'other.test', listener: 'mx' }, null, false);
  assert.equal(wire(other.greet()), '220 other.test Postlane ESMTP\r\n', 'another options object has its own replies');
  assert.equal(wire(other.handleLine(Buffer.from('EHLO c.test'))).split('\r\n')[0], '250-other.test');
});
