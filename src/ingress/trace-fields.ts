// Owns the fields every accepted message gets from Postlane, whatever the way in (SMTP DATA or the
// HTTP API): the Received trace field, the RFC 5322 date format, and the VERP return-path of a
// message signed for an aligned sending domain. Pure functions shared by accept.ts and http/.
import type { SignOutcome } from '../domains/message-signer.js';
import { bounceAddress } from '../domains/bounce-address.js';
import type { Transaction } from './smtp/session.js';

/**
 * RFC 5321 §4.4 trace field, folded, TLS in a comment before the ';' (as Gmail does); the
 * authenticated user is never named in it. `helo` null (HTTP): "from [ip]" (an address literal).
 */
export function receivedHeader(p: { helo: string | null; ip: string; hostname: string; protocol: string; id: string; date: Date; tls: { protocol: string; cipher: string } | null }): string {
  const ip = p.ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const literal = `[${ip.includes(':') ? `IPv6:${ip}` : ip}]`;
  const lines = [`Received: from ${p.helo === null ? literal : `${p.helo} (${literal})`}`, `\tby ${p.hostname} (Postlane) with ${p.protocol} id ${p.id}`];
  if (p.tls) lines.push(`\t(using ${p.tls.protocol} with cipher ${p.tls.cipher})`);
  lines[lines.length - 1] += ';';
  lines.push(`\t${rfc5322Date(p.date)}`);
  return lines.join('\r\n') + '\r\n';
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** "Tue, 01 Jul 2025 12:00:00 +0000" (RFC 5322 §3.3), in UTC. */
export function rfc5322Date(d: Date): string {
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/**
 * The VERP return-path (with its MAC, domains/bounce-address.ts) in the bounce domain of the
 * (aligned) signing domain, so SPF aligns for DMARC; null (keep MAIL FROM) without a bounce label
 * and secret, an aligned signature, or for the null sender.
 */
export function alignedReturnPath(id: string, mailFrom: string, signed: SignOutcome | null, bounceLabel: string | null | undefined,
  bounceSecret: Buffer | null | undefined): string | null {
  if (!bounceLabel || !bounceSecret || !signed?.aligned || !signed.domain || mailFrom === '') return null;
  return bounceAddress({ queueId: id, domain: signed.domain, label: bounceLabel, secret: bounceSecret });
}

/** RFC 3848 / RFC 6531 §3.7.3 "with" keyword of an SMTP transaction: SMTP, ESMTP[S][A], UTF8SMTP[S][A]. */
export function withProtocol(tx: Pick<Transaction, 'esmtp' | 'smtputf8' | 'tls' | 'user'>): string {
  if (!tx.esmtp) return 'SMTP';
  return `${tx.smtputf8 ? 'UTF8SMTP' : 'ESMTP'}${tx.tls ? 'S' : ''}${tx.user !== null ? 'A' : ''}`;
}

/** hasField's expression for each name asked (a few fixed names): made once, not per message. */
const FIELD_TESTS = new Map<string, RegExp>();

/** Whether a header block (CRLF line ends) has a field called `name` (lower-case). */
export function hasField(headerBlock: string, name: string): boolean {
  let re = FIELD_TESTS.get(name);
  if (!re) FIELD_TESTS.set(name, re = new RegExp(`(^|\\r\\n)${name}[ \\t]*:`, 'i')); // not global: test() keeps no state
  return re.test(headerBlock);
}
