// Operations on accounts (tenants), API keys, quota counters, per-user limits and idempotency
// keys, each run by the store in its transaction (writes) or on a pooled connection (reads).
// consumeQuota is atomic across connections and nodes: it creates the missing counter rows, then
// locks every row it charges FOR UPDATE in one fixed order (key, window_start), so concurrent
// charges serialize per counter without deadlocking, checks all, and adds to all or none.
import {
  DEFAULT_ACCOUNT, type Account, type ApiKeyRecord, type IdempotencyRecord, type QuotaResult, type QuotaWindow, type RateLimits,
} from '../platform-store.js';
import { SET_TRACKING_DOMAIN, SET_USER_STREAM } from '../sql/accounts.js';
import { OpError, type Conn } from './rows.js';

interface AccountRow { name: string; created_at: number; limits: RateLimits; tracking_domain: string | null }
interface ApiKeyRow {
  id: string; account: string; name: string | null; secret_hash: string; scopes: ApiKeyRecord['scopes']; limits: RateLimits;
  created_at: number; last_used_at: number | null; revoked_at: number | null;
}
interface IdempotencyRow { account: string; key: string; request_hash: string; response: IdempotencyRecord['response']; created_at: number }

const toAccount = (r: AccountRow): Account => ({ name: r.name, createdAt: r.created_at, limits: r.limits, trackingDomain: r.tracking_domain });
const toApiKey = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id, account: r.account, name: r.name, secretHash: r.secret_hash, scopes: r.scopes, limits: r.limits, createdAt: r.created_at,
  lastUsedAt: r.last_used_at, revokedAt: r.revoked_at,
});
const toIdempotency = (r: IdempotencyRow): IdempotencyRecord =>
  ({ account: r.account, key: r.key, requestHash: r.request_hash, response: r.response, createdAt: r.created_at });

/** Throws not-found unless the account exists; locks it (KEY SHARE) against a concurrent removeAccount. */
export async function requireAccount(c: Conn, name: string): Promise<void> {
  const r = await c.query('SELECT 1 FROM account WHERE name = $1 FOR KEY SHARE', [name]);
  if (r.rowCount === 0) throw new OpError('not-found', `account ${name}`);
}

export async function addAccount(c: Conn, a: Account): Promise<void> {
  const r = await c.query('INSERT INTO account (name, created_at, limits, tracking_domain) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING',
    [a.name, a.createdAt, JSON.stringify(a.limits ?? {}), a.trackingDomain ?? null]);
  if (r.rowCount === 0) throw new OpError('account-exists', `account ${a.name} already exists`);
}

/** Deletes what the account owns (users, domains, keys and webhooks cascade); its messages stay queued. */
export async function removeAccount(c: Conn, name: string): Promise<boolean> {
  if (name === DEFAULT_ACCOUNT) throw new OpError('account-default', 'the default account cannot be removed');
  const r = await c.query('DELETE FROM account WHERE name = $1', [name]);
  if (r.rowCount === 0) return false;
  await c.query('DELETE FROM event WHERE account = $1', [name]);
  await c.query('DELETE FROM idempotency_key WHERE account = $1', [name]);
  return true;
}

export async function setAccountLimits(c: Conn, name: string, limits: RateLimits): Promise<boolean> {
  return ((await c.query('UPDATE account SET limits = $1 WHERE name = $2', [JSON.stringify(limits), name])).rowCount ?? 0) > 0;
}

export async function setAccountTrackingDomain(c: Conn, name: string, domain: string | null): Promise<boolean> {
  return ((await c.query(SET_TRACKING_DOMAIN.text, [name, domain])).rowCount ?? 0) > 0;
}

export async function setUserDefaultStream(c: Conn, name: string, stream: string): Promise<boolean> {
  return ((await c.query(SET_USER_STREAM.text, [name, stream])).rowCount ?? 0) > 0;
}

export async function setUserLimits(c: Conn, name: string, limits: RateLimits): Promise<boolean> {
  return ((await c.query('UPDATE smtp_user SET limits = $1 WHERE name = $2', [JSON.stringify(limits), name])).rowCount ?? 0) > 0;
}

export async function addApiKey(c: Conn, k: ApiKeyRecord): Promise<void> {
  await requireAccount(c, k.account);
  await c.query(`INSERT INTO api_key (id, account, name, secret_hash, scopes, limits, created_at, last_used_at, revoked_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  [k.id, k.account, k.name, k.secretHash, JSON.stringify(k.scopes), JSON.stringify(k.limits ?? {}), k.createdAt, k.lastUsedAt, k.revokedAt]);
}

export async function revokeApiKey(c: Conn, account: string, id: string, at: number): Promise<boolean> {
  const r = await c.query('UPDATE api_key SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 AND account = $3', [at, id, account]);
  return (r.rowCount ?? 0) > 0;
}

export async function touchApiKey(c: Conn, id: string, at: number): Promise<void> {
  await c.query('UPDATE api_key SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)', [at, id]);
}

const byKey = (a: QuotaWindow, b: QuotaWindow) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.windowStart - b.windowStart);

export async function consumeQuota(c: Conn, windows: QuotaWindow[], n: number): Promise<QuotaResult> {
  if (windows.length === 0) return { ok: true };
  const sorted = [...windows].sort(byKey);
  const keys = sorted.map((w) => w.key);
  const starts = sorted.map((w) => w.windowStart);
  await c.query(`INSERT INTO usage_counter (key, window_start, window_end, count)
                 SELECT k, s, e, 0 FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS w (k, s, e, i) ORDER BY i
                 ON CONFLICT (key, window_start) DO NOTHING`, [keys, starts, sorted.map((w) => w.windowEnd)]);
  const { rows } = await c.query<{ key: string; window_start: number; count: number }>(
    `SELECT key, window_start, count FROM usage_counter WHERE (key, window_start) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))
     ORDER BY key COLLATE "C", window_start FOR UPDATE`, [keys, starts]);
  const used = new Map(rows.map((r) => [`${r.key}\u0000${r.window_start}`, r.count]));
  for (const w of windows) {
    const count = used.get(`${w.key}\u0000${w.windowStart}`) ?? 0;
    if (count + n > w.limit) return { ok: false, exceeded: w, used: count };
  }
  await c.query(`UPDATE usage_counter SET count = count + $3 WHERE (key, window_start) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
    [keys, starts, n]);
  return { ok: true };
}

/** null when newly reserved; else the record holding the key. */
export async function reserveIdempotencyKey(c: Conn, account: string, key: string, requestHash: string, now: number): Promise<IdempotencyRecord | null> {
  const r = await c.query(`INSERT INTO idempotency_key (account, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
                           ON CONFLICT (account, key) DO NOTHING`, [account, key, requestHash, now]);
  if ((r.rowCount ?? 0) > 0) return null;
  const { rows } = await c.query<IdempotencyRow>('SELECT * FROM idempotency_key WHERE account = $1 AND key = $2', [account, key]);
  // Released by its first request between our insert and this read: the caller retries the reservation.
  if (!rows[0]) throw new OpError('retry', `idempotency key ${key} changed meanwhile`);
  return toIdempotency(rows[0]);
}

export async function completeIdempotencyKey(c: Conn, account: string, key: string, response: { status: number; body: unknown }): Promise<void> {
  await c.query('UPDATE idempotency_key SET response = $1 WHERE account = $2 AND key = $3', [JSON.stringify(response), account, key]);
}

export async function releaseIdempotencyKey(c: Conn, account: string, key: string): Promise<void> {
  await c.query('DELETE FROM idempotency_key WHERE account = $1 AND key = $2 AND response IS NULL', [account, key]);
}

export async function purgeIdempotencyKeys(c: Conn, before: number): Promise<number> {
  return (await c.query('DELETE FROM idempotency_key WHERE created_at < $1', [before])).rowCount ?? 0;
}

export async function getAccount(c: Conn, name: string): Promise<Account | null> {
  const r = (await c.query<AccountRow>('SELECT * FROM account WHERE name = $1', [name])).rows[0];
  return r ? toAccount(r) : null;
}

export async function listAccounts(c: Conn): Promise<Account[]> {
  return (await c.query<AccountRow>('SELECT * FROM account ORDER BY name COLLATE "C"')).rows.map(toAccount);
}

export async function getApiKey(c: Conn, id: string): Promise<ApiKeyRecord | null> {
  const r = (await c.query<ApiKeyRow>('SELECT * FROM api_key WHERE id = $1', [id])).rows[0];
  return r ? toApiKey(r) : null;
}

export async function listApiKeys(c: Conn, account: string): Promise<ApiKeyRecord[]> {
  return (await c.query<ApiKeyRow>('SELECT * FROM api_key WHERE account = $1 ORDER BY created_at, id COLLATE "C"', [account])).rows.map(toApiKey);
}

export async function quotaUsage(c: Conn, windows: Omit<QuotaWindow, 'limit'>[]): Promise<number[]> {
  if (windows.length === 0) return [];
  const { rows } = await c.query<{ key: string; window_start: number; count: number }>(
    `SELECT key, window_start, count FROM usage_counter WHERE (key, window_start) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
    [windows.map((w) => w.key), windows.map((w) => w.windowStart)]);
  const used = new Map(rows.map((r) => [`${r.key}\u0000${r.window_start}`, r.count]));
  return windows.map((w) => used.get(`${w.key}\u0000${w.windowStart}`) ?? 0);
}
