import test from 'node:test';
import assert from 'node:assert/strict';
import { providerOf, providerOfMx, providerOfRoute, registrableDomain } from './providers.js';

test('MX rollup: real MX host names of the big providers, as a table', () => {
  const table: [string, string | null][] = [
    ['gmail-smtp-in.l.google.com', 'gmail'],
    ['alt4.gmail-smtp-in.l.google.com.', 'gmail'],
    ['aspmx.l.google.com', 'gmail'],
    ['ALT1.ASPMX.L.GOOGLE.COM', 'gmail'],
    ['aspmx2.googlemail.com', 'gmail'],
    ['smtp.google.com', 'gmail'],
    ['contoso-com.mail.protection.outlook.com', 'microsoft'],
    ['hotmail-com.olc.protection.outlook.com', 'microsoft'],
    ['mta5.am0.yahoodns.net', 'yahoo'],
    ['mx-aol.mail.gm0.yahoodns.net', 'yahoo'],
    ['mx01.mail.icloud.com', 'apple'],
    ['mx00.gmx.net', 'gmx'],
    ['mx-ha03.web.de', 'gmx'],
    ['mxs.mail.ru', 'mailru'],
    ['mx.yandex.net', 'yandex'],
    ['mail.protonmail.ch', 'proton'],
    ['mx.zoho.eu', 'zoho'],
    ['mx1.example.net', null],
    ['google.com.evil.example', null],
    ['notgoogle.com', null],
  ];
  for (const [mx, provider] of table) assert.equal(providerOfMx(mx), provider, mx);
});

test('a Workspace domain rolls up to gmail by its MX; config rules come first', () => {
  assert.equal(providerOfRoute('acme.example', ['aspmx.l.google.com', 'alt1.aspmx.l.google.com']), 'gmail');
  assert.equal(providerOfRoute('acme.example', ['acme-example.mail.protection.outlook.com', 'acme-example2.mail.protection.outlook.com']), 'microsoft');
  assert.equal(providerOfRoute('acme.example', ['mx.backup.example', 'acme-example.mail.protection.outlook.com']), 'mx:backup.example', 'not every host is Microsoft\'s');
  assert.equal(providerOfRoute('shop.test', ['gmail-smtp-in.l.gmail.test'], [{ provider: 'gmail', mx: '*.gmail.test' }]), 'gmail');
  assert.equal(providerOfRoute('x.test', ['mx.google.com'], [{ provider: 'mine', mx: 'mx.google.com' }]), 'mine');
});

test('fallback: the domain table, then the registrable domain of the first MX, then the domain', () => {
  assert.equal(providerOfRoute('gmail.com', ['mx.unknown.example']), 'gmail');
  assert.equal(providerOfRoute('a.example', ['mx1.mail.hoster.example']), 'mx:hoster.example');
  assert.equal(providerOfRoute('a.example', ['mx.hoster.co.uk']), 'mx:hoster.co.uk');
  assert.equal(providerOfRoute('Solo.Example', []), 'solo.example');
  assert.equal(providerOf('hotmail.co.uk'), 'microsoft');
  assert.equal(registrableDomain('localhost'), 'localhost');
});
