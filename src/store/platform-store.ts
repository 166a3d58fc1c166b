// The platform half of the store contract (issue 4): accounts (tenants), API keys, usage
// counters for quotas, the message event log, webhooks and their delivery outbox, and
// idempotency records. QueueStore extends it, so the one store that owns message rows also owns
// these, and an event is written in the same transaction as the state change it reports
// (put → accepted; recordResults → delivered/deferred/bounced/failed): no event is lost or
// invented by a crash between the two. Every account-scoped read takes the account and never
// returns another account's rows: tenant isolation is enforced here, not only in the API.

/** Limits per window; absent or null = unlimited. Counted in recipients (one email = one recipient). */
export interface RateLimits {
  perSecond?: number | null;
  perHour?: number | null;
  perDay?: number | null;
  /** The monthly plan (calendar month, UTC). */
  perMonth?: number | null;
}

export const DEFAULT_ACCOUNT = 'default';

export interface Account {
  name: string;               // [a-z0-9][a-z0-9_-]{0,62}
  createdAt: number;
  limits: RateLimits;
  /** The account's own host for tracking and unsubscribe links (a CNAME to the relay); null: publicUrl. */
  trackingDomain?: string | null;
}

export type ApiScope = 'send' | 'read' | 'admin';
export const API_SCOPES: readonly ApiScope[] = ['send', 'read', 'admin'];

export interface ApiKeyRecord {
  /** Public identifier, also the lookup part of the token `pl_<id>_<secret>`. */
  id: string;
  account: string;
  name: string | null;
  /** sha256 hex of the secret part (the secret is 32 random bytes: a fast hash is enough). */
  secretHash: string;
  scopes: ApiScope[];
  limits: RateLimits;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** One counter window to charge. */
export interface QuotaWindow {
  /**
   * The counter: its subject and window, like 'account:acme/day', 'key:<id>/second', 'user:app/month'
   * (accounts/quota.ts windowsFor). Qualified by the window because windows of one subject can
   * start at the same instant (hour, day and month on the 1st at 00:00): the row is (key, windowStart).
   */
  key: string;
  /** 'second' | 'hour' | 'day' | 'month' (for messages and reports). */
  window: string;
  /** Start of the current window (ms); the row key with `key`. */
  windowStart: number;
  /** End of the window (ms): when the counter resets (Retry-After). */
  windowEnd: number;
  limit: number;
}

export type QuotaResult =
  | { ok: true }
  | { ok: false; exceeded: QuotaWindow; used: number };

export type EventType =
  | 'accepted' | 'delivered' | 'deferred' | 'bounced' | 'failed' | 'suppressed'
  | 'opened' | 'clicked' | 'unsubscribed' | 'complained'
  | 'webhook.disabled' | 'breaker.tripped' | 'breaker.resumed';
export const EVENT_TYPES: readonly EventType[] = [
  'accepted', 'delivered', 'deferred', 'bounced', 'failed', 'suppressed',
  'opened', 'clicked', 'unsubscribed', 'complained', 'webhook.disabled', 'breaker.tripped', 'breaker.resumed',
];

/** claimWebhookBatches' options (plain data: the SQLite store passes them to its executor thread). */
export interface ClaimWebhookOptions {
  now: number; limit: number; batchSize: number; leaseMs: number; owner: string;
  /** At most `max` batches of one account in flight; `inFlight`: the caller's batches in flight per account. */
  perAccount?: { max: number; inFlight: Record<string, number> };
}

/** True when `account` may get another batch under `o.perAccount` (and counts it in `claimed`). */
export function takeAccountSlot(o: ClaimWebhookOptions, claimed: Map<string, number>, account: string): boolean {
  if (!o.perAccount) return true;
  const n = (o.perAccount.inFlight[account] ?? 0) + (claimed.get(account) ?? 0);
  if (n >= o.perAccount.max) return false;
  claimed.set(account, (claimed.get(account) ?? 0) + 1);
  return true;
}

/** The accounts with no slot left under `o.perAccount` (the caller's in flight plus `claimed`). */
export function fullAccounts(o: ClaimWebhookOptions, claimed: Map<string, number>): string[] {
  if (!o.perAccount) return [];
  const names = new Set([...Object.keys(o.perAccount.inFlight), ...claimed.keys()]);
  return [...names].filter((a) => (o.perAccount!.inFlight[a] ?? 0) + (claimed.get(a) ?? 0) >= o.perAccount!.max);
}

export interface MessageEvent {
  /** Stable id: 'ev_' + the sequence number, unique across the store. */
  id: string;
  /** Monotonic store sequence (cursor order). */
  seq: number;
  at: number;
  account: string;
  type: EventType;
  messageId: string | null;
  recipient: string | null;
  /**
   * Type-specific details: { response, host, tls, attempt, bounceType: 'hard'|'soft'|'block',
   * bounceCategory (events/bounce-rules.ts), code, enhanced, nextAttemptAt } for delivery events; the message's tags, metadata and stream
   * are copied into every event of that message (they come back in webhooks).
   */
  data: Record<string, unknown>;
}

export interface EventQuery {
  account: string;
  /** Events with seq > after (the cursor). */
  after?: number;
  limit?: number;             // default 100, max 1000
  types?: EventType[];
  messageId?: string;
  recipient?: string;
  since?: number;
  until?: number;
}

export interface Webhook {
  id: string;
  account: string;
  url: string;
  /** Event types sent; empty = all. */
  events: EventType[];
  /** HMAC-SHA256 signing secret (kept in the store like DKIM keys: the database file is 0600). */
  secret: string;
  enabled: boolean;
  createdAt: number;
  disabledAt: number | null;
  disabledReason: string | null;
}

/** Pending webhook work leased to one dispatcher: one webhook, its due events in seq order. */
export interface WebhookBatch {
  webhook: Webhook;
  events: MessageEvent[];
  /** Attempts already made for the oldest event in the batch. */
  attempts: number;
  /** When the oldest event was first due (its event time): the dispatcher gives up after the retry horizon. */
  firstDueAt: number;
  leaseUntil: number;
}

export interface WebhookAttempt {
  webhookId: string;
  at: number;
  eventIds: string[];
  ok: boolean;
  /** HTTP status, null when no response (connection error, timeout). */
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface IdempotencyRecord {
  account: string;
  key: string;
  /** sha256 of the request (method, path, body) that first used the key. */
  requestHash: string;
  /** null while the first request is still being processed. */
  response: { status: number; body: unknown } | null;
  createdAt: number;
}

/** Message fields for the HTTP API and events: stored with the message. */
export interface MessageMeta {
  account: string;
  tags: string[];
  metadata: Record<string, string>;
  stream: 'transactional' | 'broadcast';
}

export interface MessageSearch {
  account: string;
  /** A recipient state: queued|deferred|delivering|held|delivered|bounced|expired. */
  status?: string;
  recipient?: string;
  tag?: string;
  /** Envelope sender (exact, case-insensitive). */
  from?: string;
  since?: number;
  /** Subject contains this (case-insensitive substring); messages with no stored Subject never match. */
  subject?: string;
  /** Cursor: messages received before this (receivedAt, id) pair, newest first. */
  before?: { receivedAt: number; id: string };
  limit?: number;             // default 50, max 500
}

export interface MessageSummary {
  id: string;
  account: string;
  mailFrom: string;
  receivedAt: number;
  size: number;
  tags: string[];
  stream: 'transactional' | 'broadcast';
  /** The decoded Subject; null: none, or accepted before SQLite v18 / PostgreSQL v15. */
  subject: string | null;
  recipients: { address: string; state: string }[];
}

export interface PlatformStore {
  // accounts
  /** Throws ERR_ACCOUNT_EXISTS. The 'default' account always exists (created by the migration). */
  addAccount(account: Account): Promise<void>;
  getAccount(name: string): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  /**
   * Removes the account and what it owns (users, domains, keys, webhooks, events, idempotency keys).
   * False if unknown. 'default' cannot be removed (ERR_ACCOUNT_DEFAULT). Its queued messages stay
   * and are delivered (their events are still written, under the removed name).
   */
  removeAccount(name: string): Promise<boolean>;
  setAccountLimits(name: string, limits: RateLimits): Promise<boolean>;
  /** Sets (or with null clears) the account's tracking domain; false if the account is unknown. */
  setAccountTrackingDomain(name: string, domain: string | null): Promise<boolean>;

  // API keys
  addApiKey(key: ApiKeyRecord): Promise<void>;
  /** By id, whatever the account (authentication looks keys up by id before knowing the account). */
  getApiKey(id: string): Promise<ApiKeyRecord | null>;
  listApiKeys(account: string): Promise<ApiKeyRecord[]>;
  /** Sets revokedAt; false if no such key in that account. */
  revokeApiKey(account: string, id: string, at: number): Promise<boolean>;
  /** Records the last use (callers throttle it: at most once a minute per key). */
  touchApiKey(id: string, at: number): Promise<void>;

  // quotas (counters survive restarts and are shared by every node on the same database)
  /**
   * Atomically: if every window's count + n <= its limit, add n to all of them and return ok;
   * otherwise change nothing and return the first window exceeded with its current count.
   */
  consumeQuota(windows: QuotaWindow[], n: number): Promise<QuotaResult>;
  /** Current counts of the given windows (0 when absent). */
  quotaUsage(windows: Omit<QuotaWindow, 'limit'>[]): Promise<number[]>;

  // events
  /** Append events not tied to put/recordResults (opened, clicked, webhook.disabled...). Returns them with id/seq. */
  appendEvents(events: Omit<MessageEvent, 'id' | 'seq'>[]): Promise<MessageEvent[]>;
  /**
   * seq order. On PostgreSQL a transaction that commits late can add an event with a lower seq than
   * one already returned (seqs are taken at insert); events of one message are always in order.
   */
  listEvents(q: EventQuery): Promise<MessageEvent[]>;
  /**
   * Deletes events older than `before` with their pending webhook deliveries, webhook attempt log
   * rows older than `before`, and quota counter windows that ended before it. Returns events removed.
   * Events go from the head of the log (seq order) up to the first chunk holding a younger one, so a
   * purge with nothing to do reads one chunk, not the whole history; an old event behind a younger
   * one (an out-of-order `at`: PostgreSQL nodes' clocks) goes with a later purge.
   */
  purgeEvents(before: number): Promise<number>;

  // messages by account (the API's view; the queue CLI uses the admin methods of QueueStore)
  getMessageMeta(id: string): Promise<MessageMeta | null>;
  searchMessages(q: MessageSearch): Promise<MessageSummary[]>;

  // webhooks
  /**
   * Add a webhook; with `maxPerAccount`, only while its account has fewer (counted in the same
   * transaction, so parallel adds cannot pass the cap): false when it has that many already.
   */
  addWebhook(w: Webhook, maxPerAccount?: number): Promise<boolean>;
  listWebhooks(account: string): Promise<Webhook[]>;
  getWebhook(account: string, id: string): Promise<Webhook | null>;
  removeWebhook(account: string, id: string): Promise<boolean>;
  /** Enable (clears disabledAt/Reason) or disable with a reason. */
  setWebhookEnabled(account: string, id: string, enabled: boolean, reason: string | null, at: number): Promise<boolean>;
  /**
   * Lease due webhook deliveries: for up to `limit` enabled webhooks, their pending events due at
   * `now` (up to `batchSize` each, seq order). A webhook with a leased batch is skipped (one batch
   * in flight per webhook keeps per-message order). Works across nodes (SKIP LOCKED on PG).
   * `perAccount`: an account with `max` batches in flight (`inFlight`, the caller's, plus those
   * claimed now) gets no more, so one tenant's slow webhooks cannot hold every slot.
   */
  claimWebhookBatches(opts: ClaimWebhookOptions): Promise<WebhookBatch[]>;
  /**
   * Record one attempt. ok: the batch's deliveries are done. Not ok: they stay pending, due at
   * `retryAt`, attempts + 1; retryAt null = give up on them (dropped from the outbox, kept in the
   * attempt log). Releases the lease either way.
   */
  recordWebhookAttempt(attempt: WebhookAttempt, retryAt: number | null): Promise<void>;
  listWebhookAttempts(account: string, webhookId: string, limit: number): Promise<WebhookAttempt[]>;

  // idempotency
  /**
   * Reserve `key` for a request: returns null when newly reserved (process the request), else
   * the existing record (same hash and response: replay it; response null: in progress → 409;
   * different hash: 422).
   */
  reserveIdempotencyKey(account: string, key: string, requestHash: string, now: number): Promise<IdempotencyRecord | null>;
  completeIdempotencyKey(account: string, key: string, response: { status: number; body: unknown }): Promise<void>;
  /** Remove the reservation of a request that failed before queuing anything (a completed record is kept). */
  releaseIdempotencyKey(account: string, key: string): Promise<void>;
  purgeIdempotencyKeys(before: number): Promise<number>;
}
