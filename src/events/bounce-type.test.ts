import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyBounce } from './bounce-type.js';

test('classifyBounce: hard for bad addresses (5.1.x, or 550/551/553 without an enhanced code), soft otherwise', () => {
  const cases: [string, 'hard' | 'soft', number | null, string | null][] = [
    ['550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown', 'hard', 550, '5.1.1'],
    ['550-5.1.1 The email account does not exist\r\n550 5.1.1 try again', 'hard', 550, '5.1.1'],
    ['553 5.1.3 Bad recipient address syntax', 'hard', 553, '5.1.3'],
    ['556 5.1.10 Recipient address has null MX', 'hard', 556, '5.1.10'],
    ['550 5.1.2 Host unknown', 'hard', 550, '5.1.2'],
    ['550 User unknown', 'hard', 550, null],
    ['551 User not local', 'hard', 551, null],
    ['553 mailbox name not allowed', 'hard', 553, null],
    ['552 5.2.2 Mailbox full', 'soft', 552, '5.2.2'],
    ['552 5.3.4 Message too big', 'soft', 552, '5.3.4'],
    ['550 5.7.1 Message rejected by policy', 'soft', 550, '5.7.1'],
    ['554 5.7.26 Unauthenticated email is not accepted', 'soft', 554, '5.7.26'],
    ['554 Transaction failed', 'soft', 554, null],
    ['552 Requested action aborted', 'soft', 552, null],
    ['451 4.4.1 No answer from host', 'soft', 451, '4.4.1'],
    ['No MX or A record for example.invalid', 'soft', null, null],
    ['', 'soft', null, null],
  ];
  for (const [response, bounceType, code, enhanced] of cases) {
    assert.deepEqual(classifyBounce(response), { bounceType, code, enhanced }, response);
  }
});
