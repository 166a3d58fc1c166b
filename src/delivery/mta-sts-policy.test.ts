import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isMxInPolicy, matchesMxPattern, MAX_AGE_LIMIT, parseMtaStsPolicy, parseStsRecord } from './mta-sts-policy.js';

describe('parseStsRecord (_mta-sts TXT)', () => {
  const cases: [string, string[][], { id: string } | null][] = [
    ['plain record', [['v=STSv1; id=20160831085700Z;']], { id: '20160831085700Z' }],
    ['no trailing semicolon, spaces', [['v=STSv1;   id=abc123  ']], { id: 'abc123' }],
    ['record split in chunks', [['v=STSv1; id=12', '34']], { id: '1234' }],
    ['unrelated TXT next to it', [['v=spf1 -all'], ['v=STSv1; id=x1']], { id: 'x1' }],
    ['extension fields ignored', [['v=STSv1; id=abc; ext=1']], { id: 'abc' }],
    ['two STS records: invalid', [['v=STSv1; id=a'], ['v=STSv1; id=b']], null],
    ['no STS record', [['v=spf1 -all']], null],
    ['no records', [], null],
    ['id missing', [['v=STSv1;']], null],
    ['id too long', [['v=STSv1; id=' + 'a'.repeat(33)]], null],
    ['id with bad characters', [['v=STSv1; id=a-b']], null],
    ['wrong version', [['v=STSv2; id=abc']], null],
    ['version not first', [['id=abc; v=STSv1']], null],
  ];
  for (const [name, records, want] of cases) it(name, () => assert.deepEqual(parseStsRecord(records), want));
});

describe('parseMtaStsPolicy', () => {
  const ok: [string, string, { mode: string; mx: string[]; maxAge: number }][] = [
    ['RFC 8461 example (CRLF)', 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n',
      { mode: 'enforce', mx: ['mail.example.com', '*.example.net', 'backupmx.example.com'], maxAge: 604800 }],
    ['LF, upper-case mx, trailing dot, no final newline', 'version: STSv1\nmode: testing\nmx: MX.Example.COM.\nmax_age: 86400',
      { mode: 'testing', mx: ['mx.example.com'], maxAge: 86400 }],
    ['mode none needs no mx', 'version: STSv1\nmode: none\nmax_age: 0\n', { mode: 'none', mx: [], maxAge: 0 }],
    ['unknown keys ignored, first value wins', 'version: STSv1\nmode: enforce\nmode: none\nfoo: bar\nmx: a.test\nmax_age: 60\n',
      { mode: 'enforce', mx: ['a.test'], maxAge: 60 }],
    ['max_age capped at one year', 'version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 9999999999\n',
      { mode: 'enforce', mx: ['a.test'], maxAge: MAX_AGE_LIMIT }],
    ['whitespace after the colon and at the end', 'version:STSv1\nmode:\tenforce  \nmx:   a.test\nmax_age: 60   \n',
      { mode: 'enforce', mx: ['a.test'], maxAge: 60 }],
  ];
  for (const [name, text, want] of ok) {
    it(name, () => assert.deepEqual(parseMtaStsPolicy(text), { ok: true, policy: want }));
  }
  const bad: [string, string, RegExp][] = [
    ['wrong version', 'version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 60\n', /version/],
    ['no version', 'mode: enforce\nmx: a.test\nmax_age: 60\n', /version/],
    ['unknown mode', 'version: STSv1\nmode: strict\nmx: a.test\nmax_age: 60\n', /mode/],
    ['no max_age', 'version: STSv1\nmode: enforce\nmx: a.test\n', /max_age/],
    ['negative max_age', 'version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n', /max_age/],
    ['enforce without mx', 'version: STSv1\nmode: enforce\nmax_age: 60\n', /no mx/],
    ['wildcard in the middle', 'version: STSv1\nmode: enforce\nmx: mail.*.test\nmax_age: 60\n', /invalid mx/],
    ['HTML instead of a policy', '<html><body>hello</body></html>\n', /malformed/],
  ];
  for (const [name, text, error] of bad) {
    it(`refuses: ${name}`, () => {
      const r = parseMtaStsPolicy(text);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, error);
    });
  }
});

describe('matchesMxPattern (RFC 8461 §4.1)', () => {
  const cases: [string, string, boolean][] = [
    ['mail.example.com', 'mail.example.com', true],
    ['MAIL.example.com.', 'mail.EXAMPLE.com', true],
    ['mail.example.com', 'mail.example.net', false],
    ['mx1.example.com', '*.example.com', true],
    ['example.com', '*.example.com', false],
    ['a.b.example.com', '*.example.com', false],
    ['mx1.example.com.', '*.example.com', true],
    ['mx1.badexample.com', '*.example.com', false],
    ['xexample.com', '*.example.com', false],
    ['mail.example.com', 'example.com', false],
  ];
  for (const [host, pattern, want] of cases) {
    it(`${host} ${want ? 'matches' : 'does not match'} ${pattern}`, () => assert.equal(matchesMxPattern(host, pattern), want));
  }
  it('isMxInPolicy: any pattern', () => {
    assert.equal(isMxInPolicy('mx2.example.net', { mx: ['mail.example.com', '*.example.net'] }), true);
    assert.equal(isMxInPolicy('mx.other.test', { mx: ['mail.example.com', '*.example.net'] }), false);
  });
});
