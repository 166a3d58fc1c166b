// The adaptive actions as a table against real provider replies (texts as the providers send them,
// as in src/sim/stock-profiles.ts and operators' bounce logs).
import test from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MATCHED_REPLY_CHARS, throttleActionFor } from './throttle-actions.js';

const TABLE: [string, string | null][] = [
  ['421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of\r\n421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n421 4.7.28 users from spam, mail sent from your IP address has been temporarily rate limited. 5si - gsmtp', 'gmail-rate-limited'],
  ['421-4.7.26 This mail has been rate limited because it is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM. - gsmtp', 'gmail-unauthenticated'],
  ['451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [AM1.eop]', 'microsoft-reputation'],
  ["550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).", 'microsoft-blocklist'],
  ['451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77714) [AM1.eop]', 'microsoft-busy'],
  ["451 4.7.500 Access denied, please try again later. (RP-001) [DB5.eop]", 'microsoft-busy'],
  ['421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes', 'yahoo-volume'],
  ['421 4.7.0 [TS01] Messages from 192.0.2.1 temporarily deferred due to user complaints - 4.16.55.1', 'yahoo-complaints'],
  ['421 4.7.0 Try again later, closing connection. x5si - gsmtp', 'too-many-connections'],
  ['421 4.3.2 The maximum number of concurrent server connections has exceeded a limit, closing transmission channel', 'too-many-connections'],
  ['421 Too many connections from your IP', 'too-many-connections'],
  ['421 4.7.0 rate limited, try again later', 'rate-limited'],
  ['450 4.7.1 Sending rate exceeded for this IP', 'rate-limited'],
  ['452 4.3.1 Throttled: too many messages', 'rate-limited'],
  // Not throttles: greylisting, per-recipient limits, unknown users, plain failures.
  ['451 4.7.1 Greylisted, please try again later', null],
  ['450-4.2.1 The user you are trying to contact is receiving mail too quickly.\r\n450 4.2.1 Please resend your message at a later time.', null],
  ['550-5.1.1 The email account that you tried to reach does not exist.', null],
  ['452 4.2.2 Mailbox full', null],
  ['554 5.7.1 rate limited content? no: permanent policy text', null],
];

test('throttle actions: real reply texts → action', () => {
  for (const [reply, name] of TABLE) assert.equal(throttleActionFor(reply)?.name ?? null, name, reply);
});

test('operator actions come first', () => {
  const mine = { name: 'mine', pattern: /greylisted/i, suspendMs: 1000, scale: 1 };
  assert.equal(throttleActionFor('451 4.7.1 Greylisted, please try again later', [mine])?.name, 'mine');
  assert.equal(throttleActionFor('421 4.7.0 [TS01] x', [mine])?.name, 'yahoo-complaints');
});

test('patterns see only the first MAX_MATCHED_REPLY_CHARS of a hostile receiver\'s reply', () => {
  const padding = 'x'.repeat(100_000);
  // A throttle code where every provider writes it (the start) is still read...
  assert.equal(throttleActionFor(`421 4.7.0 [TSS04] ${padding}`)?.name, 'yahoo-volume');
  // ...one buried after 100 KB of text is not: an operator's pattern never scans a 100 KB reply.
  const mine = { name: 'mine', pattern: /too busy$/, suspendMs: 1000, scale: 1 };
  assert.equal(throttleActionFor(`451 4.3.2 ${padding} too busy`, [mine]), null);
  assert.equal(throttleActionFor(`451 4.3.2 ${'y'.repeat(MAX_MATCHED_REPLY_CHARS - 30)} too busy`, [mine])?.name, 'mine');
});
