// Owns dashboard logins and sessions (issue 12): checking a user's password (scrypt, as for SMTP
// users) under the same failure limiter as SMTP AUTH (per client address and per user name,
// parallel attempts counted as they start), issuing a session token, and turning a session cookie
// back into its user. The token is 32 random bytes; the store keeps only its SHA-256, and the CSRF
// token is an HMAC of the session token, so neither can be derived from a copy of the database.
// A session ends at its absolute lifetime, after an idle period, at logout, or when its user's
// password changes or the user is removed.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { AuthLimiter, type AuthLimits } from '../../ingress/smtp/auth-limiter.js';
import type { DashboardStore, DashboardUser } from '../../store/dashboard-store.js';
import { hashPassword, verifyPassword } from '../../users/password.js';

export interface SessionPolicy {
  /** ms a session lasts at most. */
  lifetimeMs: number;
  /** ms of inactivity after which a session ends. */
  idleMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { lifetimeMs: 12 * 3_600_000, idleMs: 30 * 60_000 };

/** The idle deadline is written at most this often per session (a write per request would be a hot row). */
const TOUCH_AFTER_MS = 60_000;
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export type LoginResult =
  | { ok: true; token: string; csrfToken: string; user: DashboardUser; expiresAt: number }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; retryAfterSeconds: number };

export interface SessionUser { user: DashboardUser; csrfToken: string; tokenHash: string }

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
export const csrfTokenOf = (token: string) => createHmac('sha256', token).update('postlane-csrf').digest('base64url');

/** Constant-time equality of two strings (false for different lengths). */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class DashboardSessions {
  readonly #limiter: AuthLimiter;
  readonly #lockoutMs: number;
  /** Verified against for unknown user names, so that their answer takes as long as a wrong password. */
  readonly #decoy: Promise<string>;

  constructor(
    private readonly store: DashboardStore,
    private readonly clock: Clock,
    limits: AuthLimits,
    private readonly policy: SessionPolicy = DEFAULT_SESSION_POLICY,
    /** How to wait before answering a failure (injected so tests need not sleep). */
    private readonly delay: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.#limiter = new AuthLimiter(limits, clock);
    this.#lockoutMs = limits.lockout;
    this.#decoy = hashPassword(randomBytes(16).toString('hex'));
  }

  /** Checks the credentials under the limiter; a session when they are right. */
  async login(username: string, password: string, ip: string): Promise<LoginResult> {
    const attempt = await this.#limiter.begin(ip, username);
    if (attempt === 'locked') return { ok: false, reason: 'locked', retryAfterSeconds: this.#retryAfter() };
    let user: DashboardUser | null;
    let valid: boolean;
    try {
      user = await this.store.getDashboardUser(username);
      valid = await verifyPassword(password, user?.passwordHash ?? await this.#decoy) && user !== null;
    } catch (err) {
      attempt.abandoned();
      throw err;
    }
    if (!valid || !user) {
      const { delayMs, lockedOut } = attempt.failed();
      await this.delay(delayMs);
      return lockedOut ? { ok: false, reason: 'locked', retryAfterSeconds: this.#retryAfter() } : { ok: false, reason: 'invalid' };
    }
    attempt.succeeded();
    return { ok: true, ...(await this.#open(user)), user };
  }

  /** The live session of a cookie's token and its user; null for anything else. Moves the idle deadline. */
  async authenticate(token: string): Promise<SessionUser | null> {
    if (!TOKEN_RE.test(token)) return null; // no store lookup for garbage
    const tokenHash = sha256(token);
    const now = this.clock.now();
    const found = await this.store.getDashboardSession(tokenHash, now);
    if (!found) return null;
    const idleUntil = Math.min(now + this.policy.idleMs, found.session.expiresAt);
    if (idleUntil - found.session.idleUntil >= TOUCH_AFTER_MS) await this.store.touchDashboardSession(tokenHash, idleUntil);
    return { user: found.user, csrfToken: csrfTokenOf(token), tokenHash };
  }

  /** Ends the session of a token (logout); false when there was none. */
  async logout(token: string): Promise<boolean> {
    if (!TOKEN_RE.test(token)) return false;
    return this.store.deleteDashboardSession(sha256(token));
  }

  async #open(user: DashboardUser): Promise<{ token: string; csrfToken: string; expiresAt: number }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const expiresAt = now + this.policy.lifetimeMs;
    await this.store.createDashboardSession({
      tokenHash: sha256(token), username: user.username, createdAt: now, expiresAt, idleUntil: Math.min(now + this.policy.idleMs, expiresAt),
    }, now);
    return { token, csrfToken: csrfTokenOf(token), expiresAt };
  }

  /** Seconds to announce in Retry-After when locked out: the whole lockout (the limiter does not say how much is left). */
  #retryAfter(): number { return Math.max(1, Math.ceil(this.#lockoutMs / 1000)); }

  /** Entries held by the limiter (tests, metrics). */
  get limiterSize(): number { return this.#limiter.size; }
}
