// Owns the HTTP application of the API (fastify; the socket and TLS are lazy-listener.ts's): body
// limit, bearer authentication and scope checks (before the body is read; failed authentications
// throttled per client address: api-auth-throttle.ts), the per-account cap on heavy reads in flight
// (heavy-work.ts HeavyReads), request validation
// with the routes' zod schemas, the Idempotency-Key wrapper, the error format
// {"error":{code,message,fields}}, one `http.request` log line per request (never the
// Authorization header or cookies), and the system routes /healthz, /readyz (health.ts) and
// /openapi.json. With the dashboard on (dashboard/), a session cookie is accepted instead of a
// bearer key (with a CSRF check on non-GET requests), the login routes are mounted, and GETs the
// API has no route for may be pages of the built dashboard. The routes themselves are data
// (routes/*.ts, gathered by route-table.ts). /metrics is not served here: it names every account,
// so it has a listener of its own (metrics-server.ts).
import type { Server } from 'node:http';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ApiKeyAuthenticator, hasScope, type KeyLookup } from '../accounts/api-keys.js';
import { isQueueUnavailable } from '../errors.js';
import { ApiError, zodFields } from '../ingress/http/api-error.js';
import type { ApiKeyRecord } from '../store/platform-store.js';
import type { QueueStore } from '../store/store.js';
import { requestHash, withIdempotency } from './idempotency.js';
import { ApiAuthThrottle, type ApiAuthLimits } from './api-auth-throttle.js';
import type { HeavyReads } from './heavy-work.js';
import { mountHealthRoutes } from './health.js';
import { buildOpenApi, type SystemRoute } from './openapi.js';
import type { ApiResponse, ApiRoute } from './route.js';
import { authenticateSession, hasSessionCookie } from './dashboard/cookie-auth.js';
import { DASHBOARD_SESSION_ROUTES, mountDashboardSessionRoutes } from './dashboard/session-routes.js';
import type { DashboardSessions, SessionPolicy } from './dashboard/sessions.js';
import { SECURITY_HEADERS, serveDashboard } from './dashboard/static.js';
import { listenLazily, type LazyApp } from './lazy-listener.js';

export interface HttpApiDeps {
  host: string;
  port: number;
  bodyLimit: number;
  trustProxy: boolean | string[];
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string } | null;
  store: QueueStore;
  /** Where API keys are looked up: an ApiKeyCache in front of the store; absent: the store itself. */
  keys?: KeyLookup;
  routes: ApiRoute[];
  clock: Clock;
  logger: Logger;
  version?: string;
  /** Routes reached without an API key (one-click unsubscribe, tracking), each in its own fastify scope. */
  publicRoutes?: ((app: FastifyInstance) => Promise<void>)[];
  /** The web dashboard (http.dashboard): session logins, cookie authentication, the built app in `dir`. */
  dashboard?: { sessions: DashboardSessions; policy: SessionPolicy; dir: string } | null;
  /** http.authFailures: failed bearer authentications per client address before 429 (api-auth-throttle.ts); absent: not throttled. */
  authFailures?: ApiAuthLimits;
  /** Called for each request refused by that throttle (postlane_api_auth_throttled_total). */
  onAuthThrottled?: () => void;
  /** http.heavyReadsPerAccount: the cap on the routes marked heavyRead; absent: none. */
  heavyReads?: HeavyReads;
}

/** What the application needs; the listener's part (host, port, tls) is lazy-listener.ts's. */
export type AppDeps = Omit<HttpApiDeps, 'host' | 'port' | 'tls'>;

export interface HttpApi {
  address: { host: string; port: number };
  close(): Promise<void>;
}

/** The application behind the listener (lazy-listener.ts builds it at the first request). */
export interface HttpApp extends LazyApp {
  /** Method and URL of every route fastify registered (for the OpenAPI completeness test). */
  registered: { method: string; url: string }[];
}

declare module 'fastify' {
  interface FastifyRequest { apiKey: ApiKeyRecord | null }
  interface FastifyContextConfig { scope?: string }
}

/** Binds the listener and builds the application at once (the relay builds it at the first request: index.ts). */
export async function startHttpApi(deps: HttpApiDeps): Promise<HttpApi & Pick<HttpApp, 'registered'>> {
  const listener = await listenLazily({ host: deps.host, port: deps.port, tls: deps.tls ?? null, logger: deps.logger, build: (server) => buildHttpApp(deps, server) });
  const app = await listener.app();
  return { address: listener.address, registered: app.registered, close: listener.close };
}

/** The fastify application of `deps`, answering the requests of `server` (already bound). */
export async function buildHttpApp(deps: AppDeps, server: Server): Promise<HttpApp> {
  const { logger } = deps;
  let handle: HttpApp['handle'] | null = null;
  const app = Fastify({
    logger: false, bodyLimit: deps.bodyLimit, trustProxy: deps.trustProxy,
    exposeHeadRoutes: false, return503OnClosing: true, requestIdHeader: false,
    routerOptions: { maxParamLength: 2100 }, // link tokens (/u/…) are long
    serverFactory: (handler) => { handle = handler; return server; },
  }) as unknown as FastifyInstance;
  const registered: HttpApp['registered'] = [];
  app.addHook('onRoute', (r) => { for (const m of [r.method].flat()) registered.push({ method: m, url: r.url }); });
  app.decorateRequest('apiKey', null);
  // The API takes JSON only: without fastify's built-in text/plain parser, any other body is 415.
  app.removeContentTypeParser('text/plain');
  const keys: KeyLookup = deps.keys ?? deps.store;
  const authenticator = new ApiKeyAuthenticator(keys, deps.clock, (err) =>
    logger.warn({ event: 'http.key_touch_failed', err: (err as Error)?.message }, 'could not record an API key\'s last use'));
  const throttle = deps.authFailures
    ? new ApiAuthThrottle(deps.authFailures, deps.clock, authenticator, (id) => keys.isCached?.(id) ?? false, deps.onAuthThrottled)
    : null;
  const auth: BearerCheck = throttle ? (token, ip) => throttle.authenticate(token, ip) : (token) => authenticator.authenticate(token);

  app.addHook('onResponse', async (req, res) => {
    logger.info({
      // secret31: a tracking or unsubscribe path is its token, and a click token carries the link
      // (a password reset's, a magic login's) and the recipient: such a path is logged as its route.
      event: 'http.request', method: req.method, route: req.routeOptions.url ?? null,
      path: /^\/(t|u)\//.test(req.url) ? req.routeOptions.url ?? null : req.url.split('?')[0],
      status: res.statusCode, ms: Math.round(res.elapsedTime), ip: req.ip, account: req.apiKey?.account ?? null, keyId: req.apiKey?.id ?? null,
    }, 'http request');
  });
  app.setErrorHandler((err, req, res) => sendError(res, toApiError(err, logger, req)));
  app.setNotFoundHandler(async (req, res) => {
    const dashboard = deps.dashboard ? await serveDashboard(req, res, deps.dashboard.dir) : 'not_found';
    if (dashboard === 'served') return res;
    if (dashboard === 'not_built') {
      res.headers(SECURITY_HEADERS);
      return sendError(res, new ApiError(404, 'dashboard_not_built', 'The dashboard was not built: run npm run build (it builds dashboard/dist)'));
    }
    return sendError(res, new ApiError(404, 'not_found', 'No such route'));
  });

  for (const route of deps.routes) mountRoute(app, route, deps, auth);
  mountSystemRoutes(app, deps);
  if (deps.dashboard) mountDashboardSessionRoutes(app, deps.dashboard.sessions, Math.floor(deps.dashboard.policy.lifetimeMs / 1000));
  for (const mount of deps.publicRoutes ?? []) await app.register(async (scope) => mount(scope));

  await app.ready();
  const handler = handle as HttpApp['handle'] | null;
  if (!handler) throw new Error('fastify did not call its serverFactory');
  return { handle: handler, registered, close: () => app.close() };
}

/** A bearer token from a client address: its key, null (401), or a 429 ApiError (throttled). */
type BearerCheck = (token: string, ip: string) => Promise<ApiKeyRecord | null>;

function mountRoute(app: FastifyInstance, route: ApiRoute, deps: AppDeps, auth: BearerCheck) {
  const heavyReads = route.heavyRead ? deps.heavyReads ?? null : null;
  app.route({
    method: route.method, url: route.url,
    // Authenticate before the body is read: an anonymous client cannot make us parse 40 MB.
    onRequest: async (req) => {
      req.apiKey = deps.dashboard && hasSessionCookie(req)
        ? await authenticateCookie(req, route, deps)
        : await authenticate(req, route, auth, deps.logger);
    },
    handler: heavyReads
      ? async (req, res) => {
        const release = heavyReads.begin(req.apiKey!.account);
        try { return send(res, await answer(route, req, deps)); } finally { release(); }
      }
      : async (req, res) => send(res, await answer(route, req, deps)),
  });
}

/**
 * The route's answer to `req`. Not async, so that neither it nor fastify keeps the request's parsed
 * body while the route waits for the store: fastify's copy is dropped once validated (the
 * idempotency hash is taken first), and a route that reads its body before its first await (the send
 * routes) lets the request wait without it. Held through the store's round trips, a 3 KB body
 * outlived two scavenges and was promoted to the old space (bench/README.md, twenty-seventh session, api27).
 */
function answer(route: ApiRoute, req: FastifyRequest, deps: AppDeps): Promise<ApiResponse> {
  const key = req.apiKey!;
  const input = {
    key, clientIp: req.ip, secure: req.protocol === 'https', tls: tlsOf(req),
    params: parse(route.params, req.params, 'invalid_path', 404),
    query: parse(route.query, req.query, 'invalid_query', 400),
    body: parse(route.body, req.body, 'validation_failed', 422),
  };
  const idemKey = req.headers['idempotency-key'];
  const hash = route.idempotent && typeof idemKey === 'string' ? requestHash(route.method, req.url.split('?')[0]!, req.body) : null;
  req.body = undefined;
  return hash !== null
    ? withIdempotency(deps.store, deps.clock, key.account, idemKey as string, hash, () => route.handler(input), route.secretFields)
    : route.handler(input);
}

async function authenticate(req: FastifyRequest, route: ApiRoute, auth: BearerCheck, logger: Logger): Promise<ApiKeyRecord> {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer[ ]+(\S+)$/i.exec(header) : null;
  if (!m) throw new ApiError(401, 'unauthorized', 'An API key is required: Authorization: Bearer <key>');
  let key: ApiKeyRecord | null;
  try {
    key = await auth(m[1]!, req.ip);
  } catch (err) {
    if (err instanceof ApiError) throw err; // 429: throttled
    logger.error({ event: 'http.auth_failed', err: (err as Error)?.message }, 'API key lookup failed');
    throw new ApiError(503, 'unavailable', 'Temporarily unavailable, try again later', [], 5);
  }
  if (!key) throw new ApiError(401, 'invalid_key', 'The API key is invalid or revoked');
  if (!hasScope(key, route.scope)) {
    req.apiKey = key;
    throw new ApiError(403, 'insufficient_scope', `This API key lacks the ${route.scope} scope`);
  }
  return key;
}

/** The dashboard session's principal (every scope), or 401/403 (cookie-auth.ts); 503 when the store fails. */
async function authenticateCookie(req: FastifyRequest, route: ApiRoute, deps: AppDeps): Promise<ApiKeyRecord> {
  try {
    return await authenticateSession(req, deps.dashboard!.sessions, async (name) => (await deps.store.getAccount(name)) !== null);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    deps.logger.error({ event: 'http.auth_failed', route: route.url, err: (err as Error)?.message }, 'dashboard session lookup failed');
    throw new ApiError(503, 'unavailable', 'Temporarily unavailable, try again later', [], 5);
  }
}

/** Protocol and cipher of the request's TLS session; null over plain HTTP. */
function tlsOf(req: FastifyRequest): { protocol: string; cipher: string } | null {
  const socket = req.raw.socket as Partial<TLSSocket>;
  const protocol = socket.getProtocol?.();
  return protocol ? { protocol, cipher: socket.getCipher?.()?.name ?? 'unknown' } : null;
}

function parse(schema: ApiRoute['body'], value: unknown, code: string, status: number): unknown {
  if (!schema) return undefined;
  const r = schema.safeParse(value ?? (status === 422 ? undefined : {}));
  if (r.success) return r.data;
  if (status === 404) throw new ApiError(404, 'not_found', 'Not found');
  throw new ApiError(status, code, status === 422 ? 'The request has invalid fields' : 'The query is invalid', zodFields(r.error));
}

/**
 * On every JSON answer of the API, errors included (a route's own headers win): a browser never
 * sniffs it into HTML nor frames it, nothing renders from it, and no cache between the client and
 * the relay keeps an account's data (attack31's left open; the dashboard's files carry their own).
 */
const API_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
} as const;

function send(res: FastifyReply, out: ApiResponse) {
  res.headers(API_HEADERS);
  for (const [k, v] of Object.entries(out.headers ?? {})) res.header(k, v);
  res.code(out.status);
  return out.status === 204 ? res.send() : res.send(out.body ?? {});
}

function sendError(res: FastifyReply, err: ApiError) {
  res.headers(API_HEADERS);
  if (err.status === 401 || err.code === 'too_many_attempts') closeUnlessBodyArrives(res);
  if (err.status === 401 && err.code !== 'invalid_credentials' && err.code !== 'invalid_session') res.header('www-authenticate', `Bearer realm="postlane"${err.code === 'invalid_key' ? ', error="invalid_token"' : ''}`);
  if (err.status === 403 && err.code !== 'csrf_required' && err.code !== 'account_forbidden') res.header('www-authenticate', 'Bearer realm="postlane", error="insufficient_scope"');
  if (err.retryAfterSeconds !== null) res.header('retry-after', String(err.retryAfterSeconds));
  res.code(err.status).send(err.toBody());
}

/** How long after a 401 the rest of an unread request body may take before the connection is closed. */
const UNREAD_BODY_GRACE_MS = 1000;

/**
 * Refused before its body was read (no key, a forged, revoked or expired one, or throttled): once the answer is
 * sent, Node reads and discards the rest of the body to keep the connection, which an anonymous
 * client could drip forever (attack30, docs/design/security.md). A body that has not arrived
 * UNREAD_BODY_GRACE_MS after the answer is not waited for: the connection is closed. A small body
 * (already here) keeps its keep-alive connection.
 */
function closeUnlessBodyArrives(res: FastifyReply): void {
  const req = res.request.raw;
  if (req.complete) return;
  res.raw.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => { if (!req.complete) req.socket.destroy(); }, UNREAD_BODY_GRACE_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
  });
}

/** fastify's own errors (body parsing, limits) and unexpected ones, as API errors. */
function toApiError(err: unknown, logger: Logger, req: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new ApiError(413, 'payload_too_large', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new ApiError(415, 'unsupported_media_type', 'Send JSON: Content-Type: application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new ApiError(400, 'invalid_json', 'The JSON body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return new ApiError(400, 'invalid_json', 'The body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return new ApiError(400, 'bad_request', 'Invalid Content-Length');
    default: break;
  }
  if (e.statusCode === 400 && err instanceof SyntaxError) return new ApiError(400, 'invalid_json', 'The body is not valid JSON');
  if (isQueueUnavailable(err)) return new ApiError(503, 'unavailable', 'Temporarily unavailable, try again later', [], 5);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new ApiError(e.statusCode, 'bad_request', 'The request is invalid');
  logger.error({ event: 'http.error', method: req.method, route: req.routeOptions.url ?? null, err: e.message ?? String(err) }, 'request failed');
  return new ApiError(500, 'internal', 'Internal error');
}

const SYSTEM_ROUTES: SystemRoute[] = [
  { method: 'GET', url: '/healthz', summary: 'The process is up', contentType: 'application/json' },
  { method: 'GET', url: '/readyz', summary: 'The queue store answers and can write (503 otherwise)', contentType: 'application/json' },
  { method: 'GET', url: '/openapi.json', summary: 'This document', contentType: 'application/json' },
];

function mountSystemRoutes(app: FastifyInstance, deps: AppDeps) {
  const doc = buildOpenApi(deps.routes, [...SYSTEM_ROUTES, ...(deps.dashboard ? DASHBOARD_SESSION_ROUTES : [])], { version: deps.version ?? '1' });
  app.get('/openapi.json', async () => doc);
  mountHealthRoutes(app, deps.store);
}
