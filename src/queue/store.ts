// The QueueStore contract: the sole owner of message, recipient, attempt and user rows.
// Ingress calls put(); delivery calls claimDue()/recordResults(); the CLI calls the admin methods.
// Implementations: sqlite/ (embedded default) and, later, postgres/. All methods are async so no
// implementation blocks the event loop; no SQL dialect leaks through this interface.
import type { Readable } from 'node:stream';

/** Recipient lifecycle. Final states: delivered, bounced, expired. */
export type RecipientState = 'queued' | 'deferred' | 'delivering' | 'held' | 'delivered' | 'bounced' | 'expired';
export const FINAL_STATES: readonly RecipientState[] = ['delivered', 'bounced', 'expired'];

export interface NewMessage {
  id: string;                 // queue id (message/ids.ts)
  mailFrom: string;           // envelope sender; '' is the null reverse-path
  recipients: string[];       // envelope recipients, already validated, in RCPT order
  size: number;               // bytes of the stored body (what BodyWriter wrote)
  receivedAt: number;         // ms since epoch
  origin: {
    listener: string;         // 'submission' | 'submissions' | 'alt' | 'mx' | 'http' | 'local'
    clientIp: string;
    user: string | null;      // authenticated SMTP user
  };
  /** A DSN Postlane generated (null sender): never bounced itself. */
  isBounce: boolean;
  /** 'relay' goes out by MX/smarthost; 'local' is inbound mail for this relay's own domains. */
  route: 'relay' | 'local';
}

/** Writes a body to durable storage. finish() resolves only when the bytes are on disk (fsync). */
export interface BodyWriter {
  write(chunk: Buffer): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
  readonly bytesWritten: number;
}

/** A unit of delivery work: one message, one recipient domain, the recipients due there. */
export interface DeliveryJob {
  messageId: string;
  domain: string;             // lower-case recipient domain (A-label)
  mailFrom: string;
  isBounce: boolean;
  route: 'relay' | 'local';
  size: number;
  receivedAt: number;
  recipients: { id: number; address: string; attempts: number }[];
  /** This lease is ours until then; after it the job may be claimed by another worker/node. */
  leaseUntil: number;
  /** Whether a "delayed" DSN was already sent for this message. */
  delayNotified: boolean;
}

export type RecipientOutcome =
  | { rcptId: number; status: 'delivered'; response: string; host?: string }
  | { rcptId: number; status: 'deferred'; response: string; host?: string; nextAttemptAt: number }
  | { rcptId: number; status: 'bounced' | 'expired'; response: string; host?: string };

export interface AttemptRecord {
  at: number;
  rcptId: number;
  address: string;
  status: 'delivered' | 'deferred' | 'bounced' | 'expired';
  host: string | null;
  response: string;
}

export interface RecipientView {
  messageId: string;
  rcptId: number;
  mailFrom: string;
  address: string;
  state: RecipientState;
  attempts: number;
  nextAttemptAt: number | null;
  lastResponse: string | null;
  receivedAt: number;
  size: number;
}

export interface MessageView {
  id: string;
  mailFrom: string;
  size: number;
  receivedAt: number;
  origin: NewMessage['origin'];
  isBounce: boolean;
  route: 'relay' | 'local';
  recipients: RecipientView[];
  attempts: AttemptRecord[];
}

export interface UserRecord { name: string; passwordHash: string; createdAt: number }

export interface QueueCounts { queued: number; deferred: number; delivering: number; held: number; delivered: number; bounced: number; expired: number }

/** A message generated while recording results (a DSN), stored in the same transaction. */
export interface GeneratedMessage { message: NewMessage; /** body already written with createBody(message.id) */ }

export interface RecordResultsOptions {
  /** A "delayed" DSN was sent with this attempt: remember it on the message. */
  delayNotified?: boolean;
  /**
   * The lease owner reporting. When given, only recipients still leased to it are updated, so a
   * worker whose lease expired and was reclaimed cannot overwrite the new owner's outcome.
   * Either way only recipients still 'delivering' are updated (a deleted or released recipient
   * is never resurrected); the attempt is kept in the history regardless.
   */
  owner?: string;
}

export interface QueueStore {
  /** Open/migrate. Must be called once before anything else. */
  open(): Promise<void>;
  close(): Promise<void>;

  // ingress
  createBody(id: string): BodyWriter;
  /** Commit a message whose body was finished. Resolves only when durable (the 250 may then be sent). */
  put(message: NewMessage): Promise<void>;

  // delivery
  readBody(id: string): Readable;
  /**
   * Lease up to `limit` due jobs (recipients queued/deferred with next attempt <= now, or whose
   * lease expired), grouped by (message, domain), oldest due first, skipping `excludeDomains`.
   */
  claimDue(opts: { now: number; limit: number; leaseMs: number; owner: string; excludeDomains?: string[] }): Promise<DeliveryJob[]>;
  /**
   * Record the outcome for each recipient of a job (and the attempt history), releasing the lease.
   * `generated` messages (DSNs) are committed in the same transaction. When every recipient of the
   * message is final, its body is removed.
   */
  recordResults(messageId: string, outcomes: RecipientOutcome[], generated?: GeneratedMessage[], opts?: RecordResultsOptions): Promise<void>;
  /** Give up leases held by `owner` (graceful shutdown, or startup of a single node): back to queued, due now. */
  releaseLeases(owner: string | null): Promise<number>;
  /** Earliest next_attempt_at among waiting recipients, for the scheduler's timer; null if none. */
  nextDueAt(): Promise<number | null>;

  // admin (CLI)
  /** Ordered by received time; non-final recipients unless `state` or `includeFinal`; at most `limit` (default 1000). */
  listRecipients(opts?: { state?: RecipientState; includeFinal?: boolean; limit?: number }): Promise<RecipientView[]>;
  getMessage(id: string): Promise<MessageView | null>;
  /** Make waiting recipients due now; id null = all. Returns recipients affected. */
  retry(id: string | null, now: number): Promise<number>;
  /** Hold the message's waiting (queued/deferred) recipients; one being delivered right now finishes its attempt. */
  hold(id: string): Promise<number>;
  release(id: string, now: number): Promise<number>;
  /** Delete the message, its recipients and body. Returns false if unknown. */
  deleteMessage(id: string): Promise<boolean>;
  /** Delete finished messages (every recipient final) completed before `before` (ms). Returns messages removed. */
  purgeFinished(before: number): Promise<number>;
  counts(): Promise<QueueCounts>;

  // users (SMTP AUTH)
  addUser(user: UserRecord): Promise<void>;     // throws if exists
  getUser(name: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  removeUser(name: string): Promise<boolean>;
}
