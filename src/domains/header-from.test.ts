// parseHeaderFrom skips addressparser() for a field value that is one plain address (issue 14: it
// was ~3 KB of garbage per message) and skips lines that cannot be originator fields. Both are
// checked here against the full parse: the same originators for every value and header block,
// generated from the characters that make addresses tricky (quotes, comments, groups, brackets).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import addressparser from 'nodemailer/lib/addressparser';
import { domainOfAddress } from './domain-name.js';
import { parseHeaderFrom, type HeaderFrom, type Originator, type OriginatorField } from './header-from.js';

/** The parse before the shortcuts: every line through the field regex, every value through addressparser(). */
function reference(text: string): HeaderFrom {
  const byName = new Map<string, OriginatorField>((['From', 'Sender', 'Resent-From', 'Resent-Sender'] as const).map((f) => [f.toLowerCase(), f]));
  const end = text.search(/\r?\n\r?\n/);
  const unfolded = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n(?=[ \t])/g, '');
  const originators: Originator[] = [];
  let fields = 0;
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^([!-9;-~]+)[ \t]*:/.exec(line);
    const field = m ? byName.get(m[1]!.toLowerCase()) : undefined;
    if (!field) continue;
    if (field === 'From') fields++;
    for (const a of addressparser(line.slice(m![0].length), { flatten: true })) originators.push({ field, domain: a.address ? domainOfAddress(a.address) : null });
  }
  return { domains: originators.filter((o) => o.field === 'From').map((o) => o.domain), fields, originators };
}

/** A small deterministic generator (the failing value is printed; no seed to chase). */
function* values(count: number): Generator<string> {
  const pieces = ['a', 'Bob', 'x.y', 'ex.com', 'EXAMPLE.org', '@', '<', '>', ' ', '\t', '"', '(', ')', ',', ';', ':', '.', '-', '+', '_', '=?utf-8?q?x?=', 'é', '\\', '[', ']', '1', 'xn--80ak6aa92e.com', 'a@b.c', 'evil.test'];
  let s = 12345;
  const next = () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s; };
  for (let i = 0; i < count; i++) {
    let v = '';
    const n = 1 + (next() % 12);
    for (let k = 0; k < n; k++) v += pieces[next() % pieces.length];
    yield v;
  }
}

describe('parseHeaderFrom shortcuts', () => {
  it('plain values give what addressparser gives', () => {
    const plain = ['sender@src.test', '<sender@src.test>', '  <a.b+c@Example.COM>  ', 'Alice <alice@example.com>', 'Alice  Smith\t<alice@shop.example.org>',
      'a@b', '<a@b.>', 'x <-@-.>', 'bob@evil.test', '1 2 3 <x@y.z>', 'a@b.c.d.e'];
    for (const v of plain) assert.deepEqual(parseHeaderFrom(`From: ${v}\r\n`), reference(`From: ${v}\r\n`), v);
  });

  it('tricky values: the same originators as the full parse', () => {
    const tricky = ['"a@evil.test" <a@good.test>', 'a@good.test (a@evil.test)', 'a@good.test, b@evil.test', 'group: a@x.test, b@y.test;', '<a@good.test> b@evil.test',
      'Name <a@good.test', 'a@good.test>', '<<a@good.test>>', 'a@good.test <b@evil.test>', '=?utf-8?q?a@x.test?= <b@y.test>', 'a.b@c <d@e.f>', 'x <a@b> <c@d>',
      '<a@b>\t', '\t<a@b>', ' ', '', '<>', 'a@', '@b.test', 'é <a@b.test>', 'a b.c <x@y.test>'];
    for (const v of tricky) assert.deepEqual(parseHeaderFrom(`From: ${v}\r\nSender: ${v}\r\n`), reference(`From: ${v}\r\nSender: ${v}\r\n`), v);
    for (const v of values(5000)) {
      const text = `Resent-From: ${v}\r\nFrom: ${v}\r\nsender: ${v}\r\n`;
      assert.deepEqual(parseHeaderFrom(text), reference(text), JSON.stringify(v));
    }
  });

  it('header blocks: fields in any case, folded, after an empty first line, before and after the blank line', () => {
    const blocks = [
      'Subject: hi\r\nFROM: a@x.test\r\nTo: b@y.test\r\n',
      'from :\r\n <a@x.test>\r\nRESENT-sender: Bob <b@y.test>\r\n',
      '\r\nFrom: a@x.test\r\n',
      'X: 1\r\n\r\nFrom: a@x.test\r\n',
      'From: a@x.test\nFrom: b@y.test\n\nSender: c@z.test\n',
      'Received: from host\r\n\tby relay; Fri\r\nFrom: "Q" <a@x.test>\r\nSender:\r\n\r\n',
      ' From: indented@x.test\r\nReply-To: r@x.test\r\nFromage: a@x.test\r\n',
      'From: a@x.test\r\r\nSender: b@y.test\r\n',
    ];
    for (const b of blocks) {
      assert.deepEqual(parseHeaderFrom(b), reference(b), JSON.stringify(b));
      assert.deepEqual(parseHeaderFrom(Buffer.from(b)), reference(b), JSON.stringify(b));
    }
  });
});
