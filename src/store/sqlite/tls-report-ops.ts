// The executor's TLS reporting operations (store/tls-report-store.ts) on the shared statements
// (sql/tls-reports.ts): counter batches and claims join the group commit like every write.
import {
  ADD_TLS_OUTCOME, CLAIM_TLS_REPORT, FINISH_TLS_REPORT, LIST_TLS_REPORTS, PURGE_TLS_OUTCOMES, PURGE_TLS_REPORTS, SELECT_TLS_OUTCOMES,
  SELECT_TLS_OUTCOMES_OF, outcomeValues, toOutcome, toReportRow, type TlsOutcomeRow, type TlsReportDbRow,
} from '../sql/tls-reports.js';
import type { TlsOutcomeCount, TlsReportClaim, TlsReportRow, TlsReportState } from '../tls-report-store.js';
import { all, run, type Db, type Effects } from './rows.js';

export const TLS_REPORT_WRITES = {
  addTlsOutcomes(db: Db, _fx: Effects, rows: TlsOutcomeCount[]): void {
    for (const r of rows) run(db, ADD_TLS_OUTCOME, outcomeValues(r));
  },
  claimTlsReport(db: Db, _fx: Effects, c: TlsReportClaim): { attempts: number; detail: string } | null {
    const got = all<{ attempts: number; detail: string }>(db, CLAIM_TLS_REPORT, [c.domain, c.day, c.owner, c.now + c.leaseMs, c.now]);
    return got[0] ? { attempts: Number(got[0].attempts), detail: got[0].detail } : null;
  },
  finishTlsReport(db: Db, _fx: Effects, domain: string, day: number, owner: string, state: TlsReportState, detail: string, retryAt: number | null): void {
    run(db, FINISH_TLS_REPORT, [domain, day, owner, state, detail, retryAt ?? 0]);
  },
  purgeTlsReports(db: Db, _fx: Effects, day: number): number {
    return Number(run(db, PURGE_TLS_OUTCOMES, [day]).changes) + Number(run(db, PURGE_TLS_REPORTS, [day]).changes);
  },
};

export const TLS_REPORT_READS = {
  readTlsOutcomes(db: Db, day: number, domain: string | null): TlsOutcomeCount[] {
    const rows = domain === null ? all<TlsOutcomeRow>(db, SELECT_TLS_OUTCOMES, [day]) : all<TlsOutcomeRow>(db, SELECT_TLS_OUTCOMES_OF, [day, domain]);
    return rows.map(toOutcome);
  },
  listTlsReports(db: Db, limit: number): TlsReportRow[] {
    return all<TlsReportDbRow>(db, LIST_TLS_REPORTS, [limit]).map(toReportRow);
  },
};
