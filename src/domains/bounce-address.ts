// Owns the VERP return-path used when domains.bounceDomain is configured: the envelope sender of
// a message signed for a sending domain becomes an address in <label>.<domain>, so SPF is checked
// against (and aligns with) the From domain, and a bounce names the message (and optionally the
// recipient) it is about. The address carries a MAC, so a forged bounce cannot name a message:
//
//   bounce+<queue id>.<mac>@<label>.<domain>              the message
//   bounce+<queue id>.<rcpt index>.<mac>@<label>.<domain>  one recipient (0-based, envelope order)
//
// mac = HMAC-SHA256(secret, "<queue id>.<rcpt index or *>"), RFC 4648 base32, lower case, first 10
// characters (50 bits). Parsing is case-insensitive (some MTAs change the case of a local part) and
// accepts several secrets (current first, then previous ones: rotation). The legacy form without a
// MAC (bounce+<queue id>@…) is still recognised, as not authentic.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { isQueueId } from '../message/ids.js';
import { normalizeDomain } from './domain-name.js';

export const MAC_LENGTH = 10;
/** Shorter secrets are refused: HMAC keys below 128 bits invite guessing. */
export const MIN_SECRET_BYTES = 16;
/** Recipient indexes have at most 6 digits: the local part stays ≤ 45 octets (RFC 5321 allows 64). */
export const MAX_RCPT_INDEX = 999_999;

export interface BounceAddressInput {
  queueId: string;
  /** The recipient's index in envelope order; absent: the address names the whole message. */
  rcptIndex?: number;
  /** The sending domain (normalized). */
  domain: string;
  /** domains.bounceDomain.label. */
  label: string;
  /** The current bounce secret. */
  secret: Buffer;
}

export interface ParsedBounceAddress {
  /** Upper case, as queue ids are stored. */
  queueId: string;
  rcptIndex: number | null;
  /** The sending domain (normalized). */
  domain: string;
  /** The MAC matches one of the secrets. False: forged, tampered, or the legacy form: log and ignore. */
  authentic: boolean;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** The first `length` base32 characters of `bytes` (RFC 4648 alphabet, lower case). */
function base32(bytes: Buffer, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === length) break;
    value &= (1 << bits) - 1;
  }
  return out;
}

/** The MAC of a queue id (upper case) and recipient index (null: the message). */
export function bounceMac(secret: Buffer, queueId: string, rcptIndex: number | null): string {
  const digest = createHmac('sha256', secret).update(`${queueId}.${rcptIndex ?? '*'}`).digest();
  return base32(digest, MAC_LENGTH);
}

/** The return-path for message `queueId` (or one of its recipients) sent as sending domain `domain`. */
export function bounceAddress(p: BounceAddressInput): string {
  if (!isQueueId(p.queueId)) throw new RangeError(`not a queue id: ${p.queueId}`);
  const index = p.rcptIndex ?? null;
  if (index !== null && !(Number.isInteger(index) && index >= 0 && index <= MAX_RCPT_INDEX)) {
    throw new RangeError(`recipient index out of range: ${index}`);
  }
  const mac = bounceMac(p.secret, p.queueId, index);
  const local = index === null ? `bounce+${p.queueId}.${mac}` : `bounce+${p.queueId}.${index}.${mac}`;
  return `${local}@${p.label.toLowerCase()}.${p.domain}`;
}

// bounce+<id>[.<index>][.<mac>]; the MAC group is lenient (a truncated or padded MAC is a forgery
// to log, not a stranger to refuse). Indexes are canonical (no leading zero).
const SHAPE = /^bounce\+([0-9a-z]{20})(?:\.(0|[1-9][0-9]{0,5}))?(?:\.([0-9a-z]{1,32}))?@([^@]+)$/i;

/** True when the MAC is the one of any secret (constant-time per secret). */
function isAuthentic(mac: string, secrets: readonly Buffer[], queueId: string, rcptIndex: number | null): boolean {
  const given = Buffer.from(mac.toLowerCase());
  let ok = false;
  for (const secret of secrets) {
    const expected = Buffer.from(bounceMac(secret, queueId, rcptIndex));
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

/**
 * The message (and recipient) a bounce address names, or null if `address` does not have the
 * form of one in `<label>.<sending domain>`. `authentic` says whether its MAC matches one of
 * `secrets` (current first, then previous ones).
 */
export function parseBounceAddress(address: string, label: string, secrets: readonly Buffer[]): ParsedBounceAddress | null {
  const m = SHAPE.exec(address);
  if (!m) return null;
  const queueId = m[1]!.toUpperCase();
  const host = normalizeDomain(m[4]!);
  const prefix = `${label.toLowerCase()}.`;
  if (!isQueueId(queueId) || !host?.startsWith(prefix)) return null;
  const domain = host.slice(prefix.length);
  if (!domain.includes('.')) return null;
  const rcptIndex = m[2] === undefined ? null : Number(m[2]);
  const authentic = m[3] !== undefined && isAuthentic(m[3], secrets, queueId, rcptIndex);
  return { queueId, rcptIndex, domain, authentic };
}

/**
 * Whether `address` has the form of a bounce address in `<label>.<sending domain>`, authentic or
 * not: the MX listener accepts such recipients, and bounce processing checks the MAC.
 */
export const isBounceAddress = (address: string, label: string): boolean => parseBounceAddress(address, label, []) !== null;

/**
 * The secret new return-paths are made with: the first of `secrets` (current, then previous). Null
 * without a bounce label; a ConfigError when there is one but no usable secret (a wiring fault:
 * better refuse to start than send unauthenticated return-paths).
 */
export function currentBounceSecret(label: string | null | undefined, secrets: readonly Buffer[]): Buffer | null {
  if (!label) return null;
  const secret = secrets[0];
  if (!secret || secret.length < MIN_SECRET_BYTES) {
    throw new ConfigError(`domains.bounceDomain needs a bounce secret of at least ${MIN_SECRET_BYTES} bytes`, 'domains.bounceDomain');
  }
  return secret;
}

/** The current bounce secret, read at each use (a rotation applies at once); null without a bounce label. */
export function bounceSecretOf(label: string | null | undefined, secrets: { all(): readonly Buffer[] }): () => Buffer | null {
  currentBounceSecret(label, secrets.all()); // refuse to start without a usable secret
  return () => currentBounceSecret(label, secrets.all());
}
