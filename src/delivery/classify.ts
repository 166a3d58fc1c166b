// Classifies what went wrong in a delivery — a remote reply, a transport error, a DNS failure or
// a failure we decided ourselves — into a Verdict: temporary or permanent, an RFC 3463 status,
// a short reason, and the remote reply when there was one (for logs and DSN Diagnostic-Code).
import { DeliveryError } from '../errors.js';
import { BOUNCE_RULES, type BounceRule, type FailureKind } from './bounce-rules.js';
import { DnsLookupError } from './resolver.js';

export type { FailureKind };

export interface Verdict {
  kind: FailureKind;
  /** RFC 3463 enhanced status, e.g. "5.1.1". Its class always matches `kind`. */
  status: string;
  reason: string;
  /** The remote server's reply, as received (multi-line replies joined with a space). */
  reply?: string;
}

/** A failure decided locally (no remote reply), with the status it should be reported with. */
export class LocalFailure extends DeliveryError {
  constructor(kind: FailureKind, readonly status: string, message: string, options?: { cause?: unknown }) {
    super(kind, message, undefined, options);
  }
}

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})\b/;

/** "550-5.1.1 a\n550 5.1.1 b" → { code: 550, enhanced: '5.1.1', text: '5.1.1 a 5.1.1 b' }. */
export function parseReply(reply: string): { code: number; enhanced?: string; text: string } | null {
  const lines = reply.split(/\r?\n/).filter((l) => l.trim() !== '');
  const m = /^(\d{3})[ -]?/.exec(lines[0] ?? '');
  if (!m) return null;
  const text = lines.map((l) => l.replace(/^\d{3}[ -]?/, '')).join(' ').trim();
  const e = ENHANCED.exec(text);
  return { code: Number(m[1]), enhanced: e ? `${e[1]}.${e[2]}.${e[3]}` : undefined, text };
}

/** One line, for logs and Diagnostic-Code. */
export const flattenReply = (reply: string): string =>
  (reply.indexOf('\n') === -1 ? reply.trim() // one line (the usual): the same as split/trim/filter/join, without the arrays
    : reply.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).join(' '));

function matches(rule: BounceRule, code: number | undefined, text: string, errorCode: string | undefined): boolean {
  if (rule.errorCode !== undefined && rule.errorCode !== errorCode) return false;
  if (rule.code !== undefined) {
    if (code === undefined) return false;
    const [min, max] = typeof rule.code === 'number' ? [rule.code, rule.code] : rule.code;
    if (code < min || code > max) return false;
  }
  return !rule.text || rule.text.test(text);
}

function ruleFor(code: number | undefined, text: string, errorCode?: string): BounceRule {
  return BOUNCE_RULES.find((r) => matches(r, code, text, errorCode)) ?? BOUNCE_RULES[BOUNCE_RULES.length - 1]!;
}

/** The reply's own enhanced status (its class set to the verdict's), else the rule's default. */
function statusFor(rule: BounceRule, enhanced: string | undefined): string {
  if (!enhanced || enhanced.startsWith('2.')) return rule.status;
  return (rule.kind === 'temporary' ? '4' : '5') + enhanced.slice(1);
}

/** A remote SMTP reply (full text, code first) that was not a success. */
export function classifyReply(reply: string): Verdict {
  const parsed = parseReply(reply);
  const rule = ruleFor(parsed?.code, parsed?.text ?? reply);
  return { kind: rule.kind, status: statusFor(rule, parsed?.enhanced), reason: rule.reason, reply: flattenReply(reply) };
}

interface TransportErrorLike { code?: unknown; response?: unknown; responseCode?: unknown; message?: unknown }

/** Any error thrown during routing or an attempt. Unknown errors are temporary. */
export function classifyError(err: unknown): Verdict {
  if (err instanceof LocalFailure) return { kind: err.kind, status: err.status, reason: err.message };
  if (err instanceof DnsLookupError) return dnsVerdict(err);
  if (err instanceof DeliveryError) {
    if (err.remote) return { ...classifyReply(`${err.remote.code} ${err.remote.enhanced ?? ''} ${err.remote.text}`), kind: err.kind };
    return { kind: err.kind, status: err.kind === 'temporary' ? '4.0.0' : '5.0.0', reason: err.message };
  }
  const e = (err ?? {}) as TransportErrorLike;
  const reply = typeof e.response === 'string' && /^\d{3}/.test(e.response) ? e.response : undefined;
  // A transport error code decides the kind even when a reply came with it: a 5xx answer to
  // STARTTLS or AUTH, or a 554 greeting, says nothing about the message itself.
  const transport = typeof e.code === 'string' ? BOUNCE_RULES.find((r) => r.errorCode === e.code) : undefined;
  if (transport) return { kind: transport.kind, status: transport.status, reason: transport.reason, ...(reply ? { reply: flattenReply(reply) } : {}) };
  if (reply) return classifyReply(reply);
  const rule = ruleFor(undefined, '');
  return { kind: rule.kind, status: rule.status, reason: rule.reason };
}

function dnsVerdict(err: DnsLookupError): Verdict {
  if (err.failure === 'temporary') return { kind: 'temporary', status: '4.4.3', reason: `DNS lookup failed (${err.errorCode})` };
  return { kind: 'permanent', status: '5.1.2', reason: 'the recipient domain does not exist' };
}

/**
 * The one-line text stored as a recipient's last response: the remote reply when it speaks for
 * the verdict, else status and reason (followed by the reply, e.g. a 5xx refusal of STARTTLS).
 */
export function describeVerdict(v: Verdict): string {
  if (v.reply && v.reply[0] === v.status[0]) return v.reply;
  return `${v.status} ${v.reason}${v.reply ? `: ${v.reply}` : ''}`;
}
