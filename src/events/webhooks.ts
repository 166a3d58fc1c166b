// The webhook dispatcher: owns the POSTs of stored events to each account's webhook URLs. The
// outbox rows belong to the store (events and their webhook deliveries are written in the same
// transaction as the state change); this loop leases due batches (claimWebhookBatches: one batch
// in flight per webhook, events in seq order, so events of one message arrive in order), signs
// and POSTs each, and records the attempt with the next retry time (webhook-retry.ts) or gives
// up after webhooks.retryFor. A webhook failing continuously for webhooks.disableAfter is
// disabled, with a `webhook.disabled` event and a log line.
// It never blocks mail delivery: an independent loop, bounded concurrency, a timeout per POST;
// store errors are logged and retried at the next poll; nothing here rejects unhandled. One account
// has at most webhooks.concurrencyPerAccount POSTs in flight: a tenant's webhook servers that answer
// slowly or never (a tarpit, each POST held for the whole timeout) cannot hold every slot and stall
// the other accounts' events (attack30, docs/design/security.md).
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from './log.js';
import type { MessageEvent, PlatformStore, Webhook, WebhookAttempt, WebhookBatch } from '../store/platform-store.js';
import { SIGNATURE_HEADER, signPayload, standardWebhookHeaders, standardWebhookId } from './webhook-signature.js';
import { failingSinceFrom, isDueForDisable, nextWebhookRetryAt } from './webhook-retry.js';
import { lookupVia, publicOnlyFetch } from './webhook-destination.js';

/** The payload version: fields are only ever added (mox webhook.go). */
export const WEBHOOK_PAYLOAD_VERSION = 1;
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const USER_AGENT = 'Postlane/0.1 (webhooks)';
/** A notify() claims at most this soon after the previous claim (bursts of events coalesce). */
const NOTIFY_COALESCE_MS = 100;
/** Response text kept in the attempt log. */
const MAX_ERROR_TEXT = 300;
/** Attempts read back to find when a webhook started failing (first failure after a restart). */
const FAILURE_LOG_LOOKBACK = 100;

export type WebhookStore = Pick<PlatformStore,
  'claimWebhookBatches' | 'recordWebhookAttempt' | 'setWebhookEnabled' | 'appendEvents' | 'listWebhookAttempts'>;

export interface WebhookDispatcherOptions {
  store: WebhookStore;
  /** `dns`: the servers webhook host names are resolved through (the system's when absent or empty). */
  config: Pick<Readonly<Config>, 'webhooks'> & Partial<Pick<Readonly<Config>, 'dns'>>;
  logger: Logger;
  clock?: Clock;
  nodeId: string;
  /** Default: a fetch limited to public addresses (webhook-destination.ts), or the global fetch when webhooks.allowPrivateDestinations. */
  fetch?: typeof fetch;
  /** [0, 1): retry jitter; injected by tests. */
  random?: () => number;
  /** Called after every POST (metrics). */
  onAttempt?: (webhook: Webhook, attempt: WebhookAttempt) => void;
}

/** One event as sent: the same fields as GET /v1/events returns (snake_case, ISO 8601 time). */
export interface WebhookEventPayload {
  id: string;
  type: MessageEvent['type'];
  at: string;
  message_id: string | null;
  recipient: string | null;
  data: Record<string, unknown>;
}
export interface WebhookPayload { version: number; webhook_id: string; events: WebhookEventPayload[] }

export const renderWebhookEvent = (e: MessageEvent): WebhookEventPayload =>
  ({ id: e.id, type: e.type, at: new Date(e.at).toISOString(), message_id: e.messageId, recipient: e.recipient, data: e.data });

export function buildWebhookBody(webhook: Webhook, events: readonly MessageEvent[]): string {
  const payload: WebhookPayload = { version: WEBHOOK_PAYLOAD_VERSION, webhook_id: webhook.id, events: events.map(renderWebhookEvent) };
  return JSON.stringify(payload);
}

export class WebhookDispatcher {
  readonly #o: WebhookDispatcherOptions & { clock: Clock };
  readonly #fetch: typeof fetch;
  readonly #inFlight = new Set<Promise<void>>();
  /** POSTs in flight per account (webhooks.concurrencyPerAccount). */
  readonly #byAccount: Record<string, number> = {};
  readonly #abort = new AbortController();
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #timer: NodeJS.Timeout | null = null;
  #timerAt = 0;
  #pump: Promise<void> | null = null;
  #again = false;
  #lastClaimAt = 0;
  #claimFailing = false;

  constructor(opts: WebhookDispatcherOptions) {
    this.#o = { ...opts, clock: opts.clock ?? systemClock };
    const dns = opts.config.dns;
    this.#fetch = opts.fetch ?? (opts.config.webhooks.allowPrivateDestinations ? globalThis.fetch.bind(globalThis)
      : publicOnlyFetch(dns && dns.servers.length > 0 ? lookupVia(dns.servers, dns.timeout) : undefined));
  }

  /** POSTs running now. */
  get inFlight(): number { return this.#inFlight.size; }

  start(): void {
    if (this.#state !== 'new') throw new Error('webhook dispatcher already started');
    this.#state = 'running';
    this.#wakeIn(0);
  }

  /** New events were stored: look for due deliveries soon (coalesced). */
  notify(): void {
    if (this.#state !== 'running') return;
    const since = Date.now() - this.#lastClaimAt;
    this.#wakeIn(Math.max(0, NOTIFY_COALESCE_MS - since));
  }

  /** Stop claiming; let POSTs finish for up to timeoutMs, then abort them (their leases expire and they are retried). */
  async stop(timeoutMs: number = this.#o.config.webhooks.timeout): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'stopping';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#pump;
    if (!(await settlesWithin([...this.#inFlight], timeoutMs))) {
      this.#abort.abort();
      await settlesWithin([...this.#inFlight], 2000);
    }
    this.#state = 'stopped';
    this.#o.logger.info({ event: 'webhooks.stopped', node: this.#o.nodeId }, 'webhook dispatcher stopped');
  }

  #wakeIn(ms: number): void {
    if (this.#state !== 'running') return;
    const at = Date.now() + ms;
    if (this.#timer && this.#timerAt <= at) return; // an earlier wake is already set
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => { this.#timer = null; this.#kick(); }, ms);
    this.#timer.unref();
  }

  #kick(): void {
    if (this.#state !== 'running') return;
    if (this.#pump) { this.#again = true; return; }
    this.#pump = this.#runPump().finally(() => {
      this.#pump = null;
      if (this.#again) { this.#again = false; this.notify(); }
    });
  }

  /** Claim batches while there are free slots; then sleep until the next poll. Never rejects. */
  async #runPump(): Promise<void> {
    const w = this.#o.config.webhooks;
    try {
      for (;;) {
        const free = w.concurrency - this.#inFlight.size;
        if (free <= 0 || this.#state !== 'running') break;
        this.#lastClaimAt = Date.now();
        const batches = await this.#o.store.claimWebhookBatches({
          now: this.#o.clock.now(), limit: free, batchSize: w.batchSize, leaseMs: leaseMsFor(w.timeout), owner: this.#o.nodeId,
          perAccount: { max: w.concurrencyPerAccount, inFlight: { ...this.#byAccount } },
        });
        if (this.#claimFailing) {
          this.#claimFailing = false;
          this.#o.logger.info({ event: 'webhooks.resumed', node: this.#o.nodeId }, 'webhook deliveries resumed');
        }
        for (const batch of batches) this.#startBatch(batch);
        if (batches.length < free) break;
      }
    } catch (err) {
      if (!this.#claimFailing) {
        this.#claimFailing = true; // logged once per outage
        this.#o.logger.error({ event: 'webhooks.claim_failed', node: this.#o.nodeId, reason: (err as Error)?.message ?? String(err) },
          'cannot claim webhook deliveries; retrying at the next poll');
      }
    }
    this.#wakeIn(w.pollInterval);
  }

  #startBatch(batch: WebhookBatch): void {
    if (this.#state !== 'running') return; // stopping: the lease expires and the batch is retried
    const account = batch.webhook.account;
    this.#byAccount[account] = (this.#byAccount[account] ?? 0) + 1;
    const run: Promise<void> = this.#deliver(batch)
      .catch((err: unknown) => this.#o.logger.error({ event: 'webhooks.dispatch_failed', webhookId: batch.webhook.id, err: (err as Error)?.message ?? String(err) },
        'webhook dispatch failed; its lease will expire and it is retried'))
      .finally(() => {
        this.#inFlight.delete(run);
        if (--this.#byAccount[account]! <= 0) delete this.#byAccount[account];
        this.notify(); // a slot is free
      });
    this.#inFlight.add(run);
  }

  async #deliver(batch: WebhookBatch): Promise<void> {
    const { webhook, events } = batch;
    if (events.length === 0) return;
    const attempt = await this.#post(webhook, events);
    if (this.#abort.signal.aborted && !attempt.ok) return; // shutdown cut it: not a receiver failure
    try { this.#o.onAttempt?.(webhook, attempt); } catch { /* metrics never break delivery */ }
    if (attempt.ok) {
      await this.#record(attempt, null);
      return;
    }
    const now = attempt.at;
    const retryAt = nextWebhookRetryAt({
      attempts: batch.attempts, firstDueAt: batch.firstDueAt, now, retryForMs: this.#o.config.webhooks.retryFor, random: this.#o.random,
    });
    const since = await this.#failureStart(webhook, now);
    await this.#record(attempt, retryAt);
    const log = { webhookId: webhook.id, account: webhook.account, url: redactUrl(webhook.url), status: attempt.status, error: attempt.error, attempts: batch.attempts + 1 };
    if (retryAt === null) {
      this.#o.logger.warn({ event: 'webhook.gave_up', ...log, events: events.length, firstEventId: events[0]!.id, oldestEventAt: batch.firstDueAt },
        'webhook events dropped after the retry period');
    } else {
      this.#o.logger.info({ event: 'webhook.failed', ...log, events: events.length, retryAt }, 'webhook POST failed; will retry');
    }
    if (isDueForDisable(since, now, this.#o.config.webhooks.disableAfter)) await this.#disable(webhook, since, now, attempt);
  }

  /** Sign and POST; never throws: a network error or timeout is a failed attempt. */
  async #post(webhook: Webhook, events: MessageEvent[]): Promise<WebhookAttempt> {
    const body = buildWebhookBody(webhook, events);
    const at = this.#o.clock.now();
    const started = performance.now();
    const base = { webhookId: webhook.id, at, eventIds: events.map((e) => e.id) };
    try {
      const res = await this.#fetch(webhook.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          [SIGNATURE_HEADER]: signPayload(webhook.secret, body, at),
          [IDEMPOTENCY_HEADER]: events[0]!.id,
          'Postlane-Webhook-Id': webhook.id,
          ...standardWebhookHeaders(webhook.secret, standardWebhookId(base.eventIds), body, at),
        },
        signal: AbortSignal.any([AbortSignal.timeout(this.#o.config.webhooks.timeout), this.#abort.signal]),
      });
      const ok = res.status >= 200 && res.status < 300;
      const text = ok ? await discard(res) : await readSome(res, MAX_ERROR_TEXT);
      return { ...base, ok, status: res.status, error: ok ? null : `HTTP ${res.status}${text ? `: ${text}` : ''}`, durationMs: Math.round(performance.now() - started) };
    } catch (err) {
      return { ...base, ok: false, status: null, error: describeFetchError(err), durationMs: Math.round(performance.now() - started) };
    }
  }

  async #record(attempt: WebhookAttempt, retryAt: number | null): Promise<void> {
    try {
      await this.#o.store.recordWebhookAttempt(attempt, retryAt);
    } catch (err) {
      // The lease expires and the batch is sent again: at least once, duplicates possible.
      this.#o.logger.error({ event: 'webhooks.record_failed', webhookId: attempt.webhookId, ok: attempt.ok, reason: (err as Error)?.message ?? String(err) },
        'could not record a webhook attempt; the batch will be retried when its lease expires');
    }
  }

  /**
   * When the current run of failures began, from the attempt log: it survives restarts and sees
   * other nodes' attempts (a success anywhere ends the run). Read on failures only, which the
   * backoff keeps rare.
   */
  async #failureStart(webhook: Webhook, now: number): Promise<number> {
    try {
      return failingSinceFrom(await this.#o.store.listWebhookAttempts(webhook.account, webhook.id, FAILURE_LOG_LOOKBACK), now);
    } catch {
      return now; // unknown: never disable on a guess
    }
  }

  async #disable(webhook: Webhook, since: number, now: number, last: WebhookAttempt): Promise<void> {
    const reason = `failing since ${new Date(since).toISOString()}: ${last.error ?? 'error'}`.slice(0, 500);
    try {
      if (!(await this.#o.store.setWebhookEnabled(webhook.account, webhook.id, false, reason, now))) return; // removed meanwhile
    } catch (err) {
      this.#o.logger.error({ event: 'webhooks.disable_failed', webhookId: webhook.id, reason: (err as Error)?.message ?? String(err) },
        'could not disable a failing webhook; trying again after its next failure');
      return;
    }
    try {
      await this.#o.store.appendEvents([{
        at: now, account: webhook.account, type: 'webhook.disabled', messageId: null, recipient: null,
        data: { webhookId: webhook.id, url: redactUrl(webhook.url), reason, failingSince: since, lastStatus: last.status },
      }]);
    } catch (err) {
      this.#o.logger.error({ event: 'webhooks.event_failed', webhookId: webhook.id, reason: (err as Error)?.message ?? String(err) },
        'could not store the webhook.disabled event');
    }
    this.#o.logger.warn({ event: 'webhook.disabled', webhookId: webhook.id, account: webhook.account, url: redactUrl(webhook.url), failingSince: since, reason },
      'webhook disabled after failing continuously; re-enable it with `postlane webhooks enable`');
  }
}

/** The lease outlives the POST and the recording of its result. */
function leaseMsFor(timeoutMs: number): number {
  return timeoutMs * 2 + 10_000;
}

/** URLs may carry credentials (user:pass@ or a token in the query): log only scheme, host and path. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '[invalid url]';
  }
}

async function discard(res: Response): Promise<string> {
  try { await res.body?.cancel(); } catch { /* already closed */ }
  return '';
}

/** Up to max characters of the response body (for the attempt log), then drop the rest. */
async function readSome(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch { /* the body failed: keep what came */ } finally {
    reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8', 0, Math.min(size, max)).replace(/\s+/g, ' ').trim().slice(0, max);
}

function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timeout';
  if (e?.name === 'AbortError') return 'aborted';
  const cause = e?.cause;
  // fetch quotes a URL with credentials in its refusal (a webhook stored before they were refused): not kept.
  return (cause?.code ?? cause?.message ?? e?.message ?? String(err)).replace(/:\/\/[^\s/?#]*@/g, '://[redacted]@').slice(0, MAX_ERROR_TEXT);
}

async function settlesWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  if (promises.length === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try { return await Promise.race([Promise.allSettled(promises).then(() => true as const), timeout]); } finally { clearTimeout(timer); }
}
