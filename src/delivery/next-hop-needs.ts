// Owns what a message's own transport needs (message/transport-needs.ts, stored at acceptance)
// change in delivery, in three places:
//   1. the TLS requirement of each host (run-job.ts): `TLS-Required: No` (RFC 8689) → opportunistic
//      TLS, without consulting MTA-STS, DANE or delivery.tls/tlsPolicies (a smarthost keeps its
//      own requirement: it is the operator's route, not a recipient-side policy); REQUIRETLS →
//      at least 'verify' (TLS with a certificate valid for the MX name, or DANE), never plaintext;
//   2. the session, once open and before MAIL (attempt.ts): a REQUIRETLS message needs a verified
//      session and a server that offers REQUIRETLS; a message needing SMTPUTF8 (a UTF-8 address or
//      UTF-8 header fields) needs a server that offers SMTPUTF8. Otherwise nothing is sent to that
//      host and the verdict is permanent, so the message bounces unless another MX host can take it;
//   3. the MAIL command (attempt.ts): REQUIRETLS and SMTPUTF8 parameters.
// Status codes: 5.7.30 "REQUIRETLS support required" (RFC 8689; the server does not offer it),
// 5.7.10 "Encryption Needed" (the enhanced-status registry's code, used here for "no verified TLS
// session"), 5.6.7 "Non-ASCII addresses not permitted" and 5.6.9 "UTF-8 header message cannot be
// transferred" (both RFC 6531).
import { isUtf8Address, type MessageTransport } from '../message/transport-needs.js';
import type { GeneratedMessage } from '../store/store.js';
import type { Verdict } from './classify.js';
import type { SmtpSession } from './connection-pool.js';
import { offers, type OutboundEnvelope } from './smtp-connection.js';
import { TlsRequirementFailure } from './tls-check.js';
import { isStricter, type TlsRequirement } from './tls-policy.js';

/** The envelope of the message as nodemailer gets it: what it is, plus its REQUIRETLS and SMTPUTF8 parameters. */
export interface NeedsEnvelope { from: string; to: string[]; transport?: MessageTransport }

/** `TLS-Required: No`: STARTTLS when offered, any certificate, plaintext when the handshake fails. */
export const optionalTlsRequirement = (host: string): TlsRequirement =>
  ({ level: 'opportunistic', source: 'opportunistic', names: [host], tlsa: [] });

/** The host's requirement, raised to 'verify' for a REQUIRETLS message (DANE stays DANE). */
export function withRequireTls(r: TlsRequirement, transport: MessageTransport | undefined, host: string): TlsRequirement {
  if (!transport?.requireTls || !isStricter('verify', r.level)) return r;
  return { ...r, level: 'verify', names: r.names.length > 0 ? r.names : [host], audit: false };
}

/** The MAIL parameters the message's needs add: REQUIRETLS, SMTPUTF8 (nodemailer adds the others). */
export function needsEnvelope(m: NeedsEnvelope): Pick<OutboundEnvelope, 'requireTLSExtensionEnabled' | 'smtpUtf8'> {
  return { ...(m.transport?.requireTls ? { requireTLSExtensionEnabled: true } : {}), ...(needsSmtpUtf8(m) ? { smtpUtf8: true } : {}) };
}

/** This transaction needs SMTPUTF8: the message does (UTF-8 sender or header fields), or one of its recipients here is UTF-8. */
const needsSmtpUtf8 = (m: NeedsEnvelope): boolean => m.transport?.smtpUtf8 === true || isUtf8Address(m.from) || m.to.some(isUtf8Address);

/** Why this open session must not carry the message (checked before MAIL), or null. */
export function sessionRefusal(m: NeedsEnvelope, session: SmtpSession, host: string): Verdict | null {
  const t = m.transport;
  if (t?.requireTls) {
    if (!session.tls.verified) return notVerified(host, session.tls.error);
    if (!offers(session.conn, 'REQUIRETLS')) {
      return { kind: 'permanent', status: '5.7.30', reason: `REQUIRETLS support required: ${host} does not offer REQUIRETLS` };
    }
  }
  if (needsSmtpUtf8(m) && !offers(session.conn, 'SMTPUTF8')) {
    if (isUtf8Address(m.from) || m.to.some(isUtf8Address)) {
      return { kind: 'permanent', status: '5.6.7', reason: `non-ASCII address: ${host} does not offer SMTPUTF8` };
    }
    return { kind: 'permanent', status: '5.6.9', reason: `UTF-8 header fields: ${host} does not offer SMTPUTF8` };
  }
  return null;
}

/** A session that failed its TLS requirement, for a REQUIRETLS message: permanent (RFC 8689: returned, not retried in clear). */
export function requireTlsFailure(transport: MessageTransport | undefined, err: unknown, host: string): Verdict | null {
  if (!transport?.requireTls) return null;
  const tlsFailed = err instanceof TlsRequirementFailure || (err as { code?: unknown } | null)?.code === 'ETLS';
  return tlsFailed ? notVerified(host, (err as Error).message) : null;
}

const notVerified = (host: string, why?: string): Verdict =>
  ({ kind: 'permanent', status: '5.7.10', reason: `REQUIRETLS: no verified TLS session with ${host}${why ? ` (${why})` : ''}` });

/**
 * The DSN of a message: sent with REQUIRETLS when the message was (our reading of RFC 8689's
 * non-delivery rules: the report carries the original header section, which may be as sensitive
 * as the message; the body is never returned, dsn.ts), and marked SMTPUTF8 when it goes to a
 * UTF-8 address.
 */
export function dsnTransport(g: GeneratedMessage, original: { transport?: MessageTransport; mailFrom: string }): GeneratedMessage {
  const requireTls = original.transport?.requireTls === true;
  const smtpUtf8 = isUtf8Address(original.mailFrom);
  if (!requireTls && !smtpUtf8) return g;
  return { ...g, message: { ...g.message, transport: { requireTls, smtpUtf8, tlsOptional: false } } };
}
