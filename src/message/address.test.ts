import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMailArgs, parseRcptArgs, parseMailbox, relayTrickIn } from './address.js';

const mailOk = (arg: string) => {
  const r = parseMailArgs(arg);
  assert.ok(r.ok, `expected ok for ${arg}: ${JSON.stringify(r)}`);
  return r.value;
};
const mailErr = (arg: string) => {
  const r = parseMailArgs(arg);
  assert.ok(!r.ok, `expected error for ${arg}`);
  return r.error;
};
const rcptOk = (arg: string) => {
  const r = parseRcptArgs(arg);
  assert.ok(r.ok, `expected ok for ${arg}: ${JSON.stringify(r)}`);
  return r.value.recipient;
};
const rcptErr = (arg: string) => {
  const r = parseRcptArgs(arg);
  assert.ok(!r.ok, `expected error for ${arg}`);
  return r.error;
};

test('MAIL FROM: plain, null sender, tolerated space after the colon, domain lower-cased', () => {
  assert.equal(mailOk('FROM:<Alice@Example.COM>').sender?.address, 'Alice@example.com');
  assert.equal(mailOk('from:<>').sender, null);
  assert.equal(mailOk('FROM: <a@b.example>').sender?.address, 'a@b.example');
  assert.deepEqual(mailOk('FROM:<a@b.example>').params, { size: null, body: null, smtputf8: false, ret: null, envid: null, requireTls: false });
});

test('MAIL FROM parameters', () => {
  assert.deepEqual(mailOk('FROM:<a@b.example> SIZE=1000 BODY=8bitmime SMTPUTF8').params, { size: 1000, body: '8BITMIME', smtputf8: true, ret: null, envid: null, requireTls: false });
  assert.deepEqual(mailOk('FROM:<> BODY=7BIT').params, { size: null, body: '7BIT', smtputf8: false, ret: null, envid: null, requireTls: false });
  assert.equal(mailOk('FROM:<a@b.example> AUTH=<>').sender?.address, 'a@b.example');
  assert.equal(mailErr('FROM:<a@b.example> SIZE=abc'), 'param-syntax');
  assert.equal(mailErr('FROM:<a@b.example> SIZE'), 'param-syntax');
  assert.equal(mailErr('FROM:<a@b.example> SIZE=1 SIZE=2'), 'param-syntax');
  assert.equal(mailErr('FROM:<a@b.example> SMTPUTF8=yes'), 'param-syntax');
  assert.equal(mailErr('FROM:<a@b.example> BODY=BINARYMIME'), 'param-unknown');
  assert.deepEqual(mailOk('FROM:<a@b.example> RET=hdrs ENVID=QQ+2Bx+3D1').params, { size: null, body: null, smtputf8: false, ret: 'HDRS', envid: 'QQ+x=1', requireTls: false });
  assert.equal(mailErr('FROM:<a@b.example> RET=BODY'), 'param-syntax');
  assert.equal(mailErr('FROM:<a@b.example> RET'), 'param-syntax');
  assert.equal(mailErr('FROM:<a@b.example> ENVID=a+2'), 'param-syntax');
  assert.equal(mailErr(`FROM:<a@b.example> ENVID=${'x'.repeat(101)}`), 'param-syntax');
  assert.equal(mailErr('FROM:<a@b.example> RET=FULL RET=HDRS'), 'param-syntax');
  assert.equal(mailOk('FROM:<a@b.example> requiretls').params.requireTls, true); // RFC 8689
  assert.equal(mailErr('FROM:<a@b.example> REQUIRETLS=yes'), 'param-syntax');
  assert.equal(mailErr('FROM:<a@b.example>SIZE=1'), 'syntax');
});

test('malformed paths', () => {
  for (const arg of ['FROM:a@b.example', 'FROM:<a@b.example', 'FROM:<a>', 'FROM:<@b.example>', 'FROM:<a@>',
    'FROM:<a@b..example>', 'FROM:<a..b@c.example>', 'FROM:<.a@c.example>', 'FROM:<a b@c.example>',
    'FROM:<a@-b.example>', 'FROM:<a@b_c.example>', 'FROM:<a@[1.2.3]>', 'FROM:<a@@b.example>', 'FROM <a@b.example>',
    'TO:<a@b.example>', 'FROM:<"unterminated@b.example>', 'FROM:<a@b.example.>', 'FROM:<<a@b.example>>']) {
    assert.equal(mailErr(arg), 'syntax', arg);
  }
});

test('length limits: 64 local, 256 path', () => {
  assert.equal(mailOk(`FROM:<${'a'.repeat(64)}@b.example>`).sender?.local.length, 64);
  assert.equal(mailErr(`FROM:<${'a'.repeat(65)}@b.example>`), 'path-too-long');
  const domain = `${'d'.repeat(60)}.`.repeat(4) + 'example';
  assert.equal(mailOk(`FROM:<a@${domain}>`).sender?.domain, domain, '255-octet path (with brackets)');
  assert.equal(mailErr(`FROM:<abc@${domain}>`), 'path-too-long', '257-octet path');
});

test('quoted local parts, address literals and UTF-8', () => {
  const q = mailOk('FROM:<"john smith"@b.example>').sender!;
  assert.equal(q.isQuoted, true);
  assert.equal(q.address, '"john smith"@b.example');
  assert.equal(mailOk('FROM:<a@[192.0.2.1]>').sender?.isAddressLiteral, true);
  assert.equal(mailOk('FROM:<a@[IPv6:2001:db8::1]>').sender?.domain, '[IPv6:2001:db8::1]');
  const u = mailOk('FROM:<josé@Bücher.example> SMTPUTF8').sender!;
  assert.equal(u.isUtf8, true);
  assert.equal(u.domain, 'bücher.example');
  assert.equal(mailOk('FROM:<a@b.example>').sender?.isUtf8, false);
});

test('RCPT TO: <postmaster> alone; unknown parameters; errors', () => {
  assert.equal(rcptOk('TO:<Postmaster>').address, 'postmaster');
  assert.equal(rcptOk('TO:<postmaster@Relay.Test>').address, 'postmaster@relay.test');
  assert.equal(rcptErr('TO:<>'), 'syntax');
  assert.equal(rcptErr('TO:<a@b.example> X-FOO=1'), 'param-unknown');
  assert.equal(rcptErr('TO:<a@b.example> =x'), 'param-syntax');
  assert.equal(rcptErr('TO:<bob>'), 'syntax');
});

test('source routes are parsed and dropped; the real domain is the last one', () => {
  const m = rcptOk('TO:<@relay.test,@hop.example:user@other.example>');
  assert.equal(m.hasSourceRoute, true);
  assert.equal(m.domain, 'other.example');
  assert.equal(m.address, 'user@other.example');
  assert.equal(rcptErr('TO:<@relay.test user@other.example>'), 'syntax');
});

test('relay tricks', () => {
  const trick = (arg: string) => relayTrickIn(rcptOk(arg));
  assert.equal(trick('TO:<user@relay.test>'), null);
  assert.equal(trick('TO:<user%other.example@relay.test>'), 'percent-hack');
  assert.equal(trick('TO:<other.example!user@relay.test>'), 'bang-path');
  assert.equal(trick('TO:<@relay.test:user@other.example>'), 'source-route');
  assert.equal(trick('TO:<"user@other.example"@relay.test>'), 'quoted-routing');
  assert.equal(trick('TO:<"user%other"@relay.test>'), 'quoted-routing');
  assert.equal(trick('TO:<"john smith"@relay.test>'), null);
  assert.equal(trick('TO:<user@[127.0.0.1]>'), 'ip-literal');
});

test('parseMailbox', () => {
  assert.equal(parseMailbox('a@B.example')?.address, 'a@b.example');
  assert.equal(parseMailbox('a@b.example> SIZE=1'), null);
  assert.equal(parseMailbox('nope'), null);
});

test('random input never throws and never yields an address with spaces, brackets or control characters', () => {
  let seed = 7;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const alphabet = ['<', '>', '@', '"', '\\', ':', ',', '.', '%', '!', ' ', '[', ']', 'a', 'B', '1', '-', 'é', '=', '\t', '\0', 'IPv6:'];
  for (let i = 0; i < 5000; i++) {
    const s = Array.from({ length: rand(30) }, () => alphabet[rand(alphabet.length)]).join('');
    for (const r of [parseMailArgs('FROM:' + s), parseRcptArgs('TO:' + s), parseRcptArgs('TO:<' + s + '>')]) {
      if (!r.ok) continue;
      const m = 'sender' in r.value ? r.value.sender : r.value.recipient;
      if (m && !m.isQuoted) assert.doesNotMatch(m.address, /[\s<>\0"\\]/, s);
    }
  }
});

test('IPv6 address literals: no zone index (found by fuzzing)', () => {
  // node:net's isIPv6 accepts "fe80::1%eth0"; RFC 5321's IPv6-addr has no zone, and a zone names
  // an interface of the machine that reads it.
  for (const lit of ['fe80::1%eth0', 'fe80::1%25lo', '::1%1']) {
    assert.equal(mailErr(`FROM:<a@[IPv6:${lit}]>`), 'syntax', lit);
    assert.equal(parseMailbox(`a@[IPv6:${lit}]`), null, lit);
  }
  assert.equal(mailOk('FROM:<a@[IPv6:fe80::1]>').sender?.domain, '[IPv6:fe80::1]');
  assert.equal(mailOk('FROM:<a@[IPv6:::ffff:192.0.2.1]>').sender?.isAddressLiteral, true);
});

test('lone UTF-16 surrogates are refused (an API string can carry them; UTF-8 cannot; found by fuzzing)', () => {
  for (const text of ['\ud800@example.com', 'a\udfffb@example.com', '"\ud83d"@example.com']) assert.equal(parseMailbox(text), null, JSON.stringify(text));
  assert.equal(parseMailbox('😀@example.com')?.isUtf8, true, 'a surrogate pair is one character');
});

test('no < or > in a quoted local part, even escaped (found by fuzzing)', () => {
  // Valid RFC 5321, but the address is written between angle brackets in Received, DSNs, logs and
  // by nodemailer, whose header writer turns < and > into spaces: one address would become another.
  for (const arg of ['FROM:<"<"@a.example>', 'FROM:<"a>b"@a.example>', 'FROM:<"\\<x\\>"@a.example>']) assert.equal(mailErr(arg), 'syntax', arg);
  assert.equal(mailOk('FROM:<"a b(c)"@a.example>').sender?.local, '"a b(c)"');
});

test('RCPT TO: DSN parameters NOTIFY and ORCPT (RFC 3461), xtext decoded', () => {
  const ok = (arg: string) => { const r = parseRcptArgs(arg); assert.ok(r.ok, arg); return r.value; };
  assert.deepEqual(ok('TO:<a@b.example>').notify, null);
  assert.deepEqual(ok('TO:<a@b.example> NOTIFY=NEVER').notify, 'NEVER');
  assert.deepEqual(ok('TO:<a@b.example> NOTIFY=success,Delay').notify, ['SUCCESS', 'DELAY']);
  assert.deepEqual(ok('TO:<a@b.example> ORCPT=rfc822;A+2BB@c.example').orcpt, { type: 'rfc822', address: 'A+B@c.example' });
  assert.deepEqual(ok('TO:<a@b.example> ORCPT=UTF-8;j+5Cx{E9}@c.example').orcpt, { type: 'utf-8', address: 'j\u00e9@c.example' });
  assert.deepEqual(ok('TO:<a@b.example> ORCPT=utf-8;j\u00e9+2B1@c.example').orcpt, { type: 'utf-8', address: 'j\u00e9+1@c.example' }, 'RFC 6533 unitext');
  for (const bad of ['ORCPT=rfc822;j\u00e9@c.example', 'NOTIFY=NEVER,SUCCESS', 'NOTIFY=SUCCESS,SUCCESS', 'NOTIFY=', 'NOTIFY', 'NOTIFY=ALWAYS', 'ORCPT=a@b.example', 'ORCPT=rfc822;', 'ORCPT=rfc822;a+zz', 'ORCPT=;a@b']) {
    assert.equal(rcptErr(`TO:<a@b.example> ${bad}`), 'param-syntax', bad);
  }
});

test('the plain-path shortcut gives what the general parser gives (fast-check, MAIL and RCPT)', async () => {
  const { default: fc } = await import('fast-check');
  const { parseMailArgsGeneral, parseRcptArgsGeneral } = await import('./address.js');
  const chars = (s: string) => fc.constantFrom(...[...s]);
  const localChar = chars('abcXYZ09.-_+=%!#$&\'*/?^`{|}~"@\\ é<>[]');
  const domainChar = chars('abcXYZ09.-.[]:é_ ');
  const local = fc.oneof(fc.string({ unit: localChar, maxLength: 70 }), fc.constantFrom('a', 'A.b', 'postmaster', 'Postmaster', 'x'.repeat(64), 'x'.repeat(65), '"q"', '.a', 'a.', 'a..b'));
  const domain = fc.oneof(fc.string({ unit: domainChar, maxLength: 80 }), fc.constantFrom('b.test', 'B.Test', 'a-b.c', '-a.b', 'a-.b', '[192.0.2.1]', `${'d'.repeat(63)}.test`, `${'d'.repeat(64)}.test`, `${'a.'.repeat(126)}b`));
  const prefix = fc.constantFrom('TO:', 'to:', 'To:', 'tO:', 'TO: ', 'TO:  ', 'FROM:', 'from:', 'From: ', 'TQ:', 'FROM', 'TO', 'FRAM:', '');
  const around = fc.record({ open: fc.constantFrom('<', '', '<@r.test:', '<<'), close: fc.constantFrom('>', '', '>>', '> ', '> NOTIFY=NEVER', '> SIZE=10', '> BODY=8BITMIME', '>x') });
  const built = fc.tuple(prefix, around, local, domain, fc.constantFrom('@', '@@', '')).map(([p, a, l, d, at]) => `${p}${a.open}${l}${at}${d}${a.close}`);
  const anyArg = fc.oneof(built, fc.string({ maxLength: 40 }), fc.constantFrom('TO:<postmaster>', 'to:<PostMaster>', 'FROM:<>', 'TO:<a@b.test>', 'FROM:<A@B.TEST>'));
  const same = (a: unknown, b: unknown, arg: string) => {
    assert.deepStrictEqual(a, b, arg);
    assert.equal(JSON.stringify(a), JSON.stringify(b), arg); // the same keys in the same order
  };
  fc.assert(fc.property(anyArg, (arg) => {
    same(parseRcptArgs(arg), parseRcptArgsGeneral(arg), arg);
    same(parseMailArgs(arg), parseMailArgsGeneral(arg), arg);
  }), { numRuns: 20000 });
  // the shortcut's own inputs, among them the longest it takes and the first it leaves to the general parser
  for (const arg of ['TO:<a@b.test>', 'to:<First.Last+tag@Sub.Example.COM>', `TO:<${'x'.repeat(64)}@b.test>`, `TO:<${'x'.repeat(65)}@b.test>`,
    `TO:<a@${'d'.repeat(63)}.test>`, `TO:<${'l'.repeat(64)}@${'d.'.repeat(94)}test>`, `TO:<${'l'.repeat(64)}@${'d.'.repeat(95)}test>`, 'FROM:<Alice@Example.com>']) {
    same(parseRcptArgs(arg), parseRcptArgsGeneral(arg), arg);
    same(parseMailArgs(arg), parseMailArgsGeneral(arg), arg);
  }
});
