// Owns one-click unsubscribe (RFC 8058, RFC 2369): the List-Unsubscribe and List-Unsubscribe-Post
// fields Postlane adds to broadcast mail before it is signed, and the signed references they
// carry. The HTTPS URL carries a token naming the account, recipient, message and scope, with a
// MAC (the 'links' installation secret): no enumeration, nothing to redirect to. The mailto:
// address (on the bounce domain of the signing domain, so the MX listener receives it) names the
// message by its queue id with a MAC, within the 64 octets of a local part; the message's single
// recipient is the one who unsubscribes.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isQueueId } from '../message/ids.js';
import type { SuppressionScope } from '../store/suppression-store.js';
import type { QueueStore } from '../store/store.js';
import { messageData } from '../store/event-mapping.js';
import type { Secrets } from './secret-ring.js';

export interface UnsubscribeRef {
  account: string;
  recipient: string;
  messageId: string;
  scope: SuppressionScope;
}

const TOKEN_MAC_BYTES = 16;
const MAILTO_MAC_CHARS = 10;
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

const mac = (secret: Buffer, data: string) => createHmac('sha256', secret).update(data).digest();

/** The token of the unsubscribe URL: base64url(JSON).base64url(MAC). */
export function unsubscribeToken(secrets: Secrets, ref: UnsubscribeRef): string {
  const payload = Buffer.from(JSON.stringify({ a: ref.account, r: ref.recipient, m: ref.messageId, s: ref.scope })).toString('base64url');
  return `${payload}.${mac(secrets.current(), `unsub.${payload}`).subarray(0, TOKEN_MAC_BYTES).toString('base64url')}`;
}

/** The reference a token carries if its MAC matches one of the secrets; null otherwise (tampered, forged, malformed). */
export function readUnsubscribeToken(secrets: Secrets, token: string): UnsubscribeRef | null {
  const m = /^([A-Za-z0-9_-]{10,2000})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return null;
  const given = Buffer.from(m[2]!, 'base64url');
  if (given.toString('base64url') !== m[2]) return null; // one MAC, one spelling: no padding-bit variants
  if (!secrets.all().some((s) => timingSafeEqual(mac(s, `unsub.${m[1]}`).subarray(0, TOKEN_MAC_BYTES), given))) return null;
  try {
    const p = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof p.a !== 'string' || typeof p.r !== 'string' || typeof p.m !== 'string' || (p.s !== 'all' && p.s !== 'broadcast')) return null;
    return { account: p.a, recipient: p.r, messageId: p.m, scope: p.s };
  } catch {
    return null;
  }
}

const base32 = (b: Buffer, chars: number) => {
  let bits = 0; let value = 0; let out = '';
  for (const byte of b) {
    value = (value << 8) | byte; bits += 8;
    while (bits >= 5 && out.length < chars) { out += B32[(value >>> (bits - 5)) & 31]; bits -= 5; }
  }
  return out;
};
const mailtoMac = (secret: Buffer, queueId: string) => base32(mac(secret, `unsub-mailto.${queueId}`), MAILTO_MAC_CHARS);

/** unsubscribe+<queue id>.<mac>@<label>.<domain>: 42 octets of local part. */
export const unsubscribeMailto = (secrets: Secrets, queueId: string, label: string, domain: string): string =>
  `unsubscribe+${queueId}.${mailtoMac(secrets.current(), queueId)}@${label.toLowerCase()}.${domain}`;

const MAILTO = /^unsubscribe\+([0-9A-Za-z]{20})\.([a-z2-7]{10})@([^@\s]+)$/i;

/** Whether `address` has the form of an unsubscribe address in `<label>.<domain>` (the MX listener accepts those). */
export function isUnsubscribeAddress(address: string, label: string): boolean {
  const m = MAILTO.exec(address);
  return !!m && m[3]!.toLowerCase().startsWith(`${label.toLowerCase()}.`) && m[3]!.split('.').length >= 3;
}

/** The message an unsubscribe address names, and whether its MAC is one of ours; null when not of that form. */
export function parseUnsubscribeMailto(address: string, label: string, secrets: Secrets): { queueId: string; authentic: boolean } | null {
  if (!isUnsubscribeAddress(address, label)) return null;
  const m = MAILTO.exec(address)!;
  const queueId = m[1]!.toUpperCase();
  if (!isQueueId(queueId)) return null;
  const given = Buffer.from(m[2]!.toLowerCase());
  const authentic = secrets.all().some((s) => timingSafeEqual(Buffer.from(mailtoMac(s, queueId)), given));
  return { queueId, authentic };
}

/** The two header fields (CRLF-terminated, folded): the URL first, then the mailto: when there is one. */
export function listUnsubscribeFields(url: string, mailto: string | null): string {
  const targets = [`<${url}>`, ...(mailto ? [`<mailto:${mailto}?subject=unsubscribe>`] : [])];
  return `List-Unsubscribe: ${targets.join(',\r\n ')}\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n`;
}

/** Whether a header block already has a List-Unsubscribe field (the sender's own is kept, never doubled). */
export const hasListUnsubscribe = (header: Buffer | string): boolean =>
  /(^|\n)list-unsubscribe[ \t]*:/i.test(typeof header === 'string' ? header : header.toString('latin1'));

/** The URL of a token under the public base URL (no trailing slash needed). */
export const unsubscribeUrl = (baseUrl: string, token: string): string => `${baseUrl.replace(/\/+$/, '')}/u/${token}`;

/** What records an unsubscribe needs of the store. */
export type UnsubscribeStore = Pick<QueueStore, 'findSuppressions' | 'getMessageMeta' | 'getAccount' | 'appendEvents'>;

/**
 * Records that `ref.recipient` unsubscribed: an 'unsubscribed' event (its effect, in the same
 * commit, is the suppression of scope `ref.scope`). Idempotent: an address already suppressed for
 * broadcast mail gets no second event. 'gone' when the account no longer exists.
 */
export async function recordUnsubscribe(store: UnsubscribeStore, at: number, ref: UnsubscribeRef,
  how: { method: 'one-click' | 'page' | 'mailto'; ip?: string | null; userAgent?: string | null }): Promise<'unsubscribed' | 'already' | 'gone'> {
  if (!(await store.getAccount(ref.account))) return 'gone';
  if ((await store.findSuppressions(ref.account, 'broadcast', [ref.recipient])).size > 0) return 'already';
  const meta = await store.getMessageMeta(ref.messageId);
  const base = meta && meta.account === ref.account ? messageData(meta) : {};
  await store.appendEvents([{
    at, account: ref.account, type: 'unsubscribed', messageId: ref.messageId, recipient: ref.recipient,
    data: { ...base, scope: ref.scope, method: how.method, ip: how.ip ?? null, userAgent: how.userAgent ?? null },
  }]);
  return 'unsubscribed';
}
