// Webhook payload signatures (Stripe-style), pure: the header Postlane sends with every webhook
// POST and the check a receiver runs on it (docs/webhooks.md shows the same check in Node and
// Python). The MAC covers the timestamp and the raw body, so a captured request cannot be
// replayed later than the tolerance, nor its body changed.
//
//   Postlane-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//
// During a secret rotation the header may carry several v1= values (one per secret); a receiver
// accepts the request when any of them matches its secret.
//
// The same request also carries the Standard Webhooks headers (standardwebhooks.com), so that
// receivers can verify it with any Standard Webhooks library:
//
//   webhook-id: <id>   webhook-timestamp: <unix seconds>
//   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>[ v1,<…>]
//
// where key is the secret's part after `whsec_`, base64-decoded (the spec's secret serialization).
import crypto from 'node:crypto';

export const SIGNATURE_HEADER = 'Postlane-Signature';
/** Requests older (or further in the future) than this are replays: rejected. */
export const DEFAULT_TOLERANCE_SEC = 300;
/**
 * The secret format: `whsec_` + 32 random bytes in (standard, padded) base64, the serialization
 * Standard Webhooks libraries decode. Secrets made before were base64url; standardKey reads both.
 */
export const SECRET_PREFIX = 'whsec_';

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + crypto.randomBytes(32).toString('base64');
}

export const STANDARD_ID_HEADER = 'webhook-id';
export const STANDARD_TIMESTAMP_HEADER = 'webhook-timestamp';
export const STANDARD_SIGNATURE_HEADER = 'webhook-signature';

/** The Standard Webhooks HMAC key: the secret after `whsec_`, base64-decoded (base64url accepted too). */
export function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

/**
 * The three Standard Webhooks headers for a body sent at nowMs: one `v1,<base64>` signature per
 * secret, space-separated. `id` must not contain '.' (it is a field of the signed content).
 */
export function standardWebhookHeaders(secrets: string | readonly string[], id: string, rawBody: string | Buffer, nowMs: number): Record<string, string> {
  if (id.includes('.')) throw new Error('a webhook-id cannot contain "."');
  const t = Math.floor(nowMs / 1000);
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (list.length === 0) throw new Error('no webhook secret to sign with');
  const signatures = list.map((s) => `v1,${crypto.createHmac('sha256', standardKey(s)).update(`${id}.${t}.`).update(rawBody).digest('base64')}`);
  return { [STANDARD_ID_HEADER]: id, [STANDARD_TIMESTAMP_HEADER]: String(t), [STANDARD_SIGNATURE_HEADER]: signatures.join(' ') };
}

/** The webhook-id of a batch: its first and last event ids, so a retry that carries more events is a new id. */
export const standardWebhookId = (eventIds: readonly string[]): string => `${eventIds[0]}-${eventIds[eventIds.length - 1]}`;

/** Hex HMAC-SHA256 of "<t>.<body>" with the secret (used as given, prefix included, as UTF-8). */
export function computeSignature(secret: string, timestampSec: number, rawBody: string | Buffer): string {
  return crypto.createHmac('sha256', secret)
    .update(`${timestampSec}.`)
    .update(rawBody)
    .digest('hex');
}

/** The header value for a body sent at nowMs, signed with each secret (usually one). */
export function signPayload(secrets: string | readonly string[], rawBody: string | Buffer, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (list.length === 0) throw new Error('no webhook secret to sign with');
  return [`t=${t}`, ...list.map((s) => `v1=${computeSignature(s, t, rawBody)}`)].join(',');
}

export type VerifyFailure = 'malformed' | 'no_signature' | 'too_old' | 'too_new' | 'mismatch';
export type VerifyResult = { ok: true; timestampSec: number } | { ok: false; reason: VerifyFailure };

/** Parse `t=…,v1=…[,v1=…]`; unknown schemes (v0=, v2=…) are ignored so new ones can be added. */
export function parseSignatureHeader(header: string): { timestampSec: number | null; v1: string[] } {
  let timestampSec: number | null = null;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestampSec = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) v1.push(value.toLowerCase());
  }
  return { timestampSec, v1 };
}

/**
 * Check a received header against the raw body (exactly the bytes received, before any JSON
 * parsing) at nowMs. Constant-time comparison of each v1 value; replays older than toleranceSec,
 * and timestamps more than toleranceSec in the future, are rejected.
 */
export function verifySignature(secret: string, header: string | undefined | null, rawBody: string | Buffer, nowMs: number, toleranceSec = DEFAULT_TOLERANCE_SEC): VerifyResult {
  if (!header) return { ok: false, reason: 'malformed' };
  const { timestampSec, v1 } = parseSignatureHeader(header);
  if (timestampSec === null) return { ok: false, reason: 'malformed' };
  if (v1.length === 0) return { ok: false, reason: 'no_signature' };
  const ageSec = nowMs / 1000 - timestampSec;
  if (ageSec > toleranceSec) return { ok: false, reason: 'too_old' };
  if (ageSec < -toleranceSec) return { ok: false, reason: 'too_new' };
  const expected = Buffer.from(computeSignature(secret, timestampSec, rawBody), 'hex');
  let match = false;
  for (const candidate of v1) {
    // Every candidate is compared (no early exit), each in constant time.
    if (crypto.timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) match = true;
  }
  return match ? { ok: true, timestampSec } : { ok: false, reason: 'mismatch' };
}
