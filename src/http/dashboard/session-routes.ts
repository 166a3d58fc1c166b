// Owns the dashboard's login routes (issue 12, dashboard contract): POST /v1/dashboard/login,
// GET /v1/dashboard/session and POST /v1/dashboard/logout. They are reached without an API key
// (the session cookie is what they hand out and take back) and are documented in the OpenAPI
// document as the system routes below. Login takes JSON only (a cross-site form cannot post it
// without a CORS preflight, which is never granted), so a login CSRF is not possible either.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod/v4';
import { ApiError, zodFields } from '../../ingress/http/api-error.js';
import type { SystemRoute } from '../openapi.js';
import { CSRF_HEADER, clearedCookie, publicUser, requestSessionToken, sessionCookie } from './cookie-auth.js';
import { sameToken, type DashboardSessions } from './sessions.js';

const LoginBody = z.object({
  username: z.string().min(1).max(128),
  password: z.string().min(1).max(1024),
}).strict().meta({ id: 'DashboardLogin' });

const DashboardUserSchema = z.object({
  username: z.string(), role: z.enum(['admin', 'account']), account: z.string().nullable(),
}).meta({ id: 'DashboardUser' });
const SessionAnswer = z.object({ user: DashboardUserSchema, csrfToken: z.string() }).meta({ id: 'DashboardSession' });

export const DASHBOARD_SESSION_ROUTES: SystemRoute[] = [
  {
    method: 'POST', url: '/v1/dashboard/login', tag: 'dashboard', contentType: 'application/json', body: LoginBody,
    summary: 'Log a dashboard user in: sets the HttpOnly session cookie postlane_session (__Host-postlane_session over TLS) and answers the CSRF token that non-GET requests must send as X-CSRF-Token',
    responses: {
      200: { description: 'logged in', schema: SessionAnswer }, 401: { description: 'invalid_credentials' },
      422: { description: 'validation_failed' }, 429: { description: 'too many failures from this address or for this user (Retry-After)' },
    },
  },
  {
    method: 'GET', url: '/v1/dashboard/session', tag: 'dashboard', contentType: 'application/json', security: 'cookie',
    summary: 'The logged-in dashboard user and the session\'s CSRF token',
    responses: { 200: { description: 'the session', schema: SessionAnswer }, 401: { description: 'no live session' } },
  },
  {
    method: 'POST', url: '/v1/dashboard/logout', tag: 'dashboard', contentType: 'application/json', security: 'cookie',
    summary: 'End the session (X-CSRF-Token required) and clear the cookie',
    responses: { 204: { description: 'logged out' }, 403: { description: 'csrf_required' } },
  },
];

/** These routes are reached before any authentication: an anonymous client may not make us read more. */
const BODY_LIMIT = 4096;

export function mountDashboardSessionRoutes(app: FastifyInstance, sessions: DashboardSessions, lifetimeSeconds: number) {
  const tokenOf = (req: FastifyRequest) => requestSessionToken(req);

  app.post('/v1/dashboard/login', { bodyLimit: BODY_LIMIT }, async (req, res) => {
    const parsed = LoginBody.safeParse(req.body);
    if (!parsed.success) throw new ApiError(422, 'validation_failed', 'The request has invalid fields', zodFields(parsed.error));
    const result = await sessions.login(parsed.data.username, parsed.data.password, req.ip);
    if (!result.ok && result.reason === 'locked') {
      throw new ApiError(429, 'too_many_attempts', 'Too many failed logins: try again later', [], result.retryAfterSeconds);
    }
    if (!result.ok) throw new ApiError(401, 'invalid_credentials', 'Wrong user name or password');
    res.header('set-cookie', sessionCookie(req, result.token, lifetimeSeconds)).header('cache-control', 'no-store');
    return { user: publicUser(result.user), csrfToken: result.csrfToken };
  });

  app.get('/v1/dashboard/session', async (req, res) => {
    const found = await sessions.authenticate(tokenOf(req));
    if (!found) throw new ApiError(401, 'invalid_session', 'Not logged in');
    res.header('cache-control', 'no-store');
    return { user: publicUser(found.user), csrfToken: found.csrfToken };
  });

  app.post('/v1/dashboard/logout', { bodyLimit: BODY_LIMIT }, async (req, res) => {
    const token = tokenOf(req);
    const found = await sessions.authenticate(token);
    if (found) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameToken(sent, found.csrfToken)) {
        throw new ApiError(403, 'csrf_required', 'Send the session\'s CSRF token in the X-CSRF-Token header');
      }
      await sessions.logout(token);
    }
    return sendLoggedOut(req, res);
  });
}

const sendLoggedOut = (req: FastifyRequest, res: FastifyReply) => res.header('set-cookie', clearedCookie(req)).code(204).send();
