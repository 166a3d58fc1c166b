// The bounce table, checked as a table: replies in the shapes the big providers and the common
// MTAs send (multi-line, with and without enhanced codes, as DSN Diagnostic-Codes) → class and
// category, plus the parsing of the codes themselves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyBounce, parseResponse, type BounceCategory, type BounceType } from './bounce-classifier.js';

type Row = [response: string, bounceType: BounceType, category: BounceCategory, code: number | null, enhanced: string | null];

const GMAIL: Row[] = [
  ['550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient\'s email address for typos or\r\n550-5.1.1 unnecessary spaces. For more information, go to\r\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser d2e1a72fcca58-7a0b1c3d4e5sm123456b.12 - gsmtp',
    'hard', 'unknown-user', 550, '5.1.1'],
  ['552-5.2.2 The recipient\'s inbox is out of storage space. Please direct the\r\n552-5.2.2 recipient to\r\n552 5.2.2  https://support.google.com/mail/?p=OverQuotaTemp 5b1f17b1804b1-4a2b3c4d5esi123456f.99 - gsmtp',
    'soft', 'mailbox-full', 552, '5.2.2'],
  ['552-5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm - gsmtp',
    'soft', 'mailbox-full', 552, '5.2.2'],
  ['550-5.2.1 The email account that you tried to reach is disabled. Learn more at\r\n550 5.2.1  https://support.google.com/mail/?p=DisabledUser a1b2c3d4-gsmtp',
    'hard', 'mailbox-disabled', 550, '5.2.1'],
  ['550-5.7.26 Unauthenticated email from example.com is not accepted due to\r\n550-5.7.26 domain\'s DMARC policy. Please contact the administrator of\r\n550 5.7.26 example.com domain. https://support.google.com/mail/answer/2451690 - gsmtp',
    'block', 'auth-failure', 550, '5.7.26'],
  ['550-5.7.26 This mail has been blocked because the sender is unauthenticated.\r\n550 5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM. - gsmtp',
    'block', 'auth-failure', 550, '5.7.26'],
  ['421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating\r\n421-4.7.28 from your IP address. To protect our users from spam, mail sent from\r\n421 4.7.28 your IP address has been temporarily rate limited. - gsmtp',
    'block', 'rate-limited', 421, '4.7.28'],
  ['421-4.7.26 This mail has been rate limited because it is unauthenticated. - gsmtp', 'block', 'rate-limited', 421, '4.7.26'],
  ['550-5.7.1 [203.0.113.7] Our system has detected that this message is likely\r\n550-5.7.1 unsolicited mail. To reduce the amount of spam sent to Gmail, this\r\n550 5.7.1 message has been blocked. - gsmtp',
    'block', 'spam', 550, '5.7.1'],
  ['550-5.7.1 [203.0.113.7] Gmail has detected that this message is likely suspicious due to the very low reputation of the sending domain. - gsmtp',
    'block', 'reputation', 550, '5.7.1'],
  ['552-5.7.0 This message was blocked because its content presents a potential\r\n552 5.7.0 security issue. Please visit https://support.google.com/mail/?p=BlockedMessage - gsmtp',
    'block', 'content-rejected', 552, '5.7.0'],
  ['450-4.2.1 The user you are trying to contact is receiving mail at a rate that\r\n450 4.2.1 prevents additional messages from being delivered. - gsmtp',
    'soft', 'rate-limited', 450, '4.2.1'],
  ['550 5.7.25 The IP address sending this message does not have a PTR record setup - gsmtp', 'block', 'auth-failure', 550, '5.7.25'],
];

const MICROSOFT: Row[] = [
  ['550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]', 'hard', 'unknown-user', 550, '5.5.0'],
  ['550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', 'hard', 'unknown-user', 550, '5.1.10'],
  ['550 5.7.1 Service unavailable, Client host [203.0.113.7] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/203.0.113.7 (AS3130). [BN8NAM11FT045.eop-nam11.prod.protection.outlook.com]',
    'block', 'blocklist', 550, '5.7.1'],
  ['550 5.7.1 Unfortunately, messages from [203.0.113.7] weren\'t sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [AM6EUR05FT018.eop-eur05.prod.protection.outlook.com]',
    'block', 'blocklist', 550, '5.7.1'],
  ['550 5.7.1 Unfortunately, messages from [203.0.113.7] weren\'t sent. Please contact your Internet service provider since part of their network is on our block list (S3140).',
    'block', 'blocklist', 550, '5.7.1'],
  ['451 4.7.650 The mail server [203.0.113.7] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster (S775) [Name=Protocol Filter Agent][AGT=PFA]',
    'block', 'rate-limited', 451, '4.7.650'],
  ['550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [SN1NAM02FT012.eop-nam02.prod.protection.outlook.com]', 'hard', 'unknown-user', 550, '5.4.1'],
  ['550 5.7.509 Access denied, sending domain example.com does not pass DMARC verification and has a DMARC policy of reject.', 'block', 'auth-failure', 550, '5.7.509'],
  ['550 5.7.606 Access denied, banned sending IP [203.0.113.7]. To request removal from this list please visit https://sender.office.com/ and follow the directions.',
    'block', 'reputation', 550, '5.7.606'],
  ['550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed as sender not authenticated', 'block', 'policy', 550, '5.7.133'],
  ['554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded', 'soft', 'mailbox-full', 554, '5.2.2'],
  ['552 5.3.4 Message size exceeds fixed maximum message size', 'soft', 'message-too-large', 552, '5.3.4'],
  // Exchange on-premises.
  ['550 5.1.1 RESOLVER.ADR.RecipNotFound; not found', 'hard', 'unknown-user', 550, '5.1.1'],
  ['550 5.4.1 Recipient address rejected: Access denied', 'hard', 'unknown-user', 550, '5.4.1'],
  // As an Exchange NDR quotes it (no code at the start).
  ['Remote server returned \'550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\'', 'hard', 'unknown-user', 550, '5.1.10'],
];

const YAHOO_APPLE: Row[] = [
  ['554 delivery error: dd This user doesn\'t have a yahoo.com account (someone@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com', 'hard', 'unknown-user', 554, null],
  ['554 delivery error: dd Sorry your message to someone@yahoo.com cannot be delivered. This mailbox is disabled (554.30). - mta4012.mail.bf1.yahoo.com',
    'hard', 'mailbox-disabled', 554, null],
  ['552 1 Requested mail action aborted, mailbox not found', 'hard', 'unknown-user', 552, null],
  ['421 4.7.0 [TSS04] Messages from 203.0.113.7 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
    'block', 'rate-limited', 421, '4.7.0'],
  ['553 5.7.2 [TSS09] All messages from 203.0.113.7 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes',
    'block', 'reputation', 553, '5.7.2'],
  ['554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes', 'block', 'policy', 554, '5.7.9'],
  ['550 5.1.1 <someone@icloud.com>: user does not exist', 'hard', 'unknown-user', 550, '5.1.1'],
  ['554 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137', 'block', 'policy', 554, '5.7.1'],
  ['552 5.2.2 <someone@icloud.com>: user is over quota', 'soft', 'mailbox-full', 552, '5.2.2'],
  ['554 5.7.1 [HM08] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137', 'block', 'policy', 554, '5.7.1'],
];

const POSTFIX_EXIM_SENDMAIL: Row[] = [
  ['550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table', 'hard', 'unknown-user', 550, '5.1.1'],
  ['550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in local recipient table', 'hard', 'unknown-user', 550, '5.1.1'],
  ['554 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.7', 'block', 'blocklist', 554, '5.7.1'],
  ['452 4.2.2 Mailbox full', 'soft', 'mailbox-full', 452, '4.2.2'],
  ['554 5.7.1 <bob@example.org>: Relay access denied', 'block', 'policy', 554, '5.7.1'],
  ['450 4.2.0 <bob@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html', 'soft', 'temporary', 450, '4.2.0'],
  ['450 4.1.1 <bob@example.org>: Recipient address rejected: User unknown in local recipient table', 'soft', 'unknown-user', 450, '4.1.1'],
  ['550 5.7.27 <bounce@example.com>: Sender address rejected: Domain example.com does not accept mail (nullMX)', 'block', 'policy', 550, '5.7.27'],
  ['550 5.1.2 <bob@nowhere.example>: Recipient address rejected: Domain not found', 'hard', 'bad-domain', 550, '5.1.2'],
  ['550 Unrouteable address', 'hard', 'bad-domain', 550, null],
  ['550 No Such User Here', 'hard', 'unknown-user', 550, null],
  ['550-Verification failed for <bounce+x@bounces.example.com>\r\n550-Called:   192.0.2.25\r\n550-Sent:     RCPT TO:<bounce+x@bounces.example.com>\r\n550-Response: 550 5.1.1 <bounce+x@bounces.example.com>: Recipient address rejected: User unknown\r\n550 Sender verify failed',
    'block', 'policy', 550, '5.1.1'],
  ['550-Callout verification failed:\r\n550 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown', 'hard', 'unknown-user', 550, '5.1.1'],
  ['550 5.1.1 <bob@example.org>... User unknown', 'hard', 'unknown-user', 550, '5.1.1'],
  ['553 5.3.0 <bob@example.org>... DNSBL:RBL 521< 203.0.113.7 >_is_blocked.For assistance forward this error to abuse_rbl@abuse-att.net', 'block', 'blocklist', 553, '5.3.0'],
  ['550 5.7.1 <bob@example.org>... Rejected: 203.0.113.7 listed at bl.spamcop.net', 'block', 'blocklist', 550, '5.7.1'],
  ['554 5.7.1 Rejected, your IP is listed by Barracuda Reputation', 'block', 'blocklist', 554, '5.7.1'],
  ['550 5.7.1 User bob (bob@example.org) not listed in Domino Directory', 'hard', 'unknown-user', 550, '5.7.1'],
  ['451 4.3.0 Temporary local problem, try again later', 'soft', 'temporary', 451, '4.3.0'],
  ['452 4.3.1 Insufficient system storage', 'soft', 'temporary', 452, '4.3.1'],
  ['530 5.7.0 Must issue a STARTTLS command first', 'block', 'policy', 530, '5.7.0'],
  ['550 5.7.1 Message rejected: virus found (Eicar-Test-Signature)', 'block', 'content-rejected', 550, '5.7.1'],
  ['550 Message rejected as spam by Content Filtering.', 'block', 'spam', 550, null],
  ['550 Requested action not taken', 'hard', 'unknown-user', 550, null],
  ['554 Transaction failed', 'soft', 'other', 554, null],
  ['421 Service not available, closing transmission channel', 'soft', 'temporary', 421, null],
  ['554 5.4.4 Unable to route: no mail hosts for domain', 'soft', 'other', 554, '5.4.4'],
  ['554 5.6.1 Media type not supported', 'block', 'content-rejected', 554, '5.6.1'],
  ['552 5.3.4 Error: message file too big', 'soft', 'message-too-large', 552, '5.3.4'],
];

/** Failures decided by the delivery stage, and DSN Diagnostic-Codes, as stored. */
const LOCAL_AND_DSN: Row[] = [
  ['5.1.10 the recipient domain does not accept mail (null MX)', 'hard', 'null-mx', null, '5.1.10'],
  ['556 5.1.10 Recipient address has null MX', 'hard', 'null-mx', 556, '5.1.10'],
  ['5.1.2 the recipient domain does not exist', 'hard', 'bad-domain', null, '5.1.2'],
  ['4.4.3 DNS lookup failed (ESERVFAIL)', 'soft', 'temporary', null, '4.4.3'],
  ['4.4.2 timed out talking to the mail server', 'soft', 'temporary', null, '4.4.2'],
  ['smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown', 'hard', 'unknown-user', 550, '5.1.1'],
  ['X-Postfix; host mx.example.org[192.0.2.1] said: 552 5.2.2 Over quota', 'soft', 'mailbox-full', 552, '5.2.2'],
  ['550: 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual alias table', 'hard', 'unknown-user', 550, '5.1.1'],
  ['', 'soft', 'other', null, null],
  ['No MX or A record for example.invalid', 'hard', 'bad-domain', null, null],
];

describe('classifyBounce', () => {
  const tables = { GMAIL, MICROSOFT, YAHOO_APPLE, POSTFIX_EXIM_SENDMAIL, LOCAL_AND_DSN };
  for (const [name, rows] of Object.entries(tables)) {
    it(name, () => {
      for (const [response, bounceType, category, code, enhanced] of rows) {
        const c = classifyBounce(response);
        assert.deepEqual([c.bounceType, c.category, c.code, c.enhanced], [bounceType, category, code, enhanced], `${response}\n(rule ${c.rule})`);
      }
    });
  }

  it('has at least 60 rows', () => assert.ok(Object.values(tables).flat().length >= 60));

  it('uses the enhanced hint (a DSN Status) only when the response has no enhanced code', () => {
    const cases: [string, string, BounceType, BounceCategory, string | null][] = [
      ['550 Requested action not taken: no access', '5.7.1', 'block', 'policy', '5.7.1'],
      ['smtp; 554 rejected', '5.1.1', 'hard', 'unknown-user', '5.1.1'],
      ['550 5.2.2 Over quota', '5.1.1', 'soft', 'mailbox-full', '5.2.2'],
      ['', '4.4.7', 'soft', 'temporary', '4.4.7'],
      ['554 rejected', 'not a status', 'soft', 'other', null],
    ];
    for (const [response, hint, bounceType, category, enhanced] of cases) {
      const c = classifyBounce(response, hint);
      assert.deepEqual([c.bounceType, c.category, c.enhanced], [bounceType, category, enhanced], `${response} / ${hint}`);
    }
  });

  it('names the deciding rule', () => {
    assert.equal(classifyBounce('550 5.1.1 <a@b.example>: Recipient address rejected: User unknown').rule, 'unknown-user');
    assert.equal(classifyBounce('550 5.1.3 Bad recipient address syntax').rule, 'enhanced-address');
    assert.equal(classifyBounce('551 User not local; please try <a@c.example>').rule, 'unknown-user');
    assert.equal(classifyBounce('553 sorry').rule, 'basic-name-not-allowed');
  });

  // A backtracking rule on 270,000 characters runs for minutes: the test timeout is the bound.
  it('stays fast on a long hostile reply', { timeout: 60_000 }, () => {
    const hostile = `550 ${'a'.repeat(200_000)}${' listed'.repeat(10_000)}`;
    assert.equal(classifyBounce(hostile).code, 550);
  });
});

describe('parseResponse', () => {
  it('takes the code and enhanced status off every line', () => {
    assert.deepEqual(parseResponse('550-5.1.1 first\r\n550-5.1.1 second\r\n550 5.1.1 third'), { code: 550, enhanced: '5.1.1', text: 'first second third' });
    assert.deepEqual(parseResponse('452 4.02.02 leading zeros'), { code: 452, enhanced: '4.2.2', text: 'leading zeros' });
    assert.deepEqual(parseResponse('smtp;550 5.7.1 typed'), { code: 550, enhanced: '5.7.1', text: 'typed' });
    assert.deepEqual(parseResponse('250 2.0.0 5.1.1.1 is an address'), { code: 250, enhanced: '2.0.0', text: '5.1.1.1 is an address' });
    assert.deepEqual(parseResponse('554 5.10.20.30 blocked'), { code: 554, enhanced: null, text: '5.10.20.30 blocked' });
  });
});
