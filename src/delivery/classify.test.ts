import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryError } from '../errors.js';
import { classifyError, classifyReply, describeVerdict, flattenReply, LocalFailure, parseReply } from './classify.js';
import { DnsLookupError } from './resolver.js';

describe('classifyReply', () => {
  const table: [reply: string, kind: string, status: string][] = [
    ['550 5.1.1 <a@example.test>: Recipient address rejected: User unknown', 'permanent', '5.1.1'],
    ['550 No such user', 'permanent', '5.0.0'],
    ['554 5.7.1 Message rejected as spam', 'permanent', '5.7.1'],
    ['552 5.2.2 Mailbox full', 'permanent', '5.2.2'],
    ['552 5.5.3 Too many recipients', 'temporary', '4.5.3'],
    ['552 Too many recipients', 'temporary', '4.5.3'],
    ['503 5.5.1 Error: need RCPT command', 'temporary', '4.5.1'],
    ['451 4.7.1 Greylisted, try again later', 'temporary', '4.7.1'],
    ['450 Mailbox busy', 'temporary', '4.0.0'],
    ['421 4.7.0 Too many connections', 'temporary', '4.7.0'],
    ['421 Service not available', 'temporary', '4.4.2'],
    ['452 4.5.3 Too many recipients', 'temporary', '4.5.3'],
    ['450 5.1.1 odd class mismatch', 'temporary', '4.1.1'],
    ['550-5.7.26 Unauthenticated email\n550 5.7.26 is not accepted', 'permanent', '5.7.26'],
    ['250 2.0.0 OK but raised as an error', 'temporary', '4.0.0'],
    ['garbage', 'temporary', '4.0.0'],
  ];
  for (const [reply, kind, status] of table) {
    it(`${JSON.stringify(reply)} → ${kind} ${status}`, () => {
      const v = classifyReply(reply);
      assert.equal(v.kind, kind);
      assert.equal(v.status, status);
    });
  }

  it('keeps the remote reply on one line', () => {
    assert.equal(classifyReply('550-5.7.26 first\r\n550 5.7.26 second').reply, '550-5.7.26 first 550 5.7.26 second');
  });
});

describe('classifyError', () => {
  const err = (props: Record<string, unknown>) => Object.assign(new Error('x'), props);
  const table: [name: string, error: unknown, kind: string, status: string][] = [
    ['connection refused', err({ code: 'ESOCKET', originalCode: 'ECONNREFUSED' }), 'temporary', '4.4.1'],
    ['timeout', err({ code: 'ETIMEDOUT' }), 'temporary', '4.4.2'],
    ['connection lost', err({ code: 'ECONNECTION' }), 'temporary', '4.4.2'],
    ['TLS failure', err({ code: 'ETLS', response: '502 5.5.1 STARTTLS not supported' }), 'temporary', '4.7.5'],
    ['TLS handshake failure', err({ code: 'ETLS' }), 'temporary', '4.7.5'],
    ['rejected MAIL FROM', err({ code: 'EENVELOPE', response: '553 5.1.8 Sender domain rejected', responseCode: 553 }), 'permanent', '5.1.8'],
    ['greylisted MAIL FROM', err({ code: 'EENVELOPE', response: '451 4.7.1 later', responseCode: 451 }), 'temporary', '4.7.1'],
    ['auth failure (a local problem)', err({ code: 'EAUTH', response: '535 5.7.8 Authentication failed' }), 'temporary', '4.7.8'],
    ['5xx greeting', err({ code: 'EPROTOCOL', response: '554 5.3.2 No SMTP service here' }), 'temporary', '4.5.0'],
    ['rejected message', err({ code: 'EMESSAGE', response: '554 5.7.1 Spam', responseCode: 554 }), 'permanent', '5.7.1'],
    ['unknown error', new TypeError('boom'), 'temporary', '4.0.0'],
    ['not an error', 'oops', 'temporary', '4.0.0'],
    ['DNS NXDOMAIN', new DnsLookupError('nxdomain', 'x.test', 'MX', 'ENOTFOUND'), 'permanent', '5.1.2'],
    ['DNS SERVFAIL', new DnsLookupError('temporary', 'x.test', 'MX', 'ESERVFAIL'), 'temporary', '4.4.3'],
    ['local failure', new LocalFailure('permanent', '5.1.10', 'null MX'), 'permanent', '5.1.10'],
    ['DeliveryError without reply', new DeliveryError('permanent', 'nope'), 'permanent', '5.0.0'],
    ['DeliveryError with reply', new DeliveryError('temporary', 'x', { code: 450, enhanced: '4.2.1', text: 'busy' }), 'temporary', '4.2.1'],
  ];
  for (const [name, error, kind, status] of table) {
    it(`${name} → ${kind} ${status}`, () => {
      const v = classifyError(error);
      assert.equal(v.kind, kind);
      assert.equal(v.status, status);
    });
  }
});

describe('describeVerdict', () => {
  it('is the remote reply when its class matches, else status and reason (then the reply)', () => {
    assert.equal(describeVerdict(classifyReply('550 5.1.1 unknown')), '550 5.1.1 unknown');
    assert.equal(describeVerdict(classifyError(Object.assign(new Error('x'), { code: 'ETLS', response: '500 5.5.2 no' }))),
      '4.7.5 TLS negotiation with the mail server failed: 500 5.5.2 no');
    assert.equal(describeVerdict(classifyError(new LocalFailure('permanent', '5.1.10', 'null MX'))), '5.1.10 null MX');
  });
});

describe('parseReply', () => {
  it('splits code, enhanced status and text', () => {
    assert.deepEqual(parseReply('550 5.1.1 User unknown'), { code: 550, enhanced: '5.1.1', text: '5.1.1 User unknown' });
    assert.deepEqual(parseReply('250 OK'), { code: 250, enhanced: undefined, text: 'OK' });
    assert.equal(parseReply('no code'), null);
  });
});

describe('flattenReply', () => {
  const general = (reply: string) => reply.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).join(' ');
  it('gives the same line as the general split/trim/join, one-line replies (its shortcut) included', () => {
    const replies = ['250 2.0.0 Ok: queued as 4XyZ', '  250 ok  ', '250 ok\r', '\t250 ok\r\n', '', '   ', '\r', '250\u00a0ok\u2028',
      '250-first\r\n250 second\r\n', '550-5.1.1 a\n550 5.1.1 b', '\n\n250 x\n', '250 a\rb', ' x \r\n\r\n y '];
    for (const r of replies) assert.equal(flattenReply(r), general(r), JSON.stringify(r));
    assert.equal(flattenReply('250 2.0.0 Ok\r\n'), '250 2.0.0 Ok');
  });
});
