// How recordResults' outcomes go to the SQLite executor: runs of consecutive equal outcomes, each
// given once with its recipients' ids. One result statement and one attempt statement per run
// (write-ops.ts), and, to the database thread, one outcome object cloned per run instead of one
// per recipient (a job's
// recipients usually share the transaction's answer: bench/README.md, fifteenth session).
import type { RecipientOutcome } from '../store.js';
import { ROWS_PER_STATEMENT } from './rows.js';

/** An outcome (its rcptId is that of the first id) and the ids of the recipients it is the outcome of, ascending. */
export type OutcomeRun = [outcome: RecipientOutcome, rcptIds: number[]];

export const nextOf = (o: RecipientOutcome): number | null => (o.status === 'deferred' ? o.nextAttemptAt : null);

/**
 * Whether b can share a's run: the same outcome in every field that is written (the TLS result
 * and the suppression by reference: one session's object), and a higher recipient id, so that rows
 * are written in the order one statement per recipient wrote them.
 */
const sameRun = (a: RecipientOutcome, b: RecipientOutcome): boolean =>
  b.rcptId > a.rcptId && a.status === b.status && a.response === b.response && a.host === b.host && a.tls === b.tls
  && a.source === b.source && a.remoteIp === b.remoteIp && a.durationMs === b.durationMs && nextOf(a) === nextOf(b)
  && (a.status !== 'suppressed' || (b.status === 'suppressed' && a.suppression === b.suppression));

/** Consecutive outcomes that sameRun joins, at most ROWS_PER_STATEMENT a run, in order. */
export function outcomeRuns(outcomes: readonly RecipientOutcome[]): OutcomeRun[] {
  const runs: OutcomeRun[] = [];
  let last: RecipientOutcome | null = null;
  let ids: number[] = [];
  for (const o of outcomes) {
    if (last && ids.length < ROWS_PER_STATEMENT && sameRun(last, o)) ids.push(o.rcptId);
    else runs.push([o, (ids = [o.rcptId])]);
    last = o;
  }
  return runs;
}
