// Owns what a message asks of the next hops it is relayed through, decided once at acceptance
// (ingress: SMTP DATA/BDAT and the HTTP API) and stored with it, so no attempt re-scans the body:
//   - smtpUtf8: the message can only be carried by hops that offer SMTPUTF8 (RFC 6531), whatever
//     its recipients: a UTF-8 envelope sender, or raw non-ASCII octets in the header section
//     (RFC 6532 UTF-8 header fields). A UTF-8 recipient address needs SMTPUTF8 only in the
//     transactions that carry it: delivery decides that per job (next-hop-needs.ts), so the
//     ASCII recipients of another domain are not held to it. Non-ASCII in the body alone needs
//     8BITMIME, not SMTPUTF8; header fields encoded per RFC 2047 are ASCII and need nothing.
//   - requireTls: MAIL FROM … REQUIRETLS (or the API's require_tls): RFC 8689.
//   - tlsOptional: a `TLS-Required: No` header field (RFC 8689): recipient-side policy (MTA-STS,
//     DANE) and the operator's TLS policy are not applied; opportunistic TLS still is. Ignored when
//     REQUIRETLS was also asked for: the MAIL parameter wins (RFC 8689).
// Pure functions; delivery reads the flags (delivery/next-hop-requirements.ts).
import { isAscii } from 'node:buffer';

export interface MessageTransport {
  requireTls: boolean;
  smtpUtf8: boolean;
  tlsOptional: boolean;
}

export const NO_TRANSPORT_NEEDS: MessageTransport = Object.freeze({ requireTls: false, smtpUtf8: false, tlsOptional: false });

const NON_ASCII = /[^\x00-\x7f]/;

/** True if the address (or any of them) is not plain ASCII: SMTPUTF8 is needed to carry it. */
export const isUtf8Address = (address: string): boolean => NON_ASCII.test(address);

/** True if the header section (up to its empty line, or all of `header`) holds an octet ≥ 0x80. */
export function hasRawNonAsciiHeader(header: Buffer): boolean {
  const end = header.indexOf('\r\n\r\n');
  const section = end < 0 ? header : header.subarray(0, end);
  return !isAscii(section); // native (the byte loop was ~0.3 M instructions an API message unoptimised, nineteenth session)
}

/** The value of the first `TLS-Required` header field is "No" (case-insensitive, RFC 8689). */
export function hasTlsRequiredNo(header: Buffer): boolean {
  const end = header.indexOf('\r\n\r\n');
  const text = (end < 0 ? header : header.subarray(0, end + 2)).toString('latin1');
  const m = /(?:^|\r\n)TLS-Required[ \t]*:((?:[^\r]|\r(?!\n)|\r\n[ \t])*)/i.exec(text);
  return m !== null && m[1]!.replace(/\r\n/g, '').trim().toLowerCase() === 'no';
}

/** The `transport` field of a stored message: present only when the message needs something. */
export const transportField = (t: MessageTransport): { transport?: MessageTransport } =>
  (t.requireTls || t.smtpUtf8 || t.tlsOptional ? { transport: t } : {});

/** What the message needs of its next hops: its envelope, its header section, and the REQUIRETLS request. */
export function transportNeeds(m: { mailFrom: string; header: Buffer; requireTls: boolean }): MessageTransport {
  const smtpUtf8 = isUtf8Address(m.mailFrom) || hasRawNonAsciiHeader(m.header);
  const tlsOptional = !m.requireTls && hasTlsRequiredNo(m.header);
  return { requireTls: m.requireTls, smtpUtf8, tlsOptional };
}
