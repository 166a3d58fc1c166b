// The stock simulator profiles: Gmail, Microsoft (Outlook.com / Exchange Online) and Yahoo, with
// the reply texts those providers send, as collected from bounce logs published by operators
// (mailop, vendor knowledge bases, the providers' postmaster pages). Behaviours are off by default
// (no rate, greylisting or lists) except where noted: a test or a sim.yaml turns on what it needs.
// Where a provider publishes no text for a behaviour (greylisting at Gmail and Yahoo) the reply is
// a plain, classic one and says so in docs/simulator.md.
//
// Data only; profile.ts validates it. Each line of a multi-line `text` carries its enhanced code.

const lines = (...l: string[]) => l.join('\n');
const GREYLIST_GENERIC = { code: 451, text: '4.7.1 Greylisted, please try again later' };

const gmail = {
  name: 'gmail',
  hostname: 'mx.google.com',
  banner: '{id} - gsmtp',
  rateLimitAt: 'data',
  rateLimitReply: {
    code: 421,
    text: lines(
      '4.7.28 [{ip}] Our system has detected an unusual rate of',
      '4.7.28 unsolicited mail originating from your IP address. To protect our',
      '4.7.28 users from spam, mail sent from your IP address has been temporarily',
      '4.7.28 rate limited. Please visit',
      '4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to',
      '4.7.28 review our Bulk Email Senders Guidelines. {id} - gsmtp',
    ),
  },
  recipientRateReply: {
    code: 450,
    text: lines(
      '4.2.1 The user you are trying to contact is receiving mail too quickly.',
      '4.2.1 Please resend your message at a later time. If the user is able to',
      '4.2.1 receive mail at that time, your message will be delivered. For more',
      '4.2.1 information, go to',
      '4.2.1  https://support.google.com/mail/?p=ReceivingRate {id} - gsmtp',
    ),
  },
  connectionLimitReply: { code: 421, text: '4.7.0 Try again later, closing connection. {id} - gsmtp' },
  greylistReply: GREYLIST_GENERIC,
  unknownRecipientReply: {
    code: 550,
    text: lines(
      "5.1.1 The email account that you tried to reach does not exist. Please try",
      "5.1.1 double-checking the recipient's email address for typos or",
      '5.1.1 unnecessary spaces. For more information, go to',
      '5.1.1  https://support.google.com/mail/?p=NoSuchUser {id} - gsmtp',
    ),
  },
  blockedIpReply: {
    code: 550,
    text: lines(
      "5.7.1 [{ip}] The IP you're using to send mail is not authorized to",
      '5.7.1 send email directly to our servers. Please use the SMTP relay at your',
      '5.7.1 service provider instead. For more information, go to',
      '5.7.1  https://support.google.com/mail/?p=NotAuthorizedError {id} - gsmtp',
    ),
  },
  blockedSenderReply: {
    code: 550,
    text: lines(
      '5.7.1 [{ip}] Gmail has detected that this message is likely',
      '5.7.1 unsolicited mail. To reduce the amount of spam sent to Gmail, this',
      '5.7.1 message has been blocked. For more information, go to',
      '5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError {id} - gsmtp',
    ),
  },
  blockedContentReply: {
    code: 552,
    text: lines(
      '5.7.0 This message was blocked because its content presents a potential',
      '5.7.0 security issue. To review our message content and attachment content',
      '5.7.0 guidelines, go to',
      '5.7.0  https://support.google.com/mail/?p=BlockedMessage {id} - gsmtp',
    ),
  },
  maxMessageBytes: 157_286_400,
};

const microsoft = {
  name: 'microsoft',
  hostname: 'mx.outlook.test',
  banner: 'Microsoft ESMTP MAIL Service ready',
  rateLimitAt: 'mail',
  rateLimitReply: {
    code: 451,
    text: '4.7.650 The mail server [{ip}] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [{id}]',
  },
  recipientRateReply: {
    code: 452,
    text: '4.5.3 Too many recipients; message not accepted for this recipient, retry later. [{id}]',
  },
  connectionLimitReply: {
    code: 421,
    text: '4.3.2 The maximum number of concurrent server connections has exceeded a limit, closing transmission channel',
  },
  greylistReply: { code: 451, text: '4.7.500 Server busy. Please try again later from [{ip}]. (S77714) [{id}]' },
  unknownRecipientReply: {
    code: 550,
    text: '5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [{id}]',
  },
  blockedIpReply: {
    code: 550,
    text: "5.7.1 Unfortunately, messages from [{ip}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [{id}]",
  },
  blockedSenderReply: { code: 550, text: '5.7.1 Service unavailable, MAIL FROM domain is listed in Spamhaus. [{id}]' },
  blockedContentReply: { code: 550, text: '5.7.1 Message rejected as spam by Content Filtering. [{id}]' },
  maxMessageBytes: 157_286_400,
};

const YAHOO_CODES = 'see https://postmaster.yahooinc.com/error-codes';
const yahoo = {
  name: 'yahoo',
  hostname: 'mta7.am0.yahoodns.test',
  banner: 'ready',
  rateLimitAt: 'mail',
  rateLimitReply: {
    code: 421,
    text: `4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; ${YAHOO_CODES}`,
  },
  recipientRateReply: {
    code: 451,
    text: `4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; ${YAHOO_CODES}`,
  },
  connectionLimitReply: {
    code: 421,
    text: `4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; ${YAHOO_CODES}`,
  },
  greylistReply: GREYLIST_GENERIC,
  unknownRecipientReply: { code: 554, text: "delivery error: dd This user doesn't have a {domain} account ({rcpt}) [0] - {host}" },
  blockedIpAt: 'connect',
  blockedIpReply: { code: 553, text: `5.7.1 [BL21] Connections will not be accepted from {ip}, because the ip is in Spamhaus's list; ${YAHOO_CODES}` },
  blockedSenderReply: { code: 554, text: `5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes` },
  blockedContentReply: { code: 554, text: `5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes` },
  maxMessageBytes: 41_943_040,
};

export const STOCK_PROFILES: Record<string, Record<string, unknown>> = { gmail, microsoft, yahoo };
