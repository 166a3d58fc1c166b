// The field-block parser and typed-value helpers of the report readers, as literal tables.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressesIn, addressOf, headerFields, hostOf, messageIdOf, originalHeadersOf, parseFieldGroups, statusOf, withoutType } from './report-fields.js';

describe('parseFieldGroups', () => {
  it('splits blocks at blank lines, unfolds continuations, lower-cases names, skips junk lines', () => {
    const text = 'Reporting-MTA: dns; mx.example.org\r\nX-Junk line without colon\r\n\r\n \r\nFinal-Recipient: rfc822; a@example.org\r\n'
      + 'Diagnostic-Code: smtp; 550 5.1.1 <a@example.org>:\r\n    User   unknown\r\n\tin table\r\nAction:failed\r\n\r\n\r\nStatus: 4.2.2\n';
    assert.deepEqual(parseFieldGroups(text), [
      [['reporting-mta', 'dns; mx.example.org']],
      [['final-recipient', 'rfc822; a@example.org'], ['diagnostic-code', 'smtp; 550 5.1.1 <a@example.org>: User unknown in table'], ['action', 'failed']],
      [['status', '4.2.2']],
    ]);
  });
  it('ignores a continuation with nothing to continue and names with spaces or nothing', () => {
    assert.deepEqual(parseFieldGroups('  orphan\r\nBad Name: x\r\n: empty\r\nGood: y'), [[['good', 'y']]]);
  });
});

describe('typed values', () => {
  const table: [string, (v: string) => unknown, string, unknown][] = [
    ['withoutType', withoutType, 'rfc822; bob@example.org', 'bob@example.org'],
    ['withoutType', withoutType, 'X-Postfix; host said: 550 no', 'host said: 550 no'],
    ['withoutType', withoutType, '550 5.1.1 <a@b>; no such user', '550 5.1.1 <a@b>; no such user'],
    ['addressOf', addressOf, 'RFC822; <Bob@Example.org> (Bob)', 'Bob@Example.org'],
    ['addressOf', addressOf, 'rfc822;bounce+01JZ3K4M5N6P7Q8R9S0T.3.abcdefghij@b.example.com', 'bounce+01JZ3K4M5N6P7Q8R9S0T.3.abcdefghij@b.example.com'],
    ['addressOf', addressOf, 'utf-8; bob@example.org.', 'bob@example.org'],
    ['addressOf', addressOf, '<>', null],
    ['addressOf', addressOf, 'rfc822; redacted', null],
    ['addressesIn', addressesIn, 'Quinn <q@x.example>, "Other, Person" <o@x.example>, bare@y.example', ['q@x.example', 'o@x.example', 'bare@y.example']],
    ['addressesIn', addressesIn, '<redacted>', []],
    ['hostOf', hostOf, 'dns; gmail-smtp-in.l.google.com. (2a00:1450::1a, the server for the domain gmail.com.)', 'gmail-smtp-in.l.google.com'],
    ['hostOf', hostOf, 'dns;EX02.fabrikam.local', 'EX02.fabrikam.local'],
    ['hostOf', hostOf, 'dns; [192.0.2.1]', '[192.0.2.1]'],
    ['hostOf', hostOf, 'dns;', null],
    ['messageIdOf', messageIdOf, ' <a.b@c.example> (comment)', '<a.b@c.example>'],
    ['messageIdOf', messageIdOf, 'a.b@c.example', '<a.b@c.example>'],
    ['messageIdOf', messageIdOf, 'no id here', null],
    ['statusOf', statusOf, '5.0.0 (permanent failure)', '5.0.0'],
    ['statusOf', statusOf, '4.02.002', '4.2.2'],
    ['statusOf', statusOf, '5.1.1.1', null],
    ['statusOf', statusOf, 'failed', null],
  ];
  for (const [name, fn, input, expected] of table) {
    it(`${name}(${JSON.stringify(input)})`, () => assert.deepEqual(fn(input), expected));
  }
});

describe('headers of a returned message', () => {
  it('reads only the header section, after leading blank lines', () => {
    const message = '\r\n\r\nReturn-Path: <bounce+x@b.example.com>\r\nTo: a@example.org,\r\n b@example.org\r\nMessage-ID:\r\n <m1@relay.example>\r\n'
      + 'List-Unsubscribe: <https://u.example/1>\r\n\r\nMessage-ID: <body@not.a.header>\r\n';
    assert.equal(headerFields(message).length, 4);
    assert.deepEqual(originalHeadersOf(message), {
      returnPath: 'bounce+x@b.example.com', to: ['a@example.org', 'b@example.org'], messageId: '<m1@relay.example>', listUnsubscribe: '<https://u.example/1>',
    });
    assert.deepEqual(originalHeadersOf('Return-Path: <>\r\n'), { returnPath: null, to: [], messageId: null, listUnsubscribe: null });
  });
});

it('addressesIn: an address whose domain is only dots is no address (found by fuzzing)', () => {
  // The trailing dot of a sentence is dropped ("a@b." → "a@b"); "way@." used to become "way@".
  assert.deepEqual(addressesIn('write to way@. or a@b.example.'), ['a@b.example']);
  assert.deepEqual(addressesIn('\0@.:'), []);
  assert.deepEqual(addressesIn('x@..'), []);
});
