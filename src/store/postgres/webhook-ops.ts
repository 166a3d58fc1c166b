// Webhook operations: the account's webhooks, and the delivery outbox that writeEvents fills.
// A dispatcher leases a batch per webhook — its pending events from the oldest (the head) in seq
// order, only while the head is due and not leased — so one batch of a webhook is in flight at a
// time and its events go out in order. Safe across nodes: claimers lock webhook rows FOR UPDATE
// SKIP LOCKED, then re-read each locked webhook's head in a new statement (a fresh snapshot: a
// lease committed by another claimer since our first statement began is seen), then lease.
import { eventSeq, toEvent, type EventRowValues } from '../event-mapping.js';
import { fullAccounts, takeAccountSlot, type ClaimWebhookOptions, type EventType, type Webhook, type WebhookAttempt, type WebhookBatch } from '../platform-store.js';
import { requireAccount } from './account-ops.js';
import { prepared, runPrepared, type Conn } from './rows.js';

interface WebhookRow {
  id: string; account: string; url: string; events: EventType[]; secret: string; enabled: boolean; created_at: number;
  disabled_at: number | null; disabled_reason: string | null;
}
type PendingRow = EventRowValues & { data: Record<string, unknown>; next_attempt_at: number; lease_until: number | null; attempts: number };

const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id, account: r.account, url: r.url, events: r.events, secret: r.secret, enabled: r.enabled, createdAt: r.created_at,
  disabledAt: r.disabled_at, disabledReason: r.disabled_reason,
});

export async function addWebhook(c: Conn, w: Webhook, maxPerAccount?: number): Promise<boolean> {
  // Capped adds to one account wait for each other here (before any other lock on the row: taking
  // it after requireAccount's KEY SHARE deadlocks two of them), so parallel ones cannot all see room.
  if (maxPerAccount !== undefined) await c.query('SELECT 1 FROM account WHERE name = $1 FOR NO KEY UPDATE', [w.account]);
  await requireAccount(c, w.account);
  if (maxPerAccount !== undefined) {
    const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM webhook WHERE account = $1', [w.account]);
    if (Number(rows[0]!.n) >= maxPerAccount) return false;
  }
  await c.query(`INSERT INTO webhook (id, account, url, events, secret, enabled, created_at, disabled_at, disabled_reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  [w.id, w.account, w.url, JSON.stringify(w.events), w.secret, w.enabled, w.createdAt, w.disabledAt, w.disabledReason]);
  return true;
}

export async function removeWebhook(c: Conn, account: string, id: string): Promise<boolean> {
  return ((await c.query('DELETE FROM webhook WHERE id = $1 AND account = $2', [id, account])).rowCount ?? 0) > 0; // outbox and log cascade
}

export async function setWebhookEnabled(c: Conn, account: string, id: string, enabled: boolean, reason: string | null, at: number): Promise<boolean> {
  const r = await c.query('UPDATE webhook SET enabled = $1, disabled_at = $2, disabled_reason = $3 WHERE id = $4 AND account = $5',
    [enabled, enabled ? null : at, enabled ? null : reason, id, account]);
  return (r.rowCount ?? 0) > 0;
}

// Every node's dispatcher polls it (each second, and after new events): named (rows.ts), so its
// columns are listed (WebhookRow's).
const DUE_WEBHOOKS = prepared('due_webhooks', `
  SELECT w.id, w.account, w.url, w.events, w.secret, w.enabled, w.created_at, w.disabled_at, w.disabled_reason FROM webhook w
  JOIN LATERAL (SELECT next_attempt_at, lease_until FROM webhook_delivery d WHERE d.webhook_id = w.id ORDER BY event_seq LIMIT 1) h ON true
  WHERE w.enabled AND h.next_attempt_at <= $1 AND (h.lease_until IS NULL OR h.lease_until <= $1) AND NOT (w.id = ANY($3::text[]))
    AND NOT (w.account = ANY($4::text[]))
  ORDER BY h.next_attempt_at, w.id COLLATE "C" LIMIT $2
  FOR UPDATE OF w SKIP LOCKED`);
/** Rounds of candidate locking: a round's candidates may turn out leased by a claimer that committed meanwhile. */
const CLAIM_ROUNDS = 3;

export async function claimWebhookBatches(c: Conn, o: ClaimWebhookOptions): Promise<WebhookBatch[]> {
  if (!(o.limit > 0) || !(o.batchSize > 0)) return [];
  const batches: WebhookBatch[] = [];
  const seen: string[] = [];
  const claimed = new Map<string, number>(); // per account (o.perAccount)
  for (let round = 0; round < CLAIM_ROUNDS && batches.length < o.limit; round++) {
    const { rows: hooks } = await runPrepared<WebhookRow>(c, DUE_WEBHOOKS, [o.now, o.limit - batches.length, seen, fullAccounts(o, claimed)]);
    if (hooks.length === 0) break;
    for (const hook of hooks) {
      seen.push(hook.id);
      if (!takeAccountSlot(o, claimed, hook.account)) continue; // its account filled up in this round: unlocked at commit
      const batch = await leaseBatch(c, hook, o);
      if (batch) batches.push(batch);
      else claimed.set(hook.account, claimed.get(hook.account)! - 1);
    }
  }
  return batches;
}

/** The locked webhook's batch, re-read in this statement's fresh snapshot; null if it is leased or not due after all. */
async function leaseBatch(c: Conn, hook: WebhookRow, o: ClaimWebhookOptions): Promise<WebhookBatch | null> {
  const leaseUntil = o.now + o.leaseMs;
  const { rows } = await c.query<PendingRow>(
    `SELECT e.*, d.next_attempt_at, d.lease_until, d.attempts FROM webhook_delivery d JOIN event e ON e.seq = d.event_seq
     WHERE d.webhook_id = $1 ORDER BY d.event_seq LIMIT $2`, [hook.id, o.batchSize]);
  const head = rows[0];
  if (!head || head.next_attempt_at > o.now || (head.lease_until !== null && head.lease_until > o.now)) return null;
  const cut = rows.findIndex((r) => r.next_attempt_at > o.now);
  const taken = cut === -1 ? rows : rows.slice(0, cut);
  await c.query('UPDATE webhook_delivery SET lease_owner = $1, lease_until = $2 WHERE webhook_id = $3 AND event_seq = ANY($4::bigint[])',
    [o.owner, leaseUntil, hook.id, taken.map((r) => r.seq)]);
  return { webhook: toWebhook(hook), events: taken.map((r) => toEvent(r, r.data)), attempts: head.attempts, firstDueAt: head.at, leaseUntil };
}

/** ok or give-up (retryAt null): the deliveries are done; else due again at retryAt. The attempt is logged either way. */
export async function recordWebhookAttempt(c: Conn, a: WebhookAttempt, retryAt: number | null): Promise<void> {
  const hook = await c.query('SELECT 1 FROM webhook WHERE id = $1 FOR KEY SHARE', [a.webhookId]);
  if (hook.rowCount === 0) return; // removed meanwhile
  const seqs = a.eventIds.map(eventSeq).filter((s) => s !== null);
  if (a.ok || retryAt === null) {
    await c.query('DELETE FROM webhook_delivery WHERE webhook_id = $1 AND event_seq = ANY($2::bigint[])', [a.webhookId, seqs]);
  } else {
    await c.query(`UPDATE webhook_delivery SET attempts = attempts + 1, next_attempt_at = $1, lease_owner = NULL, lease_until = NULL
                   WHERE webhook_id = $2 AND event_seq = ANY($3::bigint[])`, [retryAt, a.webhookId, seqs]);
  }
  await c.query(`INSERT INTO webhook_attempt (webhook_id, at, event_ids, ok, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [a.webhookId, a.at, JSON.stringify(a.eventIds), a.ok, a.status, a.error, Math.round(a.durationMs)]);
}

export async function listWebhooks(c: Conn, account: string): Promise<Webhook[]> {
  return (await c.query<WebhookRow>('SELECT * FROM webhook WHERE account = $1 ORDER BY created_at, id COLLATE "C"', [account])).rows.map(toWebhook);
}

export async function getWebhook(c: Conn, account: string, id: string): Promise<Webhook | null> {
  const r = (await c.query<WebhookRow>('SELECT * FROM webhook WHERE id = $1 AND account = $2', [id, account])).rows[0];
  return r ? toWebhook(r) : null;
}

/** Newest first. */
export async function listWebhookAttempts(c: Conn, account: string, webhookId: string, limit: number): Promise<WebhookAttempt[]> {
  const { rows } = await c.query<{ webhook_id: string; at: number; event_ids: string[]; ok: boolean; status: number | null; error: string | null; duration_ms: number }>(
    `SELECT a.* FROM webhook_attempt a JOIN webhook w ON w.id = a.webhook_id WHERE a.webhook_id = $1 AND w.account = $2
     ORDER BY a.id DESC LIMIT $3`, [webhookId, account, Math.max(1, Math.min(limit, 1000))]);
  return rows.map((r) => ({
    webhookId: r.webhook_id, at: r.at, eventIds: r.event_ids, ok: r.ok, status: r.status, error: r.error, durationMs: r.duration_ms,
  }));
}
