// TLS reporting on PostgreSQL (store/tls-report-store.ts), on the shared statements
// (sql/tls-reports.ts) but for the counter batch: one upsert of the unnested arrays (one round trip
// per flush, not per counter), in key order, so two nodes flushing overlapping counters wait for
// each other instead of deadlocking; a claim is one upsert whose RETURNING row says this node won
// (the unique key (domain, day) makes it exactly one).
import {
  CLAIM_TLS_REPORT, FINISH_TLS_REPORT, LIST_TLS_REPORTS, PURGE_TLS_OUTCOMES, PURGE_TLS_REPORTS, SELECT_TLS_OUTCOMES,
  SELECT_TLS_OUTCOMES_OF, inKeyOrder, toOutcome, toReportRow, type TlsOutcomeRow, type TlsReportDbRow,
} from '../sql/tls-reports.js';
import type { TlsOutcomeCount, TlsReportClaim, TlsReportRow, TlsReportState } from '../tls-report-store.js';
import type { Conn } from './rows.js';

/**
 * Runs in the caller's transaction: one statement for the whole batch (arrays unnested), in key
 * order. A batch's keys are distinct (the recorder's map), as one upsert statement requires.
 */
export async function addTlsOutcomes(c: Conn, rows: TlsOutcomeCount[]): Promise<void> {
  const sorted = inKeyOrder(rows);
  const col = <K extends keyof TlsOutcomeCount>(k: K) => sorted.map((r) => r[k]);
  await c.query(`INSERT INTO tls_outcome (day, domain, policy_type, policy_hash, policy, result_type, mx, ip, reason, n)
    SELECT day, domain, policy_type, policy_hash, policy, result_type, mx, ip, reason, n FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[])
      WITH ORDINALITY AS t(day, domain, policy_type, policy_hash, policy, result_type, mx, ip, reason, n, ord)
    ORDER BY ord
    ON CONFLICT (day, domain, policy_type, policy_hash, result_type, mx, ip, reason) DO UPDATE SET n = tls_outcome.n + excluded.n`,
  [col('day'), col('domain'), col('policyType'), col('policyHash'), col('policy'), col('resultType'), col('mx'), col('ip'), col('reason'), col('n')]);
}

export async function readTlsOutcomes(c: Conn, day: number, domain: string | null): Promise<TlsOutcomeCount[]> {
  const { rows } = domain === null
    ? await c.query<TlsOutcomeRow>(SELECT_TLS_OUTCOMES.text, [day])
    : await c.query<TlsOutcomeRow>(SELECT_TLS_OUTCOMES_OF.text, [day, domain]);
  return rows.map(toOutcome);
}

export async function claimTlsReport(c: Conn, k: TlsReportClaim): Promise<{ attempts: number; detail: string } | null> {
  const { rows } = await c.query<{ attempts: number; detail: string }>(CLAIM_TLS_REPORT.text, [k.domain, k.day, k.owner, k.now + k.leaseMs, k.now]);
  return rows[0] ? { attempts: Number(rows[0].attempts), detail: rows[0].detail } : null;
}

export async function finishTlsReport(c: Conn, domain: string, day: number, owner: string, state: TlsReportState, detail: string, retryAt: number | null): Promise<void> {
  await c.query(FINISH_TLS_REPORT.text, [domain, day, owner, state, detail, retryAt ?? 0]);
}

export async function listTlsReports(c: Conn, limit: number): Promise<TlsReportRow[]> {
  return (await c.query<TlsReportDbRow>(LIST_TLS_REPORTS.text, [limit])).rows.map(toReportRow);
}

export async function purgeTlsReports(c: Conn, day: number): Promise<number> {
  const a = await c.query(PURGE_TLS_OUTCOMES.text, [day]);
  const b = await c.query(PURGE_TLS_REPORTS.text, [day]);
  return (a.rowCount ?? 0) + (b.rowCount ?? 0);
}
