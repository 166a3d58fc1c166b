// TLS reporting on PostgreSQL (store/tls-report-store.ts), on the shared statements
// (sql/tls-reports.ts). A counter batch upserts in key order, so two nodes flushing overlapping
// counters wait for each other instead of deadlocking; a claim is one upsert whose RETURNING row
// says this node won (the unique key (domain, day) makes it exactly one).
import {
  ADD_TLS_OUTCOME, CLAIM_TLS_REPORT, FINISH_TLS_REPORT, LIST_TLS_REPORTS, PURGE_TLS_OUTCOMES, PURGE_TLS_REPORTS, SELECT_TLS_OUTCOMES,
  SELECT_TLS_OUTCOMES_OF, inKeyOrder, outcomeValues, toOutcome, toReportRow, type TlsOutcomeRow, type TlsReportDbRow,
} from '../sql/tls-reports.js';
import type { TlsOutcomeCount, TlsReportClaim, TlsReportRow, TlsReportState } from '../tls-report-store.js';
import type { Conn } from './rows.js';

/** Runs in the caller's transaction. */
export async function addTlsOutcomes(c: Conn, rows: TlsOutcomeCount[]): Promise<void> {
  for (const r of inKeyOrder(rows)) await c.query(ADD_TLS_OUTCOME.text, outcomeValues(r));
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
