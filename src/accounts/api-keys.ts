// API keys: generation, the token format, and authentication of a bearer token. A token is
// `pl_<id>_<secret>`: the id (16 hex) is the public lookup key, the secret (32 random bytes,
// base64url) is shown once and stored only as its SHA-256. A fast hash is right here: the secret
// has 256 bits of entropy, so there is nothing to brute-force that scrypt would slow down, and
// every API request checks one. Comparison is constant-time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import { RelayError } from '../errors.js';
import { API_SCOPES, type ApiKeyRecord, type ApiScope, type RateLimits } from '../store/platform-store.js';

export const TOKEN_PREFIX = 'pl_';
const TOKEN_RE = /^pl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** lastUsedAt is written at most this often per key (a write per request would be a hot row). */
const TOUCH_INTERVAL_MS = 60_000;

export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** A new key and its token; store the record, show the token once. */
export function newApiKey(opts: { account: string; scopes: ApiScope[]; name?: string | null; limits?: RateLimits; now: number }): { record: ApiKeyRecord; token: string } {
  const bad = opts.scopes.filter((s) => !API_SCOPES.includes(s));
  if (opts.scopes.length === 0 || bad.length) {
    throw new RelayError('ERR_USAGE', `API key scopes must be one or more of ${API_SCOPES.join(', ')}${bad.length ? ` (not ${bad.join(', ')})` : ''}`);
  }
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return {
    token: `${TOKEN_PREFIX}${id}_${secret}`,
    record: {
      id, account: opts.account, name: opts.name ?? null, secretHash: hashSecret(secret),
      scopes: [...new Set(opts.scopes)], limits: opts.limits ?? {}, createdAt: opts.now, lastUsedAt: null, revokedAt: null,
    },
  };
}

/** The id and secret of a well-formed token, else null (no store lookup for garbage). */
export function parseApiToken(token: unknown): { id: string; secret: string } | null {
  if (typeof token !== 'string') return null;
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** Constant-time comparison of the secret's hash with the stored one (a malformed stored hash never matches). */
export function secretMatches(record: ApiKeyRecord, secret: string): boolean {
  const a = Buffer.from(record.secretHash, 'hex');
  const b = Buffer.from(hashSecret(secret), 'hex');
  return a.length === 32 && a.length === b.length && timingSafeEqual(a, b);
}

/** Where the authenticator finds key records: the store, or ApiKeyCache in front of it. */
export interface KeyLookup {
  getApiKey(id: string): Promise<ApiKeyRecord | null>;
  touchApiKey(id: string, at: number): Promise<void>;
  /** Whether getApiKey(id) would answer without a store read (ApiKeyCache); absent: never. */
  isCached?(id: string): boolean;
}

/** Authenticates bearer tokens against the store; records last use (throttled). */
export class ApiKeyAuthenticator {
  readonly #touched = new Map<string, number>();
  constructor(private readonly store: KeyLookup, private readonly clock: Clock, private readonly onTouchError?: (err: unknown) => void) {}

  /** The key's record when the token is valid and not revoked, else null. */
  async authenticate(token: unknown): Promise<ApiKeyRecord | null> {
    const parsed = parseApiToken(token);
    if (!parsed) return null;
    const record = await this.store.getApiKey(parsed.id);
    if (!record || record.revokedAt !== null || !secretMatches(record, parsed.secret)) return null;
    const now = this.clock.now();
    const last = this.#touched.get(record.id);
    if (last === undefined || now - last >= TOUCH_INTERVAL_MS) {
      this.#touched.set(record.id, now);
      this.store.touchApiKey(record.id, now).catch((err: unknown) => this.onTouchError?.(err));
    }
    return record;
  }
}

export const hasScope = (key: ApiKeyRecord, scope: ApiScope): boolean => key.scopes.includes(scope) || key.scopes.includes('admin');
