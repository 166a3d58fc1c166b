// Provider suspensions in the SQLite store (interface: ../shaping-store.ts, SQL: ../sql/shaping.ts).
import type { ProviderSuspension } from '../shaping-store.js';
import { LIST_SUSPENSIONS, RECORD_SUSPENSION, toSuspension, type SuspensionRow } from '../sql/shaping.js';
import { all, run, type Db, type Effects } from './rows.js';

export const SHAPING_WRITES = {
  recordSuspension(db: Db, _fx: Effects, s: ProviderSuspension): void {
    run(db, RECORD_SUSPENSION, [s.provider, s.source, s.until, s.reason, s.at]);
  },
};

export const SHAPING_READS = {
  listSuspensions(db: Db, now: number): ProviderSuspension[] {
    return all<SuspensionRow>(db, LIST_SUSPENSIONS, [now]).map(toSuspension);
  },
};
