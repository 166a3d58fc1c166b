// Owns the signed references of open and click tracking: the token in a pixel URL
// (<base>/t/o/<token>.gif) names the account, message and recipient; the token in a redirect URL
// (<base>/t/c/<token>) also carries the original link. Both are base64url(JSON).base64url(MAC), the
// MAC an HMAC-SHA256 of "track.<payload>" under the 'links' installation secret (the same secrets
// as one-click unsubscribe, in another domain: an unsubscribe token is never a tracking token).
// Only the canonical spelling verifies, and the MAC is compared in constant time, so a changed
// link cannot become a redirect anywhere (no open redirect). The payload is readable, not secret.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Secrets } from './secret-ring.js';

export type TrackingKind = 'open' | 'click';

export interface TrackingRef {
  kind: TrackingKind;
  account: string;
  messageId: string;
  recipient: string;
  /** The original link (click tokens only): an absolute http(s) URL. */
  url?: string;
}

const MAC_BYTES = 16;
/** Longest link we wrap: the token stays under the HTTP listener's 2100-character path parameter. */
export const MAX_TRACKED_URL = 1000;
const TOKEN = /^([A-Za-z0-9_-]{16,2060})\.([A-Za-z0-9_-]{22})$/;

const mac = (secret: Buffer, payload: string) => createHmac('sha256', secret).update(`track.${payload}`).digest().subarray(0, MAC_BYTES);
const isCanonical = (b64: string) => Buffer.from(b64, 'base64url').toString('base64url') === b64;

/** Whether `url` may be carried: an absolute http(s) URL, already normalized (new URL(x).href), short enough. */
export const isTrackableUrl = (url: string): boolean => url.length <= MAX_TRACKED_URL && /^https?:\/\//.test(url);

export function trackingToken(secrets: Secrets, ref: TrackingRef): string {
  const body: Record<string, string> = { k: ref.kind === 'open' ? 'o' : 'c', a: ref.account, m: ref.messageId, r: ref.recipient };
  if (ref.kind === 'click') body.u = ref.url!;
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${payload}.${mac(secrets.current(), payload).toString('base64url')}`;
}

/** The reference a token of `kind` carries if its MAC is one of ours; null otherwise (tampered, forged, other kind, malformed). */
export function readTrackingToken(secrets: Secrets, token: string, kind: TrackingKind): TrackingRef | null {
  const m = TOKEN.exec(token);
  if (!m || !isCanonical(m[1]!) || !isCanonical(m[2]!)) return null;
  const given = Buffer.from(m[2]!, 'base64url');
  if (!secrets.all().some((s) => timingSafeEqual(mac(s, m[1]!), given))) return null;
  let p: Record<string, unknown>;
  try { p = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as Record<string, unknown>; } catch { return null; }
  if (typeof p.a !== 'string' || typeof p.m !== 'string' || typeof p.r !== 'string') return null;
  if (kind === 'open') return p.k === 'o' ? { kind, account: p.a, messageId: p.m, recipient: p.r } : null;
  if (p.k !== 'c' || typeof p.u !== 'string' || !isTrackableUrl(p.u)) return null;
  return { kind, account: p.a, messageId: p.m, recipient: p.r, url: p.u };
}

/** Whether a token fits what readTrackingToken accepts (a link whose token would not is left as it is). */
export const isServableToken = (token: string): boolean => TOKEN.test(token);

const trimmed = (baseUrl: string) => baseUrl.replace(/\/+$/, '');
export const openPixelUrl = (baseUrl: string, token: string): string => `${trimmed(baseUrl)}/t/o/${token}.gif`;
export const clickUrl = (baseUrl: string, token: string): string => `${trimmed(baseUrl)}/t/c/${token}`;
