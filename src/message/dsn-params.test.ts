import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeXtext, dsnFor, encodeXtext, formatOrcpt, parseEnvid, parseNotify, parseOrcpt, wantsNotice } from './dsn-params.js';

test('xtext (RFC 3461 §4): +, =, space, controls and non-ASCII octets as +HH; decode is the inverse', () => {
  assert.equal(encodeXtext('a+b=c d\u00e9'), 'a+2Bb+3Dc+20d+C3+A9');
  for (const s of ['plain', 'a+b=c d\u00e9', '+++', 'x\ty']) assert.equal(decodeXtext(encodeXtext(s)), s);
  assert.equal(decodeXtext('a+2b'), null, 'hex digits are upper case');
  assert.equal(decodeXtext('a+2'), null);
  assert.equal(decodeXtext('a=b'), null);
  assert.equal(decodeXtext('+FF'), null, 'not UTF-8');
});

test('ENVID, NOTIFY and ORCPT values', () => {
  assert.equal(parseEnvid('x'.repeat(100)), 'x'.repeat(100));
  assert.equal(parseEnvid('x'.repeat(101)), null);
  assert.equal(parseEnvid('a+0Ab'), null, 'no controls in an envelope id');
  assert.deepEqual(parseNotify('failure'), ['FAILURE']);
  assert.equal(parseNotify('NEVER,FAILURE'), null);
  assert.equal(parseNotify('FAILURE,'), null);
  assert.deepEqual(parseOrcpt('RFC822;a+2Bb@c.example'), { type: 'rfc822', address: 'a+b@c.example' });
  assert.equal(parseOrcpt('rfc822;a+0Db@c.example'), null, 'no CR smuggled into a DSN field');
  assert.equal(parseOrcpt(`rfc822;${'a'.repeat(500)}`), null);
  // utf-8 (RFC 6533): controls hidden in \x{HEX} escapes are refused like xtext ones, once decoded.
  assert.equal(parseOrcpt('utf-8;a\\x{D}\\x{A}Bcc:+20x@c.example'), null, 'no CR LF through a unitext escape');
  assert.equal(parseOrcpt('utf-8;a\\x{0}b@c.example'), null, 'no NUL');
  assert.equal(parseOrcpt('utf-8;a\\x{1B}[2Jb@c.example'), null, 'no terminal escape');
  assert.equal(parseOrcpt('utf-8;a\\x{85}b@c.example'), null, 'no C1 control');
});

test('ORCPT for the next hop: xtext again; utf-8 addresses as unitext (RFC 6533)', () => {
  assert.equal(formatOrcpt({ type: 'rfc822', address: 'a+b@c.example' }), 'rfc822;a+2Bb@c.example');
  assert.equal(formatOrcpt({ type: 'utf-8', address: 'jos\u00e9@c.example' }), 'utf-8;jos\\x{E9}@c.example');
  assert.deepEqual(parseOrcpt(formatOrcpt({ type: 'utf-8', address: 'jos\u00e9@c.example' })), { type: 'utf-8', address: 'jos\u00e9@c.example' });
});

test('wantsNotice: absent NOTIFY is FAILURE and DELAY (never SUCCESS); NEVER is none', () => {
  assert.deepEqual(['SUCCESS', 'FAILURE', 'DELAY'].map((w) => wantsNotice(undefined, w as 'SUCCESS')), [false, true, true]);
  assert.deepEqual(['SUCCESS', 'FAILURE', 'DELAY'].map((w) => wantsNotice('NEVER', w as 'SUCCESS')), [false, false, false]);
  assert.deepEqual(['SUCCESS', 'FAILURE', 'DELAY'].map((w) => wantsNotice(['SUCCESS'], w as 'SUCCESS')), [true, false, false]);
});

test('dsnFor: a split copy keeps RET/ENVID and its own recipients\' NOTIFY/ORCPT', () => {
  const dsn = { ret: 'HDRS' as const, envid: 'E', recipients: { 'a@x.example': { notify: 'NEVER' as const }, 'b@x.example': { notify: ['SUCCESS' as const] } } };
  assert.deepEqual(dsnFor(dsn, ['b@x.example']), { ret: 'HDRS', envid: 'E', recipients: { 'b@x.example': { notify: ['SUCCESS'] } } });
  assert.deepEqual(dsnFor(dsn, ['c@x.example']), { ret: 'HDRS', envid: 'E' });
  assert.equal(dsnFor({ recipients: { 'a@x.example': { notify: 'NEVER' } } }, ['c@x.example']), undefined);
  assert.equal(dsnFor(undefined, ['a@x.example']), undefined);
});
