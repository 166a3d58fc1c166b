import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SUBJECT_CHARS, subjectOf } from './subject.js';

test('subjectOf: decoded (RFC 2047, raw UTF-8), unfolded, first field only, control characters removed, cut at 200 characters', () => {
  assert.equal(subjectOf(Buffer.from('From: a@b.example\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?= =?ISO-8859-1?Q?caf=E9?=\r\n')), 'Grüßecafé');
  assert.equal(subjectOf(Buffer.from('subject:  Hello\r\n\tworld\r\nSubject: second\r\n')), 'Hello world');
  assert.equal(subjectOf(Buffer.from('Subject: Ünïcode raw ✓\r\n', 'utf8')), 'Ünïcode raw ✓');
  assert.equal(subjectOf(Buffer.from('X-Subject: not this\r\nTo: x@y.example\r\n')), null);
  assert.equal(subjectOf(Buffer.from('Subject:   \r\n')), null);
  assert.equal(subjectOf(Buffer.from('Subject: a\u0000b\u001bc\r\n')), 'a b c');
  assert.equal(subjectOf(Buffer.from('Subject: =?bogus?X?zz?=\r\n')), '=?bogus?X?zz?=');
  const long = subjectOf(Buffer.from(`Subject: ${'😀'.repeat(300)}\r\n`, 'utf8'))!;
  assert.equal([...long].length, MAX_SUBJECT_CHARS);
  assert.equal(long, '😀'.repeat(MAX_SUBJECT_CHARS), 'whole code points');
  assert.equal(subjectOf(Buffer.from(`Subject: ${'x'.repeat(1024 * 1024)}\r\n`)), 'x'.repeat(MAX_SUBJECT_CHARS));
});

test('subjectOf: without an encoded-word, libmime is not needed and the result is the one it gives', async () => {
  const { default: libmime } = await import('libmime');
  const viaLibmime = (s: string) => libmime.decodeWords(s).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim();
  const alphabet = ['a', ' ', '=', '?', '_', 'é', '😀', '\t', 'Q', 'B', '\u0000', 'J', 'O', 'I', 'N', '\u007f'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let i = 0; i < 2000; i++) {
    const value = Array.from({ length: 1 + (next() % 40) }, () => alphabet[next() % alphabet.length]).join('');
    const expected = viaLibmime(value).slice(0, 400);
    const got = subjectOf(Buffer.from(`Subject: ${value}\r\n`, 'utf8'));
    assert.equal(got, expected === '' ? null : [...expected].slice(0, MAX_SUBJECT_CHARS).join(''), JSON.stringify(value));
  }
});
