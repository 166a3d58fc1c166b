// The egress sources' part of the store interface (issue 11): the live state of each source
// (active, draining, paused) and the definition of sources added at run time, shared by every
// node; the warmup counters (messages per source, mailbox provider and UTC day) taken atomically
// so a cap holds across nodes; and postponing a claimed job that no source may take now (no
// attempt counted). The rules (which source, which cap) are in delivery/egress.ts.

/** active: takes new mail; draining: none (going away; in-flight mail finishes); paused: none for now. */
export type SourceState = 'active' | 'draining' | 'paused';
export const SOURCE_STATES: readonly SourceState[] = ['active', 'draining', 'paused'];

/** A stored source row. A source of the config has only its state stored (address null). */
export interface StoredSource {
  name: string;
  state: SourceState;
  /** Set for a source added at run time (`postlane sources add`, POST /v1/sources); null: defined in the config. */
  address: string | null;
  ehlo: string | null;
  pool: string | null;
  warmupSchedule: string | null;
  /** "YYYY-MM-DD". */
  warmupStart: string | null;
  updatedAt: number;
}

export type NewSource = Omit<StoredSource, 'state' | 'updatedAt'> & { address: string; ehlo: string; pool: string };

/** One warmup counter: messages sent through a source to one provider on one UTC day. */
export interface WarmupCount { source: string; provider: string; day: number; n: number }

export interface SourceStore {
  listSources(): Promise<StoredSource[]>;
  /** Stores a run-time source (state active). False when a source of that name is stored already. */
  addSource(s: NewSource, now: number): Promise<boolean>;
  /** Sets the state of a source (a config one gets its row now). */
  setSourceState(name: string, state: SourceState, now: number): Promise<void>;
  /**
   * Counts one message to `provider` through `source` on UTC `day` if fewer than `cap` were
   * counted; true when counted. Atomic across nodes: the cap is never exceeded.
   */
  takeWarmup(source: string, provider: string, day: number, cap: number): Promise<boolean>;
  /** The counters of `day`, by source and provider. */
  readWarmup(day: number): Promise<WarmupCount[]>;
  /** Drops counters of days before `day`. Returns rows removed. */
  purgeWarmup(day: number): Promise<number>;
  /**
   * Jobs `owner` claimed that no source may send now: waiting again, due at `until`, no attempt
   * counted (not the destination's fault). Returns recipients affected.
   */
  postponeJobs(owner: string, jobs: { messageId: string; domain: string }[], until: number, now: number): Promise<number>;
}
