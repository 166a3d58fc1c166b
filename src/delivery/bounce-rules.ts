// The data table that turns a remote SMTP reply or a transport error into temporary/permanent
// and an RFC 3463 status. classify.ts applies it; tests check it as a table. First match wins.
// Keep it standard (RFC 5321 §4.2.1 and §4.5.3.1.10): 4xx temporary, 5xx permanent, with a few
// well-known exceptions; unknown errors count as temporary.

export type FailureKind = 'temporary' | 'permanent';

export interface BounceRule {
  /** Reply code, or inclusive [min, max] range; absent: any reply (or none). */
  code?: number | [number, number];
  /** Matched against the reply text (after the code), case-insensitive. */
  text?: RegExp;
  /** Transport error code (nodemailer's ECONNECTION, ETIMEDOUT, ETLS… or a node socket code). */
  errorCode?: string;
  kind: FailureKind;
  /** Status when the reply has no usable enhanced code of its own. */
  status: string;
  /** Short explanation for logs and the DSN text. */
  reason: string;
}

export const BOUNCE_RULES: readonly BounceRule[] = [
  // Transport errors: nothing was answered, so nothing is known about the message.
  { errorCode: 'ETIMEDOUT', kind: 'temporary', status: '4.4.2', reason: 'timed out talking to the mail server' },
  { errorCode: 'ECONNECTION', kind: 'temporary', status: '4.4.2', reason: 'connection to the mail server was lost' },
  { errorCode: 'ESOCKET', kind: 'temporary', status: '4.4.1', reason: 'could not connect to the mail server' },
  { errorCode: 'ETLS', kind: 'temporary', status: '4.7.5', reason: 'TLS negotiation with the mail server failed' },
  { errorCode: 'EDNS', kind: 'temporary', status: '4.4.3', reason: 'DNS lookup of the mail server failed' },
  { errorCode: 'EPROTOCOL', kind: 'temporary', status: '4.5.0', reason: 'the mail server broke the SMTP protocol' },
  { errorCode: 'ESTREAM', kind: 'temporary', status: '4.3.0', reason: 'could not read the queued message' },
  { errorCode: 'EAUTH', kind: 'temporary', status: '4.7.8', reason: 'authentication at the relay failed' },
  // 552 for "too many recipients" is to be treated as temporary (RFC 5321 §4.5.3.1.10).
  { code: 552, text: /\b5\.5\.3\b|too many recipients/i, kind: 'temporary', status: '4.5.3', reason: 'too many recipients for one transaction' },
  // 503 is a session-state problem, not a verdict on the message; a new session can succeed.
  { code: 503, kind: 'temporary', status: '4.5.0', reason: 'the mail server reported a bad command sequence' },
  { code: 421, kind: 'temporary', status: '4.4.2', reason: 'the mail server is closing the connection' },
  { code: [400, 499], kind: 'temporary', status: '4.0.0', reason: 'the mail server asked to try again later' },
  { code: [500, 599], kind: 'permanent', status: '5.0.0', reason: 'the mail server rejected the message' },
  // Anything else (an unexpected 1xx/2xx/3xx where an error was raised, unknown errors).
  { kind: 'temporary', status: '4.0.0', reason: 'delivery failed for an unknown reason' },
];
