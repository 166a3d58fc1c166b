// The executor's egress source operations (store/source-store.ts) on the shared statements
// (sql/sources.ts); writes join the group commit like every write.
import {
  ADD_SOURCE, LIST_SOURCES, POSTPONE_JOB, PURGE_WARMUP, READ_WARMUP, SET_SOURCE_STATE, TAKE_WARMUP, toSource, toWarmup,
  type SourceRow, type WarmupRow,
} from '../sql/sources.js';
import type { NewSource, SourceState, StoredSource, WarmupCount } from '../source-store.js';
import { all, run, type Db, type Effects } from './rows.js';

export const SOURCE_WRITES = {
  addSource(db: Db, _fx: Effects, s: NewSource, now: number): boolean {
    return all(db, ADD_SOURCE, [s.name, s.address, s.ehlo, s.pool, s.warmupSchedule, s.warmupStart, now]).length > 0;
  },
  setSourceState(db: Db, _fx: Effects, name: string, state: SourceState, now: number): void {
    run(db, SET_SOURCE_STATE, [name, state, now]);
  },
  takeWarmup(db: Db, _fx: Effects, source: string, provider: string, day: number, cap: number): boolean {
    return cap >= 1 && all(db, TAKE_WARMUP, [source, provider, day, cap]).length > 0;
  },
  purgeWarmup(db: Db, _fx: Effects, day: number): number {
    return Number(run(db, PURGE_WARMUP, [day]).changes);
  },
  postponeJobs(db: Db, _fx: Effects, owner: string, jobs: { messageId: string; domain: string }[], until: number, now: number): number {
    let n = 0;
    for (const j of jobs) n += Number(run(db, POSTPONE_JOB, [owner, j.messageId, j.domain.toLowerCase(), until, now]).changes);
    return n;
  },
};

export const SOURCE_READS = {
  listSources(db: Db): StoredSource[] { return all<SourceRow>(db, LIST_SOURCES, []).map(toSource); },
  readWarmup(db: Db, day: number): WarmupCount[] { return all<WarmupRow>(db, READ_WARMUP, [day]).map(toWarmup); },
};
