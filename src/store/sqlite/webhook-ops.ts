// The executor's webhook operations: the account's webhooks, and the delivery outbox that
// writeEvents fills. A dispatcher leases a batch per webhook: the webhook's pending events from
// the oldest (its head) in seq order, only while the head is due and not leased, so at most one
// batch of a webhook is in flight and its events go out in order. Failed batches keep their
// place (the head waits for its retry time). Every account-scoped call filters by account.
import { eventSeq, toEvent, type EventRowValues } from '../event-mapping.js';
import { takeAccountSlot, type ClaimWebhookOptions, type EventType, type Webhook, type WebhookAttempt, type WebhookBatch } from '../platform-store.js';
import { requireAccount } from './account-ops.js';
import { sql, type Db, type Effects } from './rows.js';

interface WebhookRow {
  id: string; account: string; url: string; events: string; secret: string; enabled: number; created_at: number;
  disabled_at: number | null; disabled_reason: string | null;
}
interface Head { event_seq: number; next_attempt_at: number; lease_until: number | null; attempts: number }
type PendingRow = EventRowValues & { data: string; next_attempt_at: number };

const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id, account: r.account, url: r.url, events: JSON.parse(r.events) as EventType[], secret: r.secret, enabled: r.enabled === 1,
  createdAt: r.created_at, disabledAt: r.disabled_at, disabledReason: r.disabled_reason,
});

export const WEBHOOK_WRITES = {
  addWebhook(db: Db, _fx: Effects, w: Webhook, maxPerAccount?: number): boolean {
    requireAccount(db, w.account);
    if (maxPerAccount !== undefined && (sql(db, 'SELECT count(*) AS n FROM webhook WHERE account = ?').get(w.account) as { n: number }).n >= maxPerAccount) return false;
    sql(db, `INSERT INTO webhook (id, account, url, events, secret, enabled, created_at, disabled_at, disabled_reason)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(w.id, w.account, w.url, JSON.stringify(w.events), w.secret, w.enabled ? 1 : 0, w.createdAt, w.disabledAt, w.disabledReason);
    return true;
  },

  removeWebhook(db: Db, _fx: Effects, account: string, id: string): boolean {
    return sql(db, 'DELETE FROM webhook WHERE id = ? AND account = ?').run(id, account).changes > 0; // outbox and log cascade
  },

  setWebhookEnabled(db: Db, _fx: Effects, account: string, id: string, enabled: boolean, reason: string | null, at: number): boolean {
    return sql(db, `UPDATE webhook SET enabled = ?, disabled_at = ?, disabled_reason = ? WHERE id = ? AND account = ?`)
      .run(enabled ? 1 : 0, enabled ? null : at, enabled ? null : reason, id, account).changes > 0;
  },

  claimWebhookBatches(db: Db, _fx: Effects, o: ClaimWebhookOptions): WebhookBatch[] {
    if (!(o.limit > 0) || !(o.batchSize > 0)) return [];
    const head = sql(db, `SELECT event_seq, next_attempt_at, lease_until, attempts FROM webhook_delivery
                          WHERE webhook_id = ? ORDER BY event_seq LIMIT 1`);
    const due: { hook: WebhookRow; head: Head }[] = [];
    for (const hook of sql(db, 'SELECT * FROM webhook WHERE enabled = 1').all() as WebhookRow[]) {
      const h = head.get(hook.id) as Head | undefined;
      if (h && h.next_attempt_at <= o.now && (h.lease_until === null || h.lease_until <= o.now)) due.push({ hook, head: h });
    }
    due.sort((a, b) => a.head.next_attempt_at - b.head.next_attempt_at || (a.hook.id < b.hook.id ? -1 : 1));
    const pending = sql(db, `SELECT e.*, d.next_attempt_at FROM webhook_delivery d JOIN event e ON e.seq = d.event_seq
                             WHERE d.webhook_id = ? ORDER BY d.event_seq LIMIT ?`);
    const lease = sql(db, `UPDATE webhook_delivery SET lease_owner = ?, lease_until = ?
                           WHERE webhook_id = ? AND event_seq IN (SELECT value FROM json_each(?))`);
    const leaseUntil = o.now + o.leaseMs;
    const claimed = new Map<string, number>();
    return due.filter(({ hook }) => takeAccountSlot(o, claimed, hook.account)).slice(0, o.limit).map(({ hook, head: h }) => {
      const rows = pending.all(hook.id, o.batchSize) as PendingRow[];
      const cut = rows.findIndex((r) => r.next_attempt_at > o.now);
      const taken = cut === -1 ? rows : rows.slice(0, cut);
      lease.run(o.owner, leaseUntil, hook.id, JSON.stringify(taken.map((r) => r.seq)));
      return {
        webhook: toWebhook(hook), events: taken.map((r) => toEvent(r, JSON.parse(r.data) as Record<string, unknown>)),
        attempts: h.attempts, firstDueAt: taken[0]!.at, leaseUntil,
      };
    });
  },

  /** ok or give-up (retryAt null): the deliveries are done; else due again at retryAt. The attempt is logged either way. */
  recordWebhookAttempt(db: Db, _fx: Effects, a: WebhookAttempt, retryAt: number | null): void {
    if (!sql(db, 'SELECT 1 FROM webhook WHERE id = ?').get(a.webhookId)) return; // removed meanwhile
    const seqs = JSON.stringify(a.eventIds.map(eventSeq).filter((s) => s !== null));
    if (a.ok || retryAt === null) {
      sql(db, 'DELETE FROM webhook_delivery WHERE webhook_id = ? AND event_seq IN (SELECT value FROM json_each(?))').run(a.webhookId, seqs);
    } else {
      sql(db, `UPDATE webhook_delivery SET attempts = attempts + 1, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL
               WHERE webhook_id = ? AND event_seq IN (SELECT value FROM json_each(?))`).run(retryAt, a.webhookId, seqs);
    }
    sql(db, `INSERT INTO webhook_attempt (webhook_id, at, event_ids, ok, status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(a.webhookId, a.at, JSON.stringify(a.eventIds), a.ok ? 1 : 0, a.status, a.error, Math.round(a.durationMs));
  },
};

export const WEBHOOK_READS = {
  listWebhooks(db: Db, account: string): Webhook[] {
    return (sql(db, 'SELECT * FROM webhook WHERE account = ? ORDER BY created_at, id').all(account) as WebhookRow[]).map(toWebhook);
  },

  getWebhook(db: Db, account: string, id: string): Webhook | null {
    const r = sql(db, 'SELECT * FROM webhook WHERE id = ? AND account = ?').get(id, account) as WebhookRow | undefined;
    return r ? toWebhook(r) : null;
  },

  /** Newest first. */
  listWebhookAttempts(db: Db, account: string, webhookId: string, limit: number): WebhookAttempt[] {
    const rows = sql(db, `SELECT a.* FROM webhook_attempt a JOIN webhook w ON w.id = a.webhook_id
                          WHERE a.webhook_id = ? AND w.account = ? ORDER BY a.id DESC LIMIT ?`)
      .all(webhookId, account, Math.max(1, Math.min(limit, 1000))) as
      { webhook_id: string; at: number; event_ids: string; ok: number; status: number | null; error: string | null; duration_ms: number }[];
    return rows.map((r) => ({
      webhookId: r.webhook_id, at: r.at, eventIds: JSON.parse(r.event_ids) as string[], ok: r.ok === 1, status: r.status, error: r.error,
      durationMs: r.duration_ms,
    }));
  },
};
