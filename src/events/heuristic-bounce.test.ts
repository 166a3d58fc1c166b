// Recognising text bounces (who sent them, what they say) and reading the address blocks of the
// usual shapes, as tables. The full messages are in report-parser.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTextBounce, readTextBounce, type TextBounceInput } from './heuristic-bounce.js';

describe('isTextBounce', () => {
  const cases: [string, Partial<TextBounceInput>, boolean][] = [
    ['Exim', { from: 'Mail Delivery System <Mailer-Daemon@mx.example.com>', subject: 'Mail delivery failed: returning message to sender' }, true],
    ['qmail', { from: 'MAILER-DAEMON@mail.example.net', subject: 'failure notice' }, true],
    ['Yahoo', { from: 'MAILER-DAEMON@yahoo.com', subject: 'Failure Notice' }, true],
    ['Sendmail', { from: 'Mail Delivery Subsystem <MAILER-DAEMON@host.example>', subject: 'Returned mail: see transcript for details' }, true],
    ['postmaster, by wording', { from: 'postmaster@example.org', subject: 'Notice', text: 'Hi. This is the qmail-send program at x.\r\n' }, true],
    ['null sender, by subject', { from: 'mx.example.org', subject: 'Undelivered Mail Returned to Sender', envelopeFrom: '' }, true],
    ['a person quoting a bounce', { from: 'Bob <bob@example.org>', subject: 'Fwd: Undeliverable: hi' }, false],
    ['daemon, but an auto-reply', { from: 'postmaster@example.org', subject: 'Automatic reply: hi', text: 'I am away.' }, false],
    ['null sender, but an auto-reply', { from: 'rita@example.org', subject: 'Out of office', envelopeFrom: '' }, false],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.equal(isTextBounce({ from: '', subject: '', text: '', ...input }), expected));
  }
});

describe('readTextBounce', () => {
  const read = (text: string) => readTextBounce({ from: 'MAILER-DAEMON@x.example', subject: 'failure notice', text, failedRecipients: null, original: null, namedMessageId: null });

  it('takes "(reason: …)", a quoted multi-line reply, or the explanation', () => {
    const report = read([
      '<a@x.example>', '    (reason: 550 5.1.1 <a@x.example>... User unknown)', '',
      '  b@x.example', '    SMTP error from remote mail server after RCPT TO:<b@x.example>:', '    452-4.2.2 The email account is over quota.', '    452 4.2.2 Try later.',
      '  c@x.example', '    retry timeout exceeded', '',
      '<A@X.EXAMPLE>:', 'a duplicate is kept once', '',
    ].join('\r\n'));
    assert.deepEqual(report?.recipients, [
      { address: 'a@x.example', diagnostic: '550 5.1.1 <a@x.example>... User unknown', status: '5.1.1' },
      { address: 'b@x.example', diagnostic: '452-4.2.2 The email account is over quota.\n452 4.2.2 Try later.', status: '4.2.2' },
      { address: 'c@x.example', diagnostic: 'retry timeout exceeded', status: null },
    ]);
  });

  it('does not look for addresses in the quoted original', () => {
    const report = read(['<a@x.example>:', 'Sorry. (#5.1.1)', '', '--- Below this line is a copy of the message.', '', 'Message-ID: <m@x>', '', 'b@x.example', ''].join('\n'));
    assert.deepEqual(report?.recipients.map((r) => r.address), ['a@x.example']);
    assert.equal(report?.originalMessageId, '<m@x>');
  });
});

it('an address line whose domain is only dots names no recipient (found by fuzzing)', () => {
  const input: TextBounceInput = { from: 'MAILER-DAEMON@mx.example', subject: 'Undelivered Mail', text: '<way@.>\n\nbob@dest.example:\n550 5.1.1 unknown\n', envelopeFrom: '', failedRecipients: null, original: null, namedMessageId: null };
  assert.deepEqual(readTextBounce(input)?.recipients.map((r) => r.address), ['bob@dest.example']);
});
