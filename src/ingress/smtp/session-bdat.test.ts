// CHUNKING (RFC 3030) in the sans-IO session: every well-formed BDAT asks for its octets to be
// read (so they are never taken as commands), the reply comes after them, refusals carry on to
// the later chunks of the transaction, and a malformed size closes the connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReply, reply } from '../../message/reply.js';
import { SmtpSession, type SessionOptions, type SessionOutput } from './session.js';

const TLS = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };
const wire = (o: SessionOutput) => o.replies.map(formatReply).join('');

function open(over: Partial<SessionOptions> = {}) {
  const s = new SmtpSession({
    listener: 'mx', hostname: 'relay.test', banner: 'Postlane ESMTP', localDomains: new Set(['relay.test']),
    maxMessageSize: 1000, maxRecipients: 3, maxBadCommands: 50, tls: null, trustedNetwork: false, ...over,
  });
  s.greet();
  const send = (line: string) => s.handleLine(Buffer.from(line, 'utf8'));
  send('EHLO client.test');
  return { s, send };
}

/** An mx session with MAIL and RCPT done. */
function inTransaction(over: Partial<SessionOptions> = {}) {
  const c = open(over);
  c.send('MAIL FROM:<a@far.example>');
  c.send('RCPT TO:<postmaster@relay.test>');
  return c;
}

test('EHLO offers CHUNKING (not BINARYMIME); BODY=BINARYMIME is refused at MAIL', () => {
  const { send } = open();
  const ehlo = wire(send('EHLO client.test'));
  assert.match(ehlo, /^250-CHUNKING\r$/m);
  assert.doesNotMatch(ehlo, /BINARYMIME/);
  assert.equal(wire(send('MAIL FROM:<a@far.example> BODY=BINARYMIME')), '555 5.5.4 Unsupported parameter\r\n');
  assert.equal(wire(send('MAIL FROM:<a@far.example> BODY=8BITMIME')), '250 2.1.0 Ok\r\n');
});

test('chunks: the first begins the message with the transaction, the next append, LAST ends it with the acceptance', () => {
  const { s, send } = inTransaction();
  const first = send('BDAT 100');
  assert.deepEqual(first.replies, [], 'no reply before the chunk is read');
  assert.equal(first.command, 'BDAT');
  assert.deepEqual(first.action, {
    type: 'receiveChunk', size: 100, last: false, sink: 'begin',
    transaction: { mailFrom: 'a@far.example', recipients: ['postmaster@relay.test'], smtputf8: false, helo: 'client.test', esmtp: true, tls: null, user: null, grant: null, submission: false, account: null },
  });
  assert.equal(s.isBusy, true);
  assert.throws(() => send('NOOP'), /line while waiting for chunk/);
  assert.equal(s.isReceivingChunks, true);
  assert.equal(wire(s.chunkReceived('ok')), '250 2.0.0 Ok: 100 octets\r\n');
  assert.deepEqual(send('BDAT 0').action, { type: 'receiveChunk', size: 0, last: false, sink: 'append' });
  assert.equal(wire(s.chunkReceived('ok')), '250 2.0.0 Ok: 0 octets\r\n');
  assert.deepEqual(send('bdat 20 last').action, { type: 'receiveChunk', size: 20, last: true, sink: 'append' });
  assert.throws(() => s.chunkReceived('ok'), /LAST chunk read without an outcome/);
});

test('BDAT 0 LAST alone is a whole (empty) message; the transaction ends and a new one may start', () => {
  const { s, send } = inTransaction();
  assert.equal((send('BDAT 0 LAST').action as { sink: string }).sink, 'begin');
  assert.equal(wire(s.chunkReceived({ queuedAs: '01ABCDEFGHJKMNPQRSTV' })), '250 2.0.0 Ok: queued as 01ABCDEFGHJKMNPQRSTV\r\n');
  assert.equal(s.isBusy, false);
  assert.equal(s.isReceivingChunks, false);
  assert.equal(wire(send('RCPT TO:<postmaster@relay.test>')), '503 5.5.1 Need MAIL command\r\n');
  assert.equal(wire(send('MAIL FROM:<b@far.example>')), '250 2.1.0 Ok\r\n');
});

test('the final reply is the message outcome: 4xx and 5xx like DATA', () => {
  const { s, send } = inTransaction();
  send('BDAT 5 LAST');
  const failed = reply(451, '4.3.0', 'Temporary local problem, try again later');
  assert.equal(wire(s.chunkReceived({ reply: failed })), '451 4.3.0 Temporary local problem, try again later\r\n');
  assert.equal(s.isBusy, false, 'the transaction is over');
});

test('BDAT without MAIL or RCPT: the octets are still read (discarded), then 503', () => {
  const { s, send } = open();
  const out = send('BDAT 42 LAST');
  assert.deepEqual([out.replies, out.action], [[], { type: 'receiveChunk', size: 42, last: true, sink: 'discard' }]);
  assert.equal(wire(s.chunkReceived('ok')), '503 5.5.1 Need MAIL command\r\n');
  send('MAIL FROM:<a@far.example>');
  assert.deepEqual(send('BDAT 7').action, { type: 'receiveChunk', size: 7, last: false, sink: 'discard' });
  assert.equal(wire(s.chunkReceived('ok')), '503 5.5.1 Need RCPT command\r\n');
  assert.equal(wire(send('RCPT TO:<postmaster@relay.test>')), '250 2.1.5 Ok\r\n', 'the transaction goes on');
  // before EHLO and before AUTH the same: read, then refused
  const fresh = new SmtpSession({ listener: 'submission', hostname: 'relay.test', banner: 'x', localDomains: new Set(), maxMessageSize: 1000, maxRecipients: 3, maxBadCommands: 50, tls: null, trustedNetwork: false });
  fresh.greet();
  assert.equal((fresh.handleLine(Buffer.from('BDAT 3')).action as { sink: string }).sink, 'discard');
  assert.equal(wire(fresh.chunkReceived('ok')), '503 Need MAIL command\r\n');
});

test('a refused chunk: the later chunks are read and get the same refusal, up to LAST', () => {
  const { s, send } = inTransaction();
  send('BDAT 600');
  const tooBig = reply(552, '5.3.4', 'Message too big');
  assert.equal(wire(s.chunkReceived({ reply: tooBig })), '552 5.3.4 Message too big\r\n');
  assert.equal(s.isReceivingChunks, false, 'the listener drops the message');
  assert.equal(s.isBusy, true, 'the transaction is not over');
  assert.deepEqual(send('BDAT 600').action, { type: 'receiveChunk', size: 600, last: false, sink: 'discard' });
  assert.equal(wire(s.chunkReceived('ok')), '552 5.3.4 Message too big\r\n');
  send('BDAT 10 LAST');
  assert.equal(wire(s.chunkReceived('ok')), '552 5.3.4 Message too big\r\n');
  assert.equal(s.isBusy, false, 'LAST ends the failed transaction');
  assert.equal(wire(send('MAIL FROM:<a@far.example>')), '250 2.1.0 Ok\r\n');
});

test('DATA or RCPT after BDAT: 503; RSET clears the chunks; MAIL is a nested MAIL', () => {
  const { s, send } = inTransaction();
  send('BDAT 10');
  s.chunkReceived('ok');
  assert.equal(wire(send('RCPT TO:<postmaster@relay.test>')), '503 5.5.1 RCPT not allowed after BDAT\r\n');
  assert.equal(s.isReceivingChunks, true, 'a refused RCPT leaves the message alone');
  assert.equal(wire(send('MAIL FROM:<a@far.example>')), '503 5.5.1 Sender already specified\r\n');
  assert.equal(wire(send('DATA')), '503 5.5.1 DATA not allowed after BDAT; send RSET\r\n');
  assert.equal(s.isReceivingChunks, false, 'the state is indeterminate: the message is dropped');
  send('BDAT 3 LAST');
  assert.equal(wire(s.chunkReceived('ok')), '503 5.5.1 DATA not allowed after BDAT; send RSET\r\n');

  const again = inTransaction();
  again.send('BDAT 10');
  again.s.chunkReceived('ok');
  assert.equal(wire(again.send('RSET')), '250 2.0.0 Ok\r\n');
  assert.equal(again.s.isReceivingChunks, false);
  assert.equal(again.s.isBusy, false);
  assert.equal(wire(again.send('BDAT 1 LAST')), '', 'read first');
  assert.equal(wire(again.s.chunkReceived('ok')), '503 5.5.1 Need MAIL command\r\n');
});

test('a malformed BDAT: 521 and close (the chunk length is unknown, so the rest cannot be framed)', () => {
  for (const arg of ['', ' ', 'x', '-1', '10 LAS', '10 LAST x', '10  LAST', ' 10', '1e3', '0x10', '1234567890123456', '10\tLAST']) {
    const { send } = inTransaction();
    const out = send(arg ? `BDAT ${arg}` : 'BDAT');
    assert.deepEqual([wire(out), out.close, out.action], ['521 5.5.4 Syntax: BDAT count [LAST]\r\n', true, undefined], JSON.stringify(arg));
  }
  const { send } = inTransaction();
  assert.equal((send('BDAT 123456789012345 LAST').action as { size: number }).size, 123456789012345, '15 digits is the most');
});

test('shutdown while chunks come: the transaction finishes, then 421', () => {
  const { s, send } = inTransaction();
  send('BDAT 4');
  assert.deepEqual(s.shutdown(), { replies: [], close: false });
  assert.equal(wire(s.chunkReceived('ok')), '250 2.0.0 Ok: 4 octets\r\n');
  send('BDAT 4 LAST');
  const done = s.chunkReceived({ queuedAs: '01ABCDEFGHJKMNPQRSTV' });
  assert.equal(wire(done), '250 2.0.0 Ok: queued as 01ABCDEFGHJKMNPQRSTV\r\n421 4.3.2 Service shutting down\r\n');
  assert.equal(done.close, true);
});

test('STARTTLS or EHLO in a BDAT transaction forget it; chunk refusals count as errors', () => {
  const { s, send } = inTransaction({ maxBadCommands: 2 });
  send('BDAT 1');
  s.chunkReceived('ok');
  send('EHLO client.test');
  assert.equal(s.isReceivingChunks, false);
  assert.equal(s.isBusy, false);
  send('STARTTLS');
  s.tlsStarted(TLS);
  send('EHLO client.test');
  send('BDAT 1');
  assert.equal(wire(s.chunkReceived('ok')), '503 5.5.1 Need MAIL command\r\n');
  send('BDAT 1');
  const out = s.chunkReceived('ok');
  assert.equal(wire(out), '503 5.5.1 Need MAIL command\r\n421 4.7.0 Too many errors, closing connection\r\n');
  assert.equal(out.close, true);
});

test('inputs out of order are bugs', () => {
  const { s } = open();
  assert.throws(() => s.chunkReceived('ok'), /expected chunk/);
});
