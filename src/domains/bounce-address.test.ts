// The VERP return-path: built from a queue id (and recipient index) with a MAC, parsed back with
// the MAC checked against current and previous secrets; forgeries are recognised but not
// authentic, and nothing else is parsed as one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newQueueId } from '../message/ids.js';
import { bounceAddress, bounceMac, currentBounceSecret, isBounceAddress, MAC_LENGTH, MAX_RCPT_INDEX, parseBounceAddress } from './bounce-address.js';

const CURRENT = Buffer.from('current secret, 32 bytes long!!!');
const PREVIOUS = Buffer.from('previous secret, also 32 bytes!!');
const OTHER = Buffer.from('somebody else entirely');
const ID = newQueueId(Date.UTC(2025, 6, 1));
const OTHER_ID = newQueueId(Date.UTC(2025, 6, 2));
const msg = bounceAddress({ queueId: ID, domain: 'example.com', label: 'Bounces', secret: CURRENT });
const rcpt = bounceAddress({ queueId: ID, rcptIndex: 3, domain: 'example.com', label: 'bounces', secret: CURRENT });
const old = bounceAddress({ queueId: ID, rcptIndex: 0, domain: 'example.com', label: 'bounces', secret: PREVIOUS });
const [msgMac, rcptMac] = [msg, rcpt].map((a) => /\.([a-z2-7]+)@/.exec(a)![1]!);
/** Replace the first character of `s` by another of the same alphabet. */
const flip = (s: string) => (s[0] === 'a' ? 'b' : 'a') + s.slice(1);

describe('bounceAddress', () => {
  it('has the documented form: lower-case label, 10 base32 characters of MAC', () => {
    assert.match(msg, new RegExp(`^bounce\\+${ID}\\.[a-z2-7]{${MAC_LENGTH}}@bounces\\.example\\.com$`));
    assert.match(rcpt, new RegExp(`^bounce\\+${ID}\\.3\\.[a-z2-7]{${MAC_LENGTH}}@bounces\\.example\\.com$`));
    assert.equal(msgMac, bounceMac(CURRENT, ID, null));
    assert.notEqual(msgMac, bounceMac(CURRENT, ID, 0), 'the message and its first recipient have different MACs');
  });

  it('keeps the local part within 64 octets, up to the largest index', () => {
    const longest = bounceAddress({ queueId: ID, rcptIndex: MAX_RCPT_INDEX, domain: 'example.com', label: 'bounces', secret: CURRENT });
    assert.ok(longest.split('@')[0]!.length <= 64, longest);
    assert.equal(longest.split('@')[0]!.length, 45);
  });

  it('refuses what it cannot encode', () => {
    for (const rcptIndex of [-1, 1.5, MAX_RCPT_INDEX + 1, Number.NaN]) {
      assert.throws(() => bounceAddress({ queueId: ID, rcptIndex, domain: 'example.com', label: 'b', secret: CURRENT }), RangeError, String(rcptIndex));
    }
    assert.throws(() => bounceAddress({ queueId: 'short', domain: 'example.com', label: 'b', secret: CURRENT }), RangeError);
  });
});

describe('parseBounceAddress', () => {
  const secrets = [CURRENT, PREVIOUS];
  const domain = 'example.com';
  const cases: [string, string, ReturnType<typeof parseBounceAddress>][] = [
    ['round trip, message', msg, { queueId: ID, rcptIndex: null, domain, authentic: true }],
    ['round trip, recipient', rcpt, { queueId: ID, rcptIndex: 3, domain, authentic: true }],
    ['previous secret accepted', old, { queueId: ID, rcptIndex: 0, domain, authentic: true }],
    ['upper-cased by an MTA', msg.toUpperCase(), { queueId: ID, rcptIndex: null, domain, authentic: true }],
    ['lower-cased by an MTA', rcpt.toLowerCase(), { queueId: ID, rcptIndex: 3, domain, authentic: true }],
    ['tampered queue id', msg.replace(ID, OTHER_ID), { queueId: OTHER_ID, rcptIndex: null, domain, authentic: false }],
    ['tampered index', rcpt.replace('.3.', '.4.'), { queueId: ID, rcptIndex: 4, domain, authentic: false }],
    ['index removed', rcpt.replace('.3.', '.'), { queueId: ID, rcptIndex: null, domain, authentic: false }],
    ['index added', msg.replace(`${ID}.`, `${ID}.3.`), { queueId: ID, rcptIndex: 3, domain, authentic: false }],
    ['tampered mac', msg.replace(msgMac!, flip(msgMac!)), { queueId: ID, rcptIndex: null, domain, authentic: false }],
    ['truncated mac', rcpt.replace(rcptMac!, rcptMac!.slice(0, 9)), { queueId: ID, rcptIndex: 3, domain, authentic: false }],
    ['mac of another secret', bounceAddress({ queueId: ID, domain, label: 'bounces', secret: OTHER }), { queueId: ID, rcptIndex: null, domain, authentic: false }],
    ['legacy form without mac', `bounce+${ID}@bounces.example.com`, { queueId: ID, rcptIndex: null, domain, authentic: false }],
    ['legacy form with an index', `bounce+${ID}.2@bounces.example.com`, { queueId: ID, rcptIndex: 2, domain, authentic: false }],
    ['another sending domain', msg.replace('example.com', 'example.org'), { queueId: ID, rcptIndex: null, domain: 'example.org', authentic: true }],
    ['not in the bounce label', msg.replace('@bounces.', '@other.'), null],
    ['label without a domain', `bounce+${ID}.${msgMac}@bounces.com`, null],
    ['bare domain', `bounce+${ID}.${msgMac}@example.com`, null],
    ['not a queue id', `bounce+short.${msgMac}@bounces.example.com`, null],
    ['queue id letter U (not Crockford)', msg.replace(/\+./, '+U'), null],
    ['index with a leading zero', rcpt.replace('.3.', '.03.'), null],
    ['index too long', rcpt.replace('.3.', '.1234567.'), null],
    ['mac too long', msg.replace(msgMac!, msgMac!.repeat(4)), null],
    ['someone else', 'alice@bounces.example.com', null],
    ['two at signs', `bounce+${ID}.${msgMac}@x@bounces.example.com`, null],
  ];
  for (const [name, address, expected] of cases) {
    it(name, () => assert.deepEqual(parseBounceAddress(address, 'bounces', secrets), expected, address));
  }

  it('without secrets nothing is authentic, but the form is still recognised', () => {
    assert.deepEqual(parseBounceAddress(msg, 'bounces', []), { queueId: ID, rcptIndex: null, domain: 'example.com', authentic: false });
    assert.equal(isBounceAddress(msg, 'Bounces'), true);
    assert.equal(isBounceAddress(msg.replace(msgMac!, flip(msgMac!)), 'bounces'), true);
    assert.equal(isBounceAddress('alice@bounces.example.com', 'bounces'), false);
  });

  it('a retired secret is no longer accepted', () => {
    assert.equal(parseBounceAddress(old, 'bounces', [CURRENT])?.authentic, false);
  });
});

describe('currentBounceSecret', () => {
  it('is the first secret when a bounce label is configured, null without one', () => {
    assert.equal(currentBounceSecret('bounces', [CURRENT, PREVIOUS]), CURRENT);
    assert.equal(currentBounceSecret(null, []), null);
    assert.equal(currentBounceSecret(undefined, [CURRENT]), null);
  });
  it('refuses to start a bounce domain without a usable secret', () => {
    assert.throws(() => currentBounceSecret('bounces', []), { code: 'ERR_CONFIG_INVALID', key: 'domains.bounceDomain' });
    assert.throws(() => currentBounceSecret('bounces', [Buffer.alloc(15)]), { code: 'ERR_CONFIG_INVALID' });
  });
});
