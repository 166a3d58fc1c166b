// The user ↔ domain policy as a table: who may use which MAIL FROM and From: domains, and the
// exact reply otherwise. Plus the From: parsing that feeds it and the domain-name rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorisedDomain, type DomainUser } from './authorisation.js';
import { domainAndParents, normalizeDomain } from './domain-name.js';
import { authorDomain, parseHeaderFrom } from './header-from.js';

const alice: DomainUser = { name: 'alice', allowedDomains: ['example.com', 'shop.example.org'], anyDomain: false };
const bob: DomainUser = { name: 'bob', allowedDomains: ['bob.test'], anyDomain: false };
const admin: DomainUser = { name: 'admin', allowedDomains: [], anyDomain: true };
const nobody: DomainUser = { name: 'nobody', allowedDomains: [], anyDomain: false };

const SENDER = (d: string) => ({ code: 550, enhanced: '5.7.1', text: `Sender address domain ${d} is not authorised for this user` });
const HEADER = (d: string) => ({ code: 550, enhanced: '5.7.1', text: `From: header domain ${d} is not authorised for this user` });

describe('authorisedDomain', () => {
  const table: [string, DomainUser | null, string | null, (string | null)[] | null, ReturnType<typeof authorisedDomain>][] = [
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
    ['address literal sender', alice, '[192.0.2.1]', null, { code: 550, enhanced: '5.7.1', text: 'Sender address domain is not authorised for this user' }],
    ['client text is not echoed when it is not a host name', alice, 'a\r\nb.com', null, { code: 550, enhanced: '5.7.1', text: 'Sender address domain is not authorised for this user' }],
  ];
  for (const [what, user, mailFrom, header, expected] of table) {
    it(what, () => assert.deepEqual(authorisedDomain(user, mailFrom, header), expected));
  }
  it('accepts a single From: domain as a string', () => {
    assert.deepEqual(authorisedDomain(alice, null, 'bob.test'), HEADER('bob.test'));
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
      assert.deepEqual(from, { domains, fields });
      assert.equal(authorDomain(from), author);
    });
  }
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
