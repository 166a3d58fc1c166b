// Owns the verdict of an address verification as data: each finding (a reason code) and the
// verdict it stands for, and the rule that the worst one wins. Pure: verify-address.ts gathers the
// findings from DNS, the lists and the store; this table alone decides. docs/verification.md
// prints the same table.
//
// Order of severity: undeliverable > unknown > risky > deliverable. A DNS failure that may pass
// (SERVFAIL, timeout) is "unknown", never "undeliverable"; but a certain finding that needs no DNS
// (bad syntax, suppressed for all mail, a hard bounce with no delivery since) still wins over it.

export type Verdict = 'deliverable' | 'risky' | 'undeliverable' | 'unknown';
export const VERDICTS: readonly Verdict[] = ['deliverable', 'risky', 'undeliverable', 'unknown'];

export type ReasonCode =
  | 'syntax_invalid' | 'domain_not_found' | 'null_mx' | 'no_mail_host' | 'mail_host_unresolvable'
  | 'suppressed' | 'hard_bounced' | 'rcpt_rejected'
  | 'dns_temporary'
  | 'suppressed_broadcast' | 'complained' | 'role_account' | 'disposable_domain' | 'catch_all' | 'address_literal'
  | 'implicit_mx' | 'smtputf8' | 'previously_delivered' | 'rcpt_accepted' | 'probe_inconclusive' | 'probe_skipped';

export interface ReasonRule { code: ReasonCode; verdict: Verdict; meaning: string }

/** The table: what each finding means and the verdict it leads to ('deliverable': informational). */
export const REASON_RULES: readonly ReasonRule[] = [
  { code: 'syntax_invalid', verdict: 'undeliverable', meaning: 'not an address under RFC 5321/5322 (UTF-8 allowed per RFC 6531)' },
  { code: 'domain_not_found', verdict: 'undeliverable', meaning: 'the domain does not exist (NXDOMAIN)' },
  { code: 'null_mx', verdict: 'undeliverable', meaning: 'the domain publishes a null MX: it accepts no mail (RFC 7505)' },
  { code: 'no_mail_host', verdict: 'undeliverable', meaning: 'no MX and no A/AAAA record: nowhere to deliver' },
  { code: 'mail_host_unresolvable', verdict: 'undeliverable', meaning: 'the MX hosts (or the implicit MX) have no address, or none delivery.mxAddresses allows (delivery would bounce it 5.4.4)' },
  { code: 'suppressed', verdict: 'undeliverable', meaning: 'on this account\'s suppression list for all mail: Postlane will not send to it' },
  { code: 'hard_bounced', verdict: 'undeliverable', meaning: 'this account\'s mail to it hard-bounced, with no delivery since' },
  { code: 'rcpt_rejected', verdict: 'undeliverable', meaning: 'the SMTP probe: the MX refused the recipient permanently (5xx)' },
  { code: 'dns_temporary', verdict: 'unknown', meaning: 'a DNS lookup failed for now (SERVFAIL, timeout, refused): try again later' },
  { code: 'suppressed_broadcast', verdict: 'risky', meaning: 'suppressed for broadcast mail only (unsubscribed): transactional mail still goes' },
  { code: 'complained', verdict: 'risky', meaning: 'the recipient reported this account\'s mail as spam' },
  { code: 'role_account', verdict: 'risky', meaning: 'a role mailbox (postmaster@, info@, …), not a person' },
  { code: 'disposable_domain', verdict: 'risky', meaning: 'a throw-away mailbox provider' },
  { code: 'catch_all', verdict: 'risky', meaning: 'the SMTP probe: the MX accepts any address at the domain, so acceptance proves nothing' },
  { code: 'address_literal', verdict: 'risky', meaning: 'an IP address instead of a domain ([192.0.2.1]): valid, rarely accepted' },
  { code: 'implicit_mx', verdict: 'deliverable', meaning: 'no MX record: mail goes to the domain\'s own A/AAAA address (RFC 5321 §5.1)' },
  { code: 'smtputf8', verdict: 'deliverable', meaning: 'a UTF-8 address: only servers offering SMTPUTF8 (RFC 6531) take it' },
  { code: 'previously_delivered', verdict: 'deliverable', meaning: 'this account\'s mail to it was delivered before' },
  { code: 'rcpt_accepted', verdict: 'deliverable', meaning: 'the SMTP probe: the MX accepted the recipient (and refused a random address at the domain when checks.catch_all is false)' },
  { code: 'probe_inconclusive', verdict: 'deliverable', meaning: 'the SMTP probe got a temporary answer (greylisting) or no connection: the verdict rests on the other checks' },
  { code: 'probe_skipped', verdict: 'deliverable', meaning: 'no SMTP probe: the MX belongs to a provider that blocks probers, or its probe rate was reached' },
];

const RULE_BY_CODE = new Map(REASON_RULES.map((r) => [r.code, r]));

/** Worst first. */
const SEVERITY: Record<Verdict, number> = { undeliverable: 3, unknown: 2, risky: 1, deliverable: 0 };

export const verdictOf = (code: ReasonCode): Verdict => RULE_BY_CODE.get(code)!.verdict;

/** The verdict of a set of findings: the worst of theirs; none or only informational ones → deliverable. */
export function decideVerdict(codes: readonly ReasonCode[]): Verdict {
  let worst: Verdict = 'deliverable';
  for (const c of codes) if (SEVERITY[verdictOf(c)] > SEVERITY[worst]) worst = verdictOf(c);
  return worst;
}

/** Reasons worst first (stable within a verdict), so reasons[0] explains the verdict. */
export function orderReasons<T extends { code: ReasonCode }>(reasons: readonly T[]): T[] {
  return reasons.map((r, i) => ({ r, i })).sort((a, b) => SEVERITY[verdictOf(b.r.code)] - SEVERITY[verdictOf(a.r.code)] || a.i - b.i).map(({ r }) => r);
}
