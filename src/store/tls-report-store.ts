// The TLS reporting half of the store contract (RFC 8460, issue 13): per UTC day and policy
// domain, counters of outbound TLS session outcomes (successes and each failure type, per policy,
// receiving MX and address, reason) that delivery flushes in batches (tlsrpt/outcomes.ts), and one
// claim row per (domain, day) report, so that on a shared database exactly one node sends it: the
// claim is taken with a lease, finished once the report is queued or posted, and taken over by
// another node only if its owner died before finishing (lease expired).

/** RFC 8460 §4.4 policy types. */
export type TlsPolicyType = 'sts' | 'tlsa' | 'no-policy-found';

/** One counter: a day's sessions of one outcome. `resultType` is 'success' or an RFC 8460 §4.3 result type. */
export interface TlsOutcomeCount {
  /** ms, start of the UTC day. */
  day: number;
  /** The policy domain (the recipient domain), lower case. */
  domain: string;
  policyType: TlsPolicyType;
  /** Identifies the policy (sha256 hex of `policy`); '' when none. */
  policyHash: string;
  /** The policy as reported: JSON of { strings, mxHost } (RFC 8460 policy-string, mx-host). */
  policy: string;
  resultType: string;
  /** Receiving MX host name; '' for a success or when unknown. */
  mx: string;
  /** Receiving IP address; '' for a success or when unknown. */
  ip: string;
  /** failure-reason-code / additional detail; '' for a success. */
  reason: string;
  n: number;
}

export type TlsReportState = 'claimed' | 'sent' | 'skipped' | 'failed';

export interface TlsReportClaim {
  domain: string;
  day: number;
  owner: string;
  now: number;
  /** The claim is this node's until now + leaseMs; after that another node may take it over. */
  leaseMs: number;
}

export interface TlsReportRow { domain: string; day: number; owner: string; state: TlsReportState; attempts: number; leaseUntil: number; detail: string }

export interface TlsReportStore {
  /** Adds the counts to their counters (created at 0). */
  addTlsOutcomes(rows: TlsOutcomeCount[]): Promise<void>;
  /** The counters of one day (of one domain if given), ordered by domain then key. */
  readTlsOutcomes(day: number, domain?: string): Promise<TlsOutcomeCount[]>;
  /**
   * Claims the (domain, day) report: its attempt number (1 for the first claim) and the detail the
   * last attempt left if this owner now holds it, null if it is finished or another owner's lease
   * still runs.
   */
  claimTlsReport(c: TlsReportClaim): Promise<{ attempts: number; detail: string } | null>;
  /**
   * By the claim's owner: 'sent'/'skipped'/'failed' finish it; 'claimed' keeps it unfinished, due
   * for another try (by any node) at `retryAt`.
   */
  finishTlsReport(domain: string, day: number, owner: string, state: TlsReportState, detail: string, retryAt?: number): Promise<void>;
  /** Report claims, newest day first (the CLI). */
  listTlsReports(limit: number): Promise<TlsReportRow[]>;
  /** Deletes counters and claims of days before `day`; returns the rows deleted. */
  purgeTlsReports(day: number): Promise<number>;
}
