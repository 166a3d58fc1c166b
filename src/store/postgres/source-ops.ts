// The egress source operations on PostgreSQL (store/source-store.ts), on the shared statements
// (sql/sources.ts). takeWarmup's upsert locks the counter row, so two nodes counting the same
// (source, provider, day) take turns and the cap holds.
import {
  ADD_SOURCE, LIST_SOURCES, POSTPONE_JOB, PURGE_WARMUP, READ_WARMUP, SET_SOURCE_STATE, TAKE_WARMUP, toSource, toWarmup,
  type SourceRow, type WarmupRow,
} from '../sql/sources.js';
import type { NewSource, SourceState, StoredSource, WarmupCount } from '../source-store.js';
import type { Conn } from './rows.js';

export async function listSources(c: Conn): Promise<StoredSource[]> {
  return (await c.query<SourceRow>(LIST_SOURCES.text)).rows.map(toSource);
}
export async function addSource(c: Conn, s: NewSource, now: number): Promise<boolean> {
  const r = await c.query(ADD_SOURCE.text, [s.name, s.address, s.ehlo, s.pool, s.warmupSchedule, s.warmupStart, now]);
  return (r.rowCount ?? 0) > 0;
}
export async function setSourceState(c: Conn, name: string, state: SourceState, now: number): Promise<void> {
  await c.query(SET_SOURCE_STATE.text, [name, state, now]);
}
export async function takeWarmup(c: Conn, source: string, provider: string, day: number, cap: number): Promise<boolean> {
  if (cap < 1) return false;
  return ((await c.query(TAKE_WARMUP.text, [source, provider, day, cap])).rowCount ?? 0) > 0;
}
export async function readWarmup(c: Conn, day: number): Promise<WarmupCount[]> {
  return (await c.query<WarmupRow>(READ_WARMUP.text, [day])).rows.map(toWarmup);
}
export async function purgeWarmup(c: Conn, day: number): Promise<number> {
  return (await c.query(PURGE_WARMUP.text, [day])).rowCount ?? 0;
}
export async function postponeJobs(c: Conn, owner: string, jobs: { messageId: string; domain: string }[], until: number, now: number): Promise<number> {
  let n = 0;
  for (const j of jobs) n += (await c.query(POSTPONE_JOB.text, [owner, j.messageId, j.domain.toLowerCase(), until, now])).rowCount ?? 0;
  return n;
}
