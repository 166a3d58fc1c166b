// The TLS reporting statements (store/tls-report-store.ts), shared by both stores (see dialect.ts).
// Counters are upserted (n + excluded.n); a claim is an upsert that only takes over an unfinished
// claim whose lease ran out, and RETURNING says whether this owner got it.
import { shared } from './dialect.js';
import type { TlsOutcomeCount, TlsReportRow, TlsReportState } from '../tls-report-store.js';

export const ADD_TLS_OUTCOME = shared(`INSERT INTO tls_outcome (day, domain, policy_type, policy_hash, policy, result_type, mx, ip, reason, n)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  ON CONFLICT (day, domain, policy_type, policy_hash, result_type, mx, ip, reason) DO UPDATE SET n = tls_outcome.n + excluded.n`);

const OUTCOME_COLUMNS = 'day, domain, policy_type, policy_hash, policy, result_type, mx, ip, reason, n';
const OUTCOME_ORDER = 'ORDER BY domain, policy_type, policy_hash, result_type, mx, ip, reason';
export const SELECT_TLS_OUTCOMES = shared(`SELECT ${OUTCOME_COLUMNS} FROM tls_outcome WHERE day = $1 ${OUTCOME_ORDER}`);
export const SELECT_TLS_OUTCOMES_OF = shared(`SELECT ${OUTCOME_COLUMNS} FROM tls_outcome WHERE day = $1 AND domain = $2 ${OUTCOME_ORDER}`);

/** $1 domain, $2 day, $3 owner, $4 lease until, $5 now. */
export const CLAIM_TLS_REPORT = shared(`INSERT INTO tls_report (domain, day, owner, lease_until, state, attempts, detail)
  VALUES ($1, $2, $3, $4, 'claimed', 1, '')
  ON CONFLICT (domain, day) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until, attempts = tls_report.attempts + 1
  WHERE tls_report.state = 'claimed' AND tls_report.lease_until <= $5
  RETURNING attempts, detail`);
/** $1 domain, $2 day, $3 owner, $4 state, $5 detail, $6 lease until (a retry time, or 0). */
export const FINISH_TLS_REPORT = shared(`UPDATE tls_report SET state = $4, detail = $5, lease_until = $6
  WHERE domain = $1 AND day = $2 AND owner = $3 AND state = 'claimed'`);
export const LIST_TLS_REPORTS = shared(`SELECT domain, day, owner, state, attempts, lease_until, detail FROM tls_report
  ORDER BY day DESC, domain LIMIT $1`);
export const PURGE_TLS_OUTCOMES = shared('DELETE FROM tls_outcome WHERE day < $1');
export const PURGE_TLS_REPORTS = shared('DELETE FROM tls_report WHERE day < $1');

export interface TlsOutcomeRow {
  day: number | string; domain: string; policy_type: string; policy_hash: string; policy: string;
  result_type: string; mx: string; ip: string; reason: string; n: number | string;
}
export interface TlsReportDbRow { domain: string; day: number | string; owner: string; state: string; attempts: number | string; lease_until: number | string; detail: string }

export const outcomeValues = (r: TlsOutcomeCount): unknown[] =>
  [r.day, r.domain, r.policyType, r.policyHash, r.policy, r.resultType, r.mx, r.ip, r.reason, r.n];

export const toOutcome = (r: TlsOutcomeRow): TlsOutcomeCount => ({
  day: Number(r.day), domain: r.domain, policyType: r.policy_type as TlsOutcomeCount['policyType'], policyHash: r.policy_hash,
  policy: r.policy, resultType: r.result_type, mx: r.mx, ip: r.ip, reason: r.reason, n: Number(r.n),
});

export const toReportRow = (r: TlsReportDbRow): TlsReportRow => ({
  domain: r.domain, day: Number(r.day), owner: r.owner, state: r.state as TlsReportState, attempts: Number(r.attempts),
  leaseUntil: Number(r.lease_until), detail: r.detail,
});

/** Counters in key order, so concurrent batches on PostgreSQL lock rows in the same order (no deadlock). */
export const inKeyOrder = (rows: TlsOutcomeCount[]): TlsOutcomeCount[] => [...rows].sort((a, b) => {
  const ka = [a.day, a.domain, a.policyType, a.policyHash, a.resultType, a.mx, a.ip, a.reason].join('\u0000');
  const kb = [b.day, b.domain, b.policyType, b.policyHash, b.resultType, b.mx, b.ip, b.reason].join('\u0000');
  return ka < kb ? -1 : ka > kb ? 1 : 0;
});
