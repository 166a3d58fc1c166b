// The QueueStore contract: the sole owner of message, recipient, attempt and user rows.
// Ingress calls put(); delivery calls claimDue()/recordResults(); the CLI calls the admin methods.
// Implementations: sqlite/ (embedded default) and, later, postgres/. All methods are async so no
// implementation blocks the event loop; no SQL dialect leaks through this interface.
import type { BreakerStore } from './breaker-store.js';
import type { SourceStore } from './source-store.js';
import type { Readable } from 'node:stream';
import type { MessageMeta, PlatformStore, RateLimits } from './platform-store.js';
import type { Suppression, SuppressionCause, SuppressionStore } from './suppression-store.js';
import type { StatsStore } from './stats-store.js';
import type { TlsReportStore } from './tls-report-store.js';
import type { ShapingStore } from './shaping-store.js';
import type { DashboardStore } from './dashboard-store.js';
import type { QueueDepthStore } from './queue-depth-store.js';
import type { QueueOverviewStore } from './queue-overview-store.js';
import type { WebhookReplayStore } from './webhook-replay-store.js';
import type { SecretStore } from './secret-store.js';
import type { MessageDsn, RecipientDsn } from '../message/dsn-params.js';
import type { MessageTransport } from '../message/transport-needs.js';

export type { MessageTransport };

/** Recipient lifecycle. Final states: delivered, bounced, expired, suppressed. */
export type RecipientState = 'queued' | 'deferred' | 'delivering' | 'held' | 'delivered' | 'bounced' | 'expired' | 'suppressed';
/** Suppressed: never sent, the address is on the account's suppression list (store/suppression-store.ts). */
export const FINAL_STATES: readonly RecipientState[] = ['delivered', 'bounced', 'expired', 'suppressed'];

export interface NewMessage {
  id: string;                 // queue id (message/ids.ts)
  mailFrom: string;           // envelope sender; '' is the null reverse-path
  recipients: string[];       // envelope recipients, already validated, in RCPT order
  size: number;               // bytes readBody returns: what BodyWriter wrote, plus headerPrefix
  receivedAt: number;         // ms since epoch
  origin: {
    listener: string;         // 'submission' | 'submissions' | 'alt' | 'mx' | 'http' | 'local'
    clientIp: string;
    user: string | null;      // authenticated SMTP user
    helo?: string;            // the client's EHLO/HELO name (SPF checks of inbound mail)
    node?: string;            // the id of the node that accepted the message (absent before issue 12's timeline)
    apiKey?: string;          // over HTTP: the id of the API key that submitted it
  };
  /** The Subject field, decoded (RFC 2047), at most 200 characters (message/subject.ts); absent: none. */
  subject?: string;
  /** A DSN Postlane generated (null sender): never bounced itself. */
  isBounce: boolean;
  /** MAIL FROM on the wire when it differs from mailFrom (VERP bounce address aligned with the DKIM domain). */
  returnPath?: string;
  /** 'relay' goes out by MX/smarthost; 'local' is inbound mail for this relay's own domains. */
  route: 'relay' | 'local';
  /**
   * Header lines (ASCII, each CRLF-terminated) that readBody streams before the body: the
   * DKIM-Signature fields computed while the body was being written, stored in the same commit.
   */
  headerPrefix?: string;
  /** Account, tags, metadata and stream (the HTTP API sets them); absent: the 'default' account, no tags. */
  meta?: MessageMeta;
  /** Scheduled send: recipients are first due at this time (ms) instead of at once. */
  notBefore?: number;
  /**
   * Recipients (of `recipients`) found on the suppression list at acceptance (HTTP API): stored
   * final ('suppressed') with their 'suppressed' event in the same commit, never delivered.
   */
  suppressed?: { address: string; suppression: SuppressionCause }[];
  /** The DSN parameters the client gave (RFC 3461: RET, ENVID, each recipient's NOTIFY/ORCPT); absent: none. */
  dsn?: MessageDsn;
  /** What the next hops must offer (REQUIRETLS, SMTPUTF8, TLS-Required: No; message/transport-needs.ts); absent: nothing. */
  transport?: MessageTransport;
}

/**
 * Writes a body to durable storage. finish() resolves once the body is complete; it is durable
 * when put() (or recordResults for a generated message) resolves. An implementation may keep a
 * small body in memory until then and store it in the same commit as the message rows.
 */
export interface BodyWriter {
  /** The writer may keep a reference to `chunk` until finish() or abort(): do not change its bytes. */
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
  /** MAIL FROM to use when delivering (NewMessage.returnPath, else mailFrom); DSNs go to mailFrom. */
  returnPath: string;
  isBounce: boolean;
  route: 'relay' | 'local';
  size: number;
  receivedAt: number;
  /**
   * `suppression`: the address is on the account's suppression list for this message's stream
   * (read with the claim): the recipient is not sent and ends 'suppressed'.
   */
  recipients: { id: number; address: string; attempts: number; suppression?: Suppression; dsn?: RecipientDsn;
    /** Its domain, when the job joins several (`alsoDomains`); absent: the job's `domain`. */
    domain?: string }[];
  /** The message's RET and ENVID (RFC 3461); absent: none given. Each recipient carries its NOTIFY/ORCPT. */
  dsn?: Pick<MessageDsn, 'ret' | 'envid'>;
  /** The message's stream (suppressions of scope 'broadcast' apply only to broadcast mail). */
  stream: 'transactional' | 'broadcast';
  /** This lease is ours until then; after it the job may be claimed by another worker/node. */
  leaseUntil: number;
  /** Whether a "delayed" DSN was already sent for this message. */
  delayNotified: boolean;
  /** The message's account (metrics label), read with the message row the claim loads anyway. */
  account: string;
  /** What the next hops must offer (stored at acceptance); absent: nothing (as for messages queued before SQLite v10 / PostgreSQL v8). */
  transport?: MessageTransport;
  /** Time these recipients spent held by circuit breakers (the longest of them): not counted towards delivery.maxQueueTime. */
  heldMs?: number;
  /**
   * The message's other recipient domains whose due recipients ride in this job, each leased by the
   * same claim as `domain`: the scheduler joins a message's relay jobs when every one goes to the
   * smarthost (delivery/job-parts.ts), so the message leaves in one transaction. Absent: `domain` only.
   */
  alsoDomains?: string[];
}

/**
 * The transport security of one delivery attempt, kept with its history. Mirrors the delivery
 * stage's TlsResult (the queue does not import delivery): policy and level are its names.
 */
export interface AttemptTls {
  /** 'TLSv1.3'…; null when the session stayed in plaintext. */
  version: string | null;
  cipher: string | null;
  /** The certificate was authenticated (DANE match, or a valid chain for the MX name). */
  verified: boolean;
  /** Which policy decided: 'dane' | 'mta-sts' | 'policy' | 'opportunistic'. */
  policy: string;
  /** The level required: 'none' | 'opportunistic' | 'required' | 'verify' | 'dane'. */
  level: string;
  /** Why the certificate was not authenticated. */
  error?: string;
}

interface OutcomeBase {
  rcptId: number; response: string; host?: string; tls?: AttemptTls;
  /** The egress source the attempt used (delivery/egress.ts); absent for local delivery and when no host was reached. */
  source?: string;
  /** The remote IP address the deciding (or last failed) session connected to; absent when no host was reached. */
  remoteIp?: string;
  /** How long the attempt took (ms, injected clock: route, sessions, until decided); absent for suppressed recipients. */
  durationMs?: number;
}
export type RecipientOutcome =
  | OutcomeBase & { status: 'delivered' }
  | OutcomeBase & { status: 'deferred'; nextAttemptAt: number }
  | OutcomeBase & { status: 'bounced' | 'expired' }
  | OutcomeBase & { status: 'suppressed'; suppression: SuppressionCause };

export interface AttemptRecord {
  at: number;
  rcptId: number;
  address: string;
  status: 'delivered' | 'deferred' | 'bounced' | 'expired' | 'suppressed';
  host: string | null;
  response: string;
  /** Present when the attempt reached a TLS decision (remote deliveries). */
  tls?: AttemptTls;
  /** The egress source the attempt used (delivery/egress.ts); absent for local delivery and before SQLite v15 / PostgreSQL v13. */
  source?: string;
  /** The remote IP the session connected to; absent when no host was reached and before SQLite v18 / PostgreSQL v15. */
  remoteIp?: string;
  /** The attempt's duration in ms; absent before SQLite v18 / PostgreSQL v15. */
  durationMs?: number;
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
  meta: MessageMeta;
  /** The decoded Subject (at most 200 characters); null: none, or accepted before SQLite v18 / PostgreSQL v15. */
  subject: string | null;
}

/** Which sender domains an authenticated user may use (MAIL FROM and the From: header). */
export interface UserDomainGrant {
  /** Lower-case A-labels; a listed domain also covers its subdomains. */
  allowedDomains: string[];
  /** The admin allowed this user any domain. */
  anyDomain: boolean;
}

export interface UserRecord extends UserDomainGrant {
  name: string; passwordHash: string; createdAt: number;
  /** The owning account (tenant); 'default' for the single-tenant setup. */
  account: string;
  /** Per-user limits on top of the account's; empty = only the account's. */
  limits: RateLimits;
  /** The stream of this user's SMTP submissions that name none (X-Postlane-Stream). */
  defaultStream: 'transactional' | 'broadcast';
}
/** A change of a user's settings; what is absent stays. Limits replace the user's whole set. */
export interface UserChange { grant?: UserDomainGrant; limits?: RateLimits; defaultStream?: UserRecord['defaultStream'] }
/** What addUser takes: the domain grant defaults to none, the account to 'default', limits to none, the stream to transactional. */
export type NewUser = Omit<UserRecord, keyof UserDomainGrant | 'account' | 'limits' | 'defaultStream'> & Partial<UserDomainGrant>
  & { account?: string; limits?: RateLimits; defaultStream?: UserRecord['defaultStream'] };

export type DkimAlgorithm = 'rsa' | 'ed25519';
/**
 * active: signs outgoing mail (at most one per algorithm); pending: created by a key rotation,
 * waiting for its TXT record to appear in DNS; retired: replaced, no longer signs.
 */
export type DkimKeyState = 'active' | 'pending' | 'retired';

export interface DkimKey {
  selector: string;           // lower-case; the TXT record is <selector>._domainkey.<domain>
  algorithm: DkimAlgorithm;
  privateKey: string;         // PKCS#8 PEM; never printed or logged
  publicKey: string;          // the p= value: base64 SPKI DER (rsa) or the raw 32-byte key (ed25519, RFC 8463)
  createdAt: number;
  state: DkimKeyState;
}

export interface SendingDomain {
  name: string;               // lower-case A-label
  createdAt: number;
  /** The owning account; absent in addDomain = 'default'. Always set when read back. */
  account?: string;
  keys: DkimKey[];            // oldest first, then in the order added
}

export interface QueueCounts { queued: number; deferred: number; delivering: number; held: number; delivered: number; bounced: number; expired: number; suppressed: number }

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
  /**
   * How long the attempt took (ms): written as the duration of every outcome but the suppressed
   * ones (never attempted) that carries no `durationMs` of its own. One number per job instead of
   * a copy of each outcome with it (bench/README.md, eighteenth session, deliv18).
   */
  durationMs?: number;
}

/** A relay node's liveness record (one row per running process), for `postlane cluster status`. */
export interface NodeHeartbeat {
  nodeId: string;             // hostname:pid
  startedAt: number;
  lastSeenAt: number;
  inFlight: number;           // deliveries running on that node at lastSeenAt
}

/**
 * The answer of checkWritable; `reason` is for operators (never sent to SMTP clients). `slow`, only
 * when writes are slow (store-availability.ts: one pending or recently taking a second or more):
 * the oldest pending write's age and the slowest recent one, in ms.
 */
export interface WriteCheck { writable: boolean; reason: string | null; slow?: { pendingMs: number; slowestMs: number } }

export interface QueueStore extends PlatformStore, SuppressionStore, StatsStore, SecretStore, BreakerStore, TlsReportStore, DashboardStore, QueueOverviewStore, QueueDepthStore, WebhookReplayStore, SourceStore, ShapingStore {
  /** Open/migrate. Must be called once before anything else. */
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Whether writes work now (/readyz): false from a write that failed because the store is
   * unavailable (QueueUnavailableError: unreachable, disk full, I/O error) until a write succeeds
   * again; an embedded store also answers false when its disk has almost no space left. Cheap: no
   * write of its own (main.ts's heartbeat is the periodic probe write).
   */
  checkWritable(): Promise<WriteCheck>;

  // ingress
  createBody(id: string): BodyWriter;
  /** Commit a message whose body was finished. Resolves only when durable (the 250 may then be sent). */
  put(message: NewMessage): Promise<void>;
  /**
   * Commit several messages (each body finished) in one transaction: all of them or none. Used for
   * a message split into one copy per recipient at acceptance (ingress/recipient-split.ts), so the
   * client never gets its 250/202 for part of the copies. Resolves only when durable.
   */
  putMany(messages: NewMessage[]): Promise<void>;
  /**
   * put, with the suppression lookup in the same transaction (one round trip instead of a
   * findSuppressions before the put, the HTTP API's path): the recipients on the account's list for
   * the message's stream are stored 'suppressed' as `NewMessage.suppressed` stores them (which must
   * be absent) and resolves with their entries, keyed by suppressionKey (as findSuppressions).
   */
  putCheckingSuppressions(message: NewMessage): Promise<Map<string, Suppression>>;
  /**
   * Whether the HTTP API should use putCheckingSuppressions when it has nothing to charge: true where
   * it saves a network round trip (PostgreSQL); false on SQLite, where folding the lookup into the put
   * measured no gain at 50 clients (bench/README.md: sixth session 0.88–0.89x msg/s; eighteenth, api18,
   * main thread 1.1–1.4x CPU; twentieth, api20, with the loop-turn split: level, msg/s 0.97).
   */
  readonly suppressionLookupInPut: boolean;

  // delivery
  /** The message as delivered: its headerPrefix (if any), then the body as written. */
  readBody(id: string): Readable;
  /**
   * readBody's bytes for delivery, read at once: one Buffer when the store holds the body itself
   * (SQLite inline, PostgreSQL), readBody's stream when the body is a spool file. Rejects with
   * NotFoundError once the message finished. A Buffer is handed to nodemailer as it is: no
   * Readable, async generator or pipe per message (bench/README.md, eleventh session).
   */
  readMessage(id: string): Promise<Buffer | Readable>;
  /**
   * Lease up to `limit` due jobs (recipients queued/deferred with next attempt <= now, or whose
   * lease expired), grouped by (message, domain), oldest due first, skipping `excludeDomains` (a
   * frozen list may be handed in again: stores keep what they derive from it by identity).
   */
  claimDue(opts: { now: number; limit: number; leaseMs: number; owner: string; excludeDomains?: readonly string[] }): Promise<DeliveryJob[]>;
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
  addUser(user: NewUser): Promise<void>;     // throws ERR_USER_EXISTS if the name exists
  getUser(name: string): Promise<UserRecord | null>;
  /** All users, or one account's. */
  listUsers(account?: string): Promise<UserRecord[]>;
  /** Replaces the user's own limits. False if no such user. */
  setUserLimits(name: string, limits: RateLimits): Promise<boolean>;
  /** Sets the stream of the user's submissions that name none. False if no such user. */
  setUserDefaultStream(name: string, stream: UserRecord['defaultStream']): Promise<boolean>;
  removeUser(name: string): Promise<boolean>;
  /** Applies every part of the change given (grant, limits, stream) in one transaction. False if no such user (nothing changed). */
  changeUser(name: string, change: UserChange): Promise<boolean>;

  // cluster
  /** Upsert this node's heartbeat. */
  recordHeartbeat(h: NodeHeartbeat): Promise<void>;
  /** Every node that sent a heartbeat since `since` (ms), most recent first. */
  listNodes(since: number): Promise<NodeHeartbeat[]>;
  /** Replaces the user's domain grant (domains are stored lower-case, deduplicated). False if no such user. */
  setUserDomains(name: string, grant: UserDomainGrant): Promise<boolean>;

  // sending domains and their DKIM keys
  /** Adds the domain with its keys; throws ERR_DOMAIN_EXISTS if the name exists. */
  addDomain(domain: SendingDomain): Promise<void>;
  getDomain(name: string): Promise<SendingDomain | null>;
  /** Ordered by name. */
  listDomains(account?: string): Promise<SendingDomain[]>;
  /** The names of the account's sending domains, ordered (listDomains without the DKIM keys: the HTTP API's sender check). */
  listDomainNames(account: string): Promise<string[]>;
  /** Removes the domain and its keys. False if unknown. */
  removeDomain(name: string): Promise<boolean>;
  /** Adds a key (usually 'pending'); ERR_NOT_FOUND for an unknown domain, ERR_SELECTOR_EXISTS for a used selector. */
  addDkimKey(domain: string, key: DkimKey): Promise<void>;
  /**
   * Makes the key active and, in the same transaction, retires the other active keys of its
   * algorithm (the switch of a key rotation). False if the domain or selector is unknown.
   */
  activateDkimKey(domain: string, selector: string): Promise<boolean>;

  // cluster-wide per-destination concurrency (delivery.maxConnectionsPerDestination): a node holds
  // one slot per connection it keeps to a destination; slots are leased and renewed like jobs.
  /**
   * Lease up to `want` more slots per destination for `owner`, among slots 0..limit-1 that are free
   * or whose lease ended before `now`; never more than `limit` per destination over every owner.
   * Returns the slots granted: possibly fewer than asked, or none.
   */
  acquireDestinationSlots(opts: AcquireSlotsOptions): Promise<DestinationSlot[]>;
  /** Extend every slot `owner` still holds to now + leaseMs; returns them (a slot lost after expiry is absent). */
  renewDestinationSlots(opts: { owner: string; now: number; leaseMs: number }): Promise<DestinationSlot[]>;
  /** Free the given slots of `owner` (all of them when omitted). Returns how many were freed. */
  releaseDestinationSlots(owner: string, slots?: DestinationSlot[]): Promise<number>;
  /**
   * Give back jobs `owner` claimed but never started: due again as before (or at `dueAt`, if later:
   * a throttled provider), no attempt counted. Returns recipients.
   */
  unclaimJobs(owner: string, jobs: { messageId: string; domain: string }[], dueAt?: number): Promise<number>;
}

/** One permitted connection to a destination (recipient domain), leased by a node. */
export interface DestinationSlot { destination: string; slot: number }

export interface AcquireSlotsOptions {
  owner: string;
  /** Destinations (lower-case recipient domains) and how many more slots each. */
  requests: { destination: string; want: number }[];
  /** Slots per destination in all (delivery.maxConnectionsPerDestination). */
  limit: number;
  now: number;
  leaseMs: number;
}
