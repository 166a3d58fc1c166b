// Owns the adaptive half of traffic shaping as data (issue 11): which remote replies mean "slow
// down" or "you are being limited", and what the relay does then for that provider and egress
// source: suspend it for a while (no new sessions, mail stays queued) and/or scale its rates and
// connections down; recovery is gradual (shaper.ts). First match wins; operator rules
// (shaping.actions) are tried before the stock ones. Matched against the whole reply, code first,
// multi-line replies joined. Per-recipient limits (Gmail 4.2.1 "receiving mail too quickly") are
// not here: they say nothing about the sender's budget.
export interface ThrottleAction {
  /** Short name for logs and `queue list --by provider` (why a provider is suspended). */
  name: string;
  /** Matched against the reply ("421 4.7.28 …"), case-insensitive. */
  pattern: RegExp;
  /** Suspend the provider for this source this long (ms); 0: no suspension. */
  suspendMs: number;
  /** Multiply the provider's rates and connections by this (0 < scale ≤ 1). */
  scale: number;
}

const MIN = 60_000;

export const STOCK_THROTTLE_ACTIONS: readonly ThrottleAction[] = [
  // Gmail: "421-4.7.28 … unusual rate of unsolicited mail … temporarily rate limited"
  { name: 'gmail-rate-limited', pattern: /^4\d\d[ -]4\.7\.28\b/, suspendMs: 10 * MIN, scale: 0.5 },
  // Gmail: "421-4.7.26 This mail has been rate limited because it is unauthenticated"
  { name: 'gmail-unauthenticated', pattern: /^4\d\d[ -]4\.7\.26\b/, suspendMs: 10 * MIN, scale: 0.5 },
  // Microsoft: "451 4.7.650 The mail server [ip] has been temporarily rate limited due to IP reputation"
  { name: 'microsoft-reputation', pattern: /^4\d\d[ -]4\.7\.65[01]\b/, suspendMs: 15 * MIN, scale: 0.5 },
  // Microsoft: "… part of their network is on our block list (S3150)"
  { name: 'microsoft-blocklist', pattern: /\(S3150\)/, suspendMs: 60 * MIN, scale: 0.25 },
  // Microsoft: "451 4.7.500 Server busy. Please try again later from [ip]. (S77714)", "(RP-001)" … "(RP-003)"
  { name: 'microsoft-busy', pattern: /\(RP-00[1-3]\)|\(S7771[0-9]\)|\(AS843\)/, suspendMs: 5 * MIN, scale: 0.5 },
  // Yahoo/AOL: "421 4.7.0 [TSS04] … temporarily deferred due to unexpected volume or user complaints"
  { name: 'yahoo-volume', pattern: /\[TSS0[49]\]/, suspendMs: 10 * MIN, scale: 0.5 },
  // Yahoo/AOL: "421 4.7.0 [TS01] Messages from ip temporarily deferred due to user complaints" (TS02, TS03)
  { name: 'yahoo-complaints', pattern: /\[TS0[1-3]\]/, suspendMs: 30 * MIN, scale: 0.25 },
  // Connection limits: Gmail "421 4.7.0 Try again later, closing connection", Microsoft 4.3.2, generic texts
  { name: 'too-many-connections', pattern: /^4\d\d[ -](4\.3\.2\b.*concurrent|.*too many (concurrent )?connections)|^421[ -]4\.7\.0 Try again later, closing connection/i, suspendMs: 0, scale: 0.5 },
  // Generic: "421 4.7.0 rate limited", "450 … throttled", "too many messages", "sending rate exceeded"
  { name: 'rate-limited', pattern: /^4\d\d[ -].*(rate[- ]limit|throttl|too many (messages|mails)|rate exceeded|sending rate)/i, suspendMs: 1 * MIN, scale: 0.5 },
];

/** The action for a reply: operator rules first, then the stock ones; null when the reply is no throttle. */
/**
 * How much of a reply the patterns see. A hostile receiver writes the reply: bounding it bounds the
 * time an operator's own (possibly backtracking) `shaping.actions` pattern can take on it. Every
 * provider's throttle code stands in the first few hundred characters.
 */
export const MAX_MATCHED_REPLY_CHARS = 1000;

export function throttleActionFor(reply: string, extra: readonly ThrottleAction[] = []): ThrottleAction | null {
  const flat = reply.slice(0, MAX_MATCHED_REPLY_CHARS * 2).split(/\r?\n/).map((l, i) => (i === 0 ? l.trim() : l.replace(/^\d{3}[ -]?/, '').trim()))
    .filter(Boolean).join(' ').slice(0, MAX_MATCHED_REPLY_CHARS);
  return extra.find((a) => a.pattern.test(flat)) ?? STOCK_THROTTLE_ACTIONS.find((a) => a.pattern.test(flat)) ?? null;
}
