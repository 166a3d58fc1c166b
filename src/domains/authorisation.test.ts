// The user ↔ domain policy as a table: who may use which MAIL FROM and originator (From:, Sender:,
// Resent-From:, Resent-Sender:) domains, and the exact reply otherwise. Plus the header parsing
// that feeds it and the domain-name rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorisedDomain, type DomainUser } from './authorisation.js';
import { domainAndParents, normalizeDomain } from './domain-name.js';
import { authorDomain, parseHeaderFrom, type Originator, type OriginatorField } from './header-from.js';

const alice: DomainUser = { name: 'alice', allowedDomains: ['example.com', 'shop.example.org'], anyDomain: false };
const bob: DomainUser = { name: 'bob', allowedDomains: ['bob.test'], anyDomain: false };
const admin: DomainUser = { name: 'admin', allowedDomains: [], anyDomain: true };
const nobody: DomainUser = { name: 'nobody', allowedDomains: [], anyDomain: false };

const SENDER = (d: string) => ({ code: 550, enhanced: '5.7.1', text: `Sender address domain ${d} is not authorised for this user` });
const HEADER = (d: string, field = 'From') => ({ code: 550, enhanced: '5.7.1', text: `${field}: header domain ${d} is not authorised for this user` });
/** From: addresses only; [field, domain] pairs for the other originator fields. */
const header = (...list: (string | null | [OriginatorField, string | null])[]): { originators: Originator[] } =>
  ({ originators: list.map((x) => (Array.isArray(x) ? { field: x[0], domain: x[1] } : { field: 'From' as const, domain: x })) });

describe('authorisedDomain', () => {
  const table: [string, DomainUser | null, string | null, (string | null | [OriginatorField, string | null])[] | null, ReturnType<typeof authorisedDomain>][] = [
    ['own domain, both places', alice, 'example.com', ['example.com'], null],
    ['subdomain of an allowed domain', alice, 'mail.example.com', ['news.example.com'], null],
    ['upper-case and trailing dot normalized', alice, 'EXAMPLE.com', ['Example.COM.'], null],
    ['IDN U-label matches the stored A-label', { ...bob, allowedDomains: ['xn--bcher-kva.example'] }, 'bücher.example', ['xn--bcher-kva.example'], null],
    ['second allowed domain', alice, 'shop.example.org', ['shop.example.org'], null],
    ['parent of an allowed subdomain is not allowed', alice, 'example.org', null, SENDER('example.org')],
    ['look-alike suffix is not a subdomain', alice, 'evilexample.com', null, SENDER('evilexample.com')],
    ["another user's domain in MAIL FROM", alice, 'bob.test', ['example.com'], SENDER('bob.test')],
    ["another user's domain in From:", alice, 'example.com', ['bob.test'], HEADER('bob.test')],
    ['one bad address among several From: addresses', alice, 'example.com', ['example.com', 'bob.test'], HEADER('bob.test')],
    ['From: address without a valid domain', alice, 'example.com', [null], { code: 550, enhanced: '5.7.1', text: 'From: header address is not valid for this user' }],
    ['bob in his own domain', bob, 'bob.test', ['bob.test'], null],
    ['no grant at all', nobody, 'example.com', null, SENDER('example.com')],
    ['any-domain user', admin, 'whatever.example', ['bob.test'], null],
    ['not authenticated (trusted network / MX): not this policy', null, 'bob.test', ['bob.test'], null],
    ['null reverse-path: nothing to check', alice, '', ['example.com'], null],
    ['MAIL FROM time: header not checked yet', alice, 'example.com', null, null],
    ['no From: field at all', alice, 'example.com', [], null],
    ['Sender: of another domain', alice, 'example.com', ['example.com', ['Sender', 'bob.test']], HEADER('bob.test', 'Sender')],
    ['Resent-From: of another domain', alice, 'example.com', ['example.com', ['Resent-From', 'bob.test']], HEADER('bob.test', 'Resent-From')],
    ['Resent-Sender: of another domain', alice, 'example.com', ['example.com', ['Resent-Sender', 'other.com']], HEADER('other.com', 'Resent-Sender')],
    ['Resent-From: without a From: field', alice, 'example.com', [['Resent-From', 'other.com']], HEADER('other.com', 'Resent-From')],
    ['Resent-From: address without a valid domain', alice, 'example.com', ['example.com', ['Resent-From', null]], { code: 550, enhanced: '5.7.1', text: 'Resent-From: header address is not valid for this user' }],
    ['every originator in own domains', alice, 'example.com', ['example.com', ['Sender', 'mail.example.com'], ['Resent-From', 'shop.example.org'], ['Resent-Sender', 'example.com']], null],
    ['any-domain user, any Resent-From:', admin, 'x.example', [['Resent-From', 'bob.test']], null],
    ['address literal sender', alice, '[192.0.2.1]', null, { code: 550, enhanced: '5.7.1', text: 'Sender address domain is not authorised for this user' }],
    ['client text is not echoed when it is not a host name', alice, 'a\r\nb.com', null, { code: 550, enhanced: '5.7.1', text: 'Sender address domain is not authorised for this user' }],
  ];
  for (const [what, user, mailFrom, list, expected] of table) {
    it(what, () => assert.deepEqual(authorisedDomain(user, mailFrom, list === null ? null : header(...list)), expected));
  }
  it('checks what parseHeaderFrom found in a header block', () => {
    const block = 'From: alice@example.com\r\nReply-To: anyone@bob.test\r\nresent-from : x@other.com\r\n\r\n';
    assert.deepEqual(authorisedDomain(alice, null, parseHeaderFrom(block)), HEADER('other.com', 'Resent-From'));
  });
});

describe('parseHeaderFrom / authorDomain', () => {
  const table: [string, string, (string | null)[], number, string | null][] = [
    ['plain', 'From: alice@Example.COM\r\nTo: b@x.org\r\n\r\nFrom: not@header.test\r\n', ['example.com'], 1, 'example.com'],
    ['display name, folded', 'Subject: x\r\nFrom: "Alice, Sales" \r\n <alice@example.com>\r\n\r\n', ['example.com'], 1, 'example.com'],
    ['encoded-word name', 'From: =?utf-8?q?J=C3=B6rg?= <j@xn--bcher-kva.example>\r\n\r\n', ['xn--bcher-kva.example'], 1, 'xn--bcher-kva.example'],
    ['IDN domain to A-label', 'From: j@bücher.example\r\n\r\n', ['xn--bcher-kva.example'], 1, 'xn--bcher-kva.example'],
    ['two addresses', 'From: a@one.test, b@two.test\r\n\r\n', ['one.test', 'two.test'], 1, null],
    ['two From fields', 'From: a@one.test\r\nfrom : b@two.test\r\n\r\n', ['one.test', 'two.test'], 2, null],
    ['no From', 'Subject: x\r\n\r\n', [], 0, null],
    ['no usable address', 'From: undisclosed\r\n\r\n', [null], 1, null],
    ['group syntax flattened', 'From: team: a@one.test, b@one.test;\r\n\r\n', ['one.test', 'one.test'], 1, null],
  ];
  for (const [what, header, domains, fields, author] of table) {
    it(what, () => {
      const from = parseHeaderFrom(Buffer.from(header));
      assert.deepEqual({ domains: from.domains, fields: from.fields }, { domains, fields });
      assert.equal(authorDomain(from), author);
    });
  }
});

describe('parseHeaderFrom: originator fields', () => {
  it('From, Sender, Resent-From and Resent-Sender in header order; Reply-To and look-alikes are not originators', () => {
    const block = [
      'Resent-From: r@resent.test', 'Resent-Sender: Ops <ops@resent.test>', 'Reply-To: anyone@reply.test', 'From: a@one.test, b@two.test',
      'X-Original-From: x@forged.test', 'SENDER:\r\n s@Sender.TEST', 'Resent-To: t@to.test', 'Resent-From: bad', '', 'Sender: body@not.header',
    ].join('\r\n');
    const h = parseHeaderFrom(block);
    assert.deepEqual(h.originators, [
      { field: 'Resent-From', domain: 'resent.test' }, { field: 'Resent-Sender', domain: 'resent.test' },
      { field: 'From', domain: 'one.test' }, { field: 'From', domain: 'two.test' }, { field: 'Sender', domain: 'sender.test' },
      { field: 'Resent-From', domain: null },
    ]);
    assert.deepEqual(h.domains, ['one.test', 'two.test']);
    assert.equal(h.fields, 1);
  });
});

describe('domain names', () => {
  it('normalizeDomain', () => {
    assert.equal(normalizeDomain('Example.COM.'), 'example.com');
    assert.equal(normalizeDomain('bücher.example'), 'xn--bcher-kva.example');
    for (const bad of ['', 'localhost', 'a..b', '-a.com', 'a-.com', 'a_b.com', '1.2.3.4', '[1.2.3.4]', 'a b.com', 'x@y.com', `${'a'.repeat(64)}.com`]) {
      assert.equal(normalizeDomain(bad), null, bad);
    }
  });
  it('domainAndParents stops at two labels', () => {
    assert.deepEqual(domainAndParents('a.b.example.com'), ['a.b.example.com', 'b.example.com', 'example.com']);
    assert.deepEqual(domainAndParents('example.com'), ['example.com']);
  });
});
