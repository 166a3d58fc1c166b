// Owns the dashboard's cookie authentication of /v1 requests (issue 12, docs/dashboard.md): the
// session cookie's format, reading it from a request, the CSRF check of state-changing requests,
// and the principal a session maps to: the same ApiKeyRecord shape bearer keys produce, so the
// routes are unchanged. An account user acts for its account with every scope; an admin acts for
// the account named by the X-Postlane-Account header ('default' without it) with every scope.
import type { FastifyRequest } from 'fastify';
import { isValidAccountName } from '../../accounts/account-name.js';
import { ApiError } from '../../ingress/http/api-error.js';
import { API_SCOPES, DEFAULT_ACCOUNT, type ApiKeyRecord } from '../../store/platform-store.js';
import type { DashboardUser } from '../../store/dashboard-store.js';
import { sameToken, type DashboardSessions } from './sessions.js';

export const SESSION_COOKIE = 'postlane_session';
/**
 * The cookie's name over TLS: the browser keeps a __Host- cookie only if it is Secure, has Path=/
 * and no Domain, so a sibling host (or a plain-HTTP man in the middle) cannot set or shadow it.
 * Over TLS only this name is read; over plain HTTP only the bare one (browsers refuse __Host-
 * without Secure).
 */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
export const ACCOUNT_HEADER = 'x-postlane-account';
export const CSRF_HEADER = 'x-csrf-token';

/** The value of cookie `name` in a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * The session token of a Cookie header; '' (no session) when it carries two different ones: a
 * cookie planted by a sibling host (cookie tossing, e.g. with Path=/v1) is sent before the
 * user's own, and picking either could make the user act inside the planter's account.
 */
export function sessionTokenOf(header: string | undefined, name = SESSION_COOKIE): string {
  const values = new Set<string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.add(part.slice(eq + 1).trim());
  }
  return values.size === 1 ? [...values][0]! : '';
}

/** Secure when the request came over TLS or a trusted proxy said https (fastify's trustProxy). */
const isSecure = (req: FastifyRequest) => req.protocol === 'https';

/** The session cookie's name for this request: __Host-postlane_session over TLS, postlane_session otherwise. */
export const sessionCookieName = (req: FastifyRequest) => (isSecure(req) ? SECURE_SESSION_COOKIE : SESSION_COOKIE);

/** The request's session token (by the name its transport uses; see sessionTokenOf). */
export const requestSessionToken = (req: FastifyRequest) => sessionTokenOf(req.headers.cookie, sessionCookieName(req));

/** Over TLS: __Host- name, Secure, Path=/ and no Domain (all three are what the prefix demands). */
export function sessionCookie(req: FastifyRequest, token: string, maxAgeSeconds: number): string {
  return `${sessionCookieName(req)}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}${isSecure(req) ? '; Secure' : ''}`;
}

export function clearedCookie(req: FastifyRequest): string {
  return `${sessionCookieName(req)}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${isSecure(req) ? '; Secure' : ''}`;
}

/** The user as the API shows it (never the password hash). */
export const publicUser = (u: DashboardUser) => ({ username: u.username, role: u.role, account: u.account });

/** Whether the request carries a session cookie (and no Authorization header, which always wins). */
export const hasSessionCookie = (req: FastifyRequest) =>
  req.headers.authorization === undefined && readCookie(req.headers.cookie, sessionCookieName(req)) !== null;

/**
 * Authenticates a /v1 request by its session cookie: 401 for a forged, expired or ended session,
 * 403 csrf_required for a non-GET request without the session's X-CSRF-Token, 403 for an account
 * user naming another account. Returns the principal the routes see.
 */
export async function authenticateSession(
  req: FastifyRequest, sessions: DashboardSessions, accountExists: (name: string) => Promise<boolean>,
): Promise<ApiKeyRecord> {
  const token = requestSessionToken(req);
  const found = await sessions.authenticate(token);
  if (!found) throw new ApiError(401, 'invalid_session', 'The session is invalid or has ended: log in again');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameToken(sent, found.csrfToken)) {
      throw new ApiError(403, 'csrf_required', 'Send the session\'s CSRF token in the X-CSRF-Token header');
    }
  }
  const account = await accountOf(req, found.user, accountExists);
  return principalOf(found.user, account);
}

async function accountOf(req: FastifyRequest, user: DashboardUser, accountExists: (name: string) => Promise<boolean>): Promise<string> {
  const named = req.headers[ACCOUNT_HEADER];
  if (named === undefined) return user.account ?? DEFAULT_ACCOUNT;
  if (typeof named !== 'string' || !isValidAccountName(named)) throw new ApiError(400, 'invalid_account', 'X-Postlane-Account is not an account name');
  if (user.role === 'account') {
    if (named !== user.account) throw new ApiError(403, 'account_forbidden', 'This user sees only its own account');
    return named;
  }
  if (!(await accountExists(named))) throw new ApiError(404, 'account_not_found', 'No such account');
  return named;
}

/** The principal of a dashboard user acting for `account`: every scope, no limits of its own. */
export function principalOf(user: DashboardUser, account: string): ApiKeyRecord {
  return {
    id: `dashboard:${user.username}`, account, name: `dashboard user ${user.username}`, secretHash: '',
    scopes: [...API_SCOPES], limits: {}, createdAt: user.createdAt, lastUsedAt: null, revokedAt: null,
  };
}
