// The executor's operations on accounts (tenants), API keys, quota counters, per-user limits and
// idempotency keys. Writes run in a savepoint of the group-commit transaction on the single
// writer connection, so consumeQuota's check-then-add is atomic for every process on this
// database (other processes' writers wait on BEGIN IMMEDIATE). Reads use the read-only connection.
import {
  DEFAULT_ACCOUNT, type Account, type ApiKeyRecord, type IdempotencyRecord, type QuotaResult, type QuotaWindow, type RateLimits,
} from '../platform-store.js';
import { SET_TRACKING_DOMAIN, SET_USER_STREAM } from '../sql/accounts.js';
import { OpError, run, sql, type Db, type Effects } from './rows.js';

interface AccountRow { name: string; created_at: number; limits: string; tracking_domain: string | null }
interface ApiKeyRow {
  id: string; account: string; name: string | null; secret_hash: string; scopes: string; limits: string;
  created_at: number; last_used_at: number | null; revoked_at: number | null;
}
interface IdempotencyRow { account: string; key: string; request_hash: string; response: string | null; created_at: number }

const toAccount = (r: AccountRow): Account => ({
  name: r.name, createdAt: r.created_at, limits: JSON.parse(r.limits) as RateLimits, trackingDomain: r.tracking_domain,
});
const toApiKey = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id, account: r.account, name: r.name, secretHash: r.secret_hash, scopes: JSON.parse(r.scopes) as ApiKeyRecord['scopes'],
  limits: JSON.parse(r.limits) as RateLimits, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at,
});
const toIdempotency = (r: IdempotencyRow): IdempotencyRecord => ({
  account: r.account, key: r.key, requestHash: r.request_hash, createdAt: r.created_at,
  response: r.response === null ? null : JSON.parse(r.response) as IdempotencyRecord['response'],
});

/** Throws not-found unless the account exists (users, domains and messages have no FK to it). */
export function requireAccount(db: Db, name: string): void {
  if (!sql(db, 'SELECT 1 FROM account WHERE name = ?').get(name)) throw new OpError('not-found', `account ${name}`);
}

export const ACCOUNT_WRITES = {
  addAccount(db: Db, _fx: Effects, a: Account): void {
    const r = sql(db, 'INSERT INTO account (name, created_at, limits, tracking_domain) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING')
      .run(a.name, a.createdAt, JSON.stringify(a.limits ?? {}), a.trackingDomain ?? null);
    if (r.changes === 0) throw new OpError('account-exists', `account ${a.name} already exists`);
  },

  /** Deletes what the account owns; its messages stay queued (and are delivered). */
  removeAccount(db: Db, _fx: Effects, name: string): boolean {
    if (name === DEFAULT_ACCOUNT) throw new OpError('account-default', 'the default account cannot be removed');
    if (!sql(db, 'SELECT 1 FROM account WHERE name = ?').get(name)) return false;
    sql(db, 'DELETE FROM smtp_user WHERE account = ?').run(name);
    sql(db, 'DELETE FROM sending_domain WHERE account = ?').run(name);
    sql(db, 'DELETE FROM event WHERE account = ?').run(name);
    sql(db, 'DELETE FROM idempotency_key WHERE account = ?').run(name);
    sql(db, 'DELETE FROM account WHERE name = ?').run(name); // cascades to api_key, webhook and its outbox
    return true;
  },

  setAccountLimits(db: Db, _fx: Effects, name: string, limits: RateLimits): boolean {
    return sql(db, 'UPDATE account SET limits = ? WHERE name = ?').run(JSON.stringify(limits), name).changes > 0;
  },

  setAccountTrackingDomain(db: Db, _fx: Effects, name: string, domain: string | null): boolean {
    return run(db, SET_TRACKING_DOMAIN, [name, domain]).changes > 0;
  },

  setUserDefaultStream(db: Db, _fx: Effects, name: string, stream: string): boolean {
    return run(db, SET_USER_STREAM, [name, stream]).changes > 0;
  },

  setUserLimits(db: Db, _fx: Effects, name: string, limits: RateLimits): boolean {
    return sql(db, 'UPDATE smtp_user SET limits = ? WHERE name = ?').run(JSON.stringify(limits), name).changes > 0;
  },

  addApiKey(db: Db, _fx: Effects, k: ApiKeyRecord): void {
    requireAccount(db, k.account);
    sql(db, `INSERT INTO api_key (id, account, name, secret_hash, scopes, limits, created_at, last_used_at, revoked_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(k.id, k.account, k.name, k.secretHash, JSON.stringify(k.scopes), JSON.stringify(k.limits ?? {}), k.createdAt, k.lastUsedAt, k.revokedAt);
  },

  revokeApiKey(db: Db, _fx: Effects, account: string, id: string, at: number): boolean {
    return sql(db, 'UPDATE api_key SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND account = ?').run(at, id, account).changes > 0;
  },

  touchApiKey(db: Db, _fx: Effects, id: string, at: number): void {
    sql(db, 'UPDATE api_key SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)').run(at, id, at);
  },

  /** Check every window, then add to all or none (the single writer makes it atomic). */
  consumeQuota(db: Db, _fx: Effects, windows: QuotaWindow[], n: number): QuotaResult {
    const get = sql(db, 'SELECT count FROM usage_counter WHERE key = ? AND window_start = ?');
    for (const w of windows) {
      const used = (get.get(w.key, w.windowStart) as { count: number } | undefined)?.count ?? 0;
      if (used + n > w.limit) return { ok: false, exceeded: w, used };
    }
    const add = sql(db, `INSERT INTO usage_counter (key, window_start, window_end, count) VALUES (?, ?, ?, ?)
                         ON CONFLICT (key, window_start) DO UPDATE SET count = count + excluded.count`);
    for (const w of windows) add.run(w.key, w.windowStart, w.windowEnd, n);
    return { ok: true };
  },

  reserveIdempotencyKey(db: Db, _fx: Effects, account: string, key: string, requestHash: string, now: number): IdempotencyRecord | null {
    const r = sql(db, `INSERT INTO idempotency_key (account, key, request_hash, created_at) VALUES (?, ?, ?, ?)
                       ON CONFLICT (account, key) DO NOTHING`).run(account, key, requestHash, now);
    if (r.changes > 0) return null;
    return toIdempotency(sql(db, 'SELECT * FROM idempotency_key WHERE account = ? AND key = ?').get(account, key) as IdempotencyRow);
  },

  completeIdempotencyKey(db: Db, _fx: Effects, account: string, key: string, response: { status: number; body: unknown }): void {
    sql(db, 'UPDATE idempotency_key SET response = ? WHERE account = ? AND key = ?').run(JSON.stringify(response), account, key);
  },

  releaseIdempotencyKey(db: Db, _fx: Effects, account: string, key: string): void {
    sql(db, 'DELETE FROM idempotency_key WHERE account = ? AND key = ? AND response IS NULL').run(account, key);
  },

  purgeIdempotencyKeys(db: Db, _fx: Effects, before: number): number {
    return sql(db, 'DELETE FROM idempotency_key WHERE created_at < ?').run(before).changes;
  },
};

export const ACCOUNT_READS = {
  getAccount(db: Db, name: string): Account | null {
    const r = sql(db, 'SELECT * FROM account WHERE name = ?').get(name) as AccountRow | undefined;
    return r ? toAccount(r) : null;
  },

  listAccounts(db: Db): Account[] {
    return (sql(db, 'SELECT * FROM account ORDER BY name').all() as AccountRow[]).map(toAccount);
  },

  getApiKey(db: Db, id: string): ApiKeyRecord | null {
    const r = sql(db, 'SELECT * FROM api_key WHERE id = ?').get(id) as ApiKeyRow | undefined;
    return r ? toApiKey(r) : null;
  },

  listApiKeys(db: Db, account: string): ApiKeyRecord[] {
    return (sql(db, 'SELECT * FROM api_key WHERE account = ? ORDER BY created_at, id').all(account) as ApiKeyRow[]).map(toApiKey);
  },

  quotaUsage(db: Db, windows: Omit<QuotaWindow, 'limit'>[]): number[] {
    const get = sql(db, 'SELECT count FROM usage_counter WHERE key = ? AND window_start = ?');
    return windows.map((w) => (get.get(w.key, w.windowStart) as { count: number } | undefined)?.count ?? 0);
  },
};
