import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedSecrets } from './secret-ring.js';
import {
  hasListUnsubscribe, isUnsubscribeAddress, listUnsubscribeFields, parseUnsubscribeMailto, readUnsubscribeToken, unsubscribeMailto, unsubscribeToken,
} from './unsubscribe.js';

const current = Buffer.alloc(32, 1);
const previous = Buffer.alloc(32, 2);
const ref = { account: 'acme', recipient: 'Bob@Example.com', messageId: '01JZ3K4M5N6P7Q8R9S0T', scope: 'broadcast' as const };

test('a token round-trips, verifies with a previous secret, and any change to it is refused', () => {
  const token = unsubscribeToken(fixedSecrets(current), ref);
  assert.deepEqual(readUnsubscribeToken(fixedSecrets(current), token), ref);
  assert.deepEqual(readUnsubscribeToken(fixedSecrets(Buffer.alloc(32, 9), current), token), ref, 'after a rotation');
  assert.equal(readUnsubscribeToken(fixedSecrets(previous), token), null, 'another installation\'s secret');
  const [payload, mac] = token.split('.') as [string, string];
  const other = Buffer.from(JSON.stringify({ a: 'acme', r: 'eve@example.com', m: ref.messageId, s: 'broadcast' })).toString('base64url');
  assert.equal(readUnsubscribeToken(fixedSecrets(current), `${other}.${mac}`), null, 'another recipient with the same MAC');
  for (let i = 0; i < mac.length; i++) {
    for (const c of ['A', 'B', 'Q', 'w', '-']) {
      const changed = mac.slice(0, i) + c + mac.slice(i + 1);
      if (changed !== mac) assert.equal(readUnsubscribeToken(fixedSecrets(current), `${payload}.${changed}`), null, `MAC char ${i} → ${c}`);
    }
  }
  for (const bad of ['', 'x', `${payload}`, `${payload}.${mac}.x`, `${payload}.${mac}=`, 'a'.repeat(5000)]) assert.equal(readUnsubscribeToken(fixedSecrets(current), bad), null);
});

test('mailto: fits a local part, is matched case-insensitively, and a wrong MAC is not authentic', () => {
  const a = unsubscribeMailto(fixedSecrets(current), ref.messageId, 'Bounces', 'acme.example');
  assert.match(a, /^unsubscribe\+01JZ3K4M5N6P7Q8R9S0T\.[a-z2-7]{10}@bounces\.acme\.example$/);
  assert.ok(a.split('@')[0]!.length <= 64);
  assert.equal(isUnsubscribeAddress(a, 'bounces'), true);
  assert.equal(isUnsubscribeAddress(a, 'other'), false);
  assert.deepEqual(parseUnsubscribeMailto(a.toUpperCase(), 'bounces', fixedSecrets(current)), { queueId: ref.messageId, authentic: true });
  assert.deepEqual(parseUnsubscribeMailto(a, 'bounces', fixedSecrets(previous)), { queueId: ref.messageId, authentic: false });
  assert.equal(parseUnsubscribeMailto('unsubscribe+short.abcdefghij@bounces.acme.example', 'bounces', fixedSecrets(current)), null);
});

test('the fields: URL then mailto:, folded, with the One-Click POST field; an existing List-Unsubscribe is seen', () => {
  assert.equal(listUnsubscribeFields('https://r.example/u/t', 'unsubscribe+x@b.example'),
    'List-Unsubscribe: <https://r.example/u/t>,\r\n <mailto:unsubscribe+x@b.example?subject=unsubscribe>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n');
  assert.equal(listUnsubscribeFields('https://r.example/u/t', null), 'List-Unsubscribe: <https://r.example/u/t>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n');
  assert.equal(hasListUnsubscribe('Subject: x\r\nlist-unsubscribe : <mailto:a@b>\r\n'), true);
  assert.equal(hasListUnsubscribe('Subject: about List-Unsubscribe: headers\r\n'), false);
});
