// The requests SqliteQueueStore makes of the executor (executor.ts, through client.ts): which
// operations exist, which of them write (and so join a group commit), and the answers' shapes.

import { PLATFORM_READ_OPS, PLATFORM_WRITE_OPS } from './platform-protocol.js';
import type { SoftBouncePolicy } from '../suppression-store.js';
import type { BreakerPolicy } from '../breaker-rules.js';

/** Operations that write: executed inside the executor's group-commit transaction. */
export const WRITE_OPS = [
  'put', 'putMany', 'putCheckingSuppressions', 'claimDue', 'recordResults', 'releaseLeases', 'retry', 'hold', 'release',
  'deleteMessage', 'purgeFinished', 'addUser', 'removeUser', 'setUserDomains', 'changeUser',
  'addDomain', 'removeDomain', 'addDkimKey', 'activateDkimKey', 'recordHeartbeat', 'unclaimJobs',
  ...PLATFORM_WRITE_OPS,
] as const;

/** Operations that only read: answered at once from a second (read-only) connection. */
export const READ_OPS = [
  'nextDueAt', 'listRecipients', 'getMessage', 'counts', 'getUser', 'listUsers', 'getDomain', 'listDomains', 'listDomainNames',
  'bodySource', 'listNodes', ...PLATFORM_READ_OPS,
] as const;

/**
 * What readBody needs, in one round trip: the header prefix and the body itself when stored
 * inline (its buffer transferred), 'file' when it is in the spool, null when the message is
 * unknown or finished (its body removed).
 */
/** body: the inline blob; 'inline' when it was not asked for (bodySource's `blob` false); 'file': a spool file; null: none or finished. */
export interface BodySource { prefix: string | null; body: Uint8Array | 'inline' | 'file' | null }

export type WriteOp = (typeof WRITE_OPS)[number];
export type ReadOp = (typeof READ_OPS)[number];
/** 'close': the worker's last request (worker-client.ts); never given to the executor. */
export type Op = WriteOp | ReadOp | 'close';

/**
 * `keep` (put and putCheckingSuppressions with an inline body): once SQLite has its copy, the
 * body comes back with the answer (`[result, body]`, the same buffer) for the store to keep for
 * delivery (KeptBodies). Without `keep`, a body of RELEASE_BODY_MIN bytes or more is freed as soon
 * as its statement has run (its caller handed it over: StoreClient.call's `transfer`).
 */
export interface StoreRequest { id: number; op: Op; args: unknown[]; keep?: true; transfer?: ArrayBuffer[] }

/** Error kinds the store maps back to typed errors. 'dead': the executor stopped (fail-stop: made by client.ts or worker-client.ts, never sent). */
export type StoreErrorKind = 'write' | 'user-exists' | 'domain-exists' | 'selector-exists' | 'not-found' | 'internal'
  | 'account-exists' | 'account-default' | 'dead';

export type StoreResponse =
  /** `wrote`: committed in a batch that changed rows and was fsynced (proof that the disk takes writes; an empty or claim-only commit is not). */
  | { id: number; ok: true; result: unknown; wrote?: boolean }
  | { id: number; ok: false; kind: StoreErrorKind; message: string; code?: string };

/**
 * Sent by the database thread when it must stop at once (a failed WAL fsync after COMMIT:
 * executor.ts, "Fail-stop"); it answers nothing more and exits. `code`: the errno (EIO…).
 */
export interface WorkerFatal { fatal: true; message: string; code?: string }

/** Sent once by the database thread after opening and migrating, or with the failure. */
export type WorkerReady = { ready: true; swept: number } | { ready: false; message: string; code?: string };

export interface StoreConfig {
  dbPath: string; spoolDir: string; sweepOrphans: boolean; orphanAgeMs: number; softBounces: SoftBouncePolicy; breakers: BreakerPolicy;
  /** Heavy reads on a read-only thread started on demand (executor.ts "The heavy reads' answers"); in-process only. */
  heavyReadsThread?: boolean;
}

/** claimDue's exclusion list by number: `domains` defines it; without, it names one of the last EXCLUSIONS_KEPT defined. */
export interface Exclusion { id: number; domains?: readonly string[] }
/** Exclusion lists the executor remembers (the store refers only to these by number). */
export const EXCLUSIONS_KEPT = 8;
