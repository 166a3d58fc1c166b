// Owns the API's route table: builds, from the relay's parts, the context the routes share (the
// HTTP submission path, the verifier, the DNS resolver, the limits), the /v1 routes, the public
// routes (unsubscribe, tracking) and the dashboard's sessions. index.ts imports this module only
// when the first request arrives (lazy-listener.ts), with fastify: a relay whose API nobody calls
// never loads the route modules and their zod schemas.
import { AccountCache } from '../accounts/account-cache.js';
import { ApiKeyCache } from '../accounts/api-key-cache.js';
import { LinkBase } from '../accounts/link-base.js';
import { statsRoutes } from './routes/stats.js';
import { breakerRoutes } from './routes/breakers.js';
import { providerRoutes } from './routes/providers.js';
import { listByProvider, type ThrottleView } from '../delivery/index.js';
import { sourceRoutes } from './routes/sources.js';
import { suppressionRoutes } from './routes/suppressions.js';
import { verifyRoutes } from './routes/verify.js';
import { createVerifier } from '../verify/index.js';
import { HeavyWork } from './heavy-work.js';
import { createResolver, type MxResolver } from '../delivery/index.js';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { QuotaService } from '../accounts/quota.js';
import type { MessageSigner } from '../domains/message-signer.js';
import { bounceSecretOf } from '../domains/bounce-address.js';
import type { Secrets } from '../events/secret-ring.js';
import { publicBaseUrl } from '../config/public-url.js';
import { unsubscribeRoutes } from './public/unsubscribe-routes.js';
import { trackingRoutes } from './public/tracking-routes.js';
import { TrackingRecorder } from '../events/tracking.js';
import { trackingSettings } from '../ingress/tracking-plan.js';
import { HttpSubmission } from '../ingress/http/submission.js';
import type { QueueStore } from '../store/store.js';
import type { RouteContext } from './routes/context.js';
import { domainRoutes } from './routes/domains.js';
import { eventRoutes } from './routes/events.js';
import { keyRoutes } from './routes/keys.js';
import { smtpUserRoutes } from './routes/smtp-users.js';
import { messageRoutes } from './routes/messages.js';
import { messageActionRoutes } from './routes/message-actions.js';
import { messageContentRoutes } from './routes/message-content.js';
import { accountRoutes } from './routes/accounts.js';
import { queueRoutes } from './routes/queue.js';
import { alertRoutes } from './routes/alerts.js';
import { webhookReplayRoutes } from './routes/webhook-replay.js';
import { suppressionCsvRoutes } from './routes/suppression-csv.js';
import { webhookRoutes } from './routes/webhooks.js';
import type { ApiRoute } from './route.js';
import type { AppDeps } from './server.js';
import { DashboardSessions, DEFAULT_SESSION_POLICY } from './dashboard/sessions.js';
import { DEFAULT_DASHBOARD_DIR } from './dashboard/static.js';
import type { AcceptDeps } from '../ingress/accept.js';
import type { RecordResolver } from '../domains/index.js';


const MAX_SCHEDULE_AHEAD_MS = 72 * 3_600_000;

export const apiRoutes = (ctx: RouteContext): ApiRoute[] =>
  [...messageRoutes(ctx), ...messageActionRoutes(ctx), ...messageContentRoutes(ctx), ...eventRoutes(ctx), ...keyRoutes(ctx), ...webhookRoutes(ctx), ...webhookReplayRoutes(ctx), ...domainRoutes(ctx), ...smtpUserRoutes(ctx), ...suppressionCsvRoutes(ctx), ...suppressionRoutes(ctx), ...accountRoutes(ctx), ...queueRoutes(ctx), ...alertRoutes(ctx), ...statsRoutes(ctx), ...breakerRoutes(ctx), ...providerRoutes(ctx), ...sourceRoutes(ctx), ...verifyRoutes(ctx)];

export interface ApiDeps {
  config: Readonly<Config>;
  store: QueueStore;
  clock: Clock;
  logger: Logger;
  tls: { cert: string; key: string };
  signer?: MessageSigner;
  quota?: Pick<QuotaService, 'charge'>;
  onQueued?: AcceptDeps['onQueued'];
  /** MAC keys of the VERP return-path, current first (SmtpIngressDeps.bounceSecrets). */
  bounceSecrets: Secrets;
  /** MAC keys of unsubscribe and tracking links; absent: no one-click unsubscribe or tracking (fields, links or endpoints). */
  linkSecrets?: Secrets;
  /** The process's account cache (quota limits, tracking domains); one of its own if absent. */
  accounts?: AccountCache;
  /** DNS for POST /v1/verify; createResolver(config.dns) if absent. */
  resolver?: MxResolver;
  /** This node's traffic-shaping state (the scheduler's throttles()), for GET /v1/queue/providers. */
  throttles?: () => ThrottleView[];
  /** The built dashboard; dashboard/dist of this installation if absent. */
  dashboardDir?: string;
  /** Each API key looked up in the store, found or not (postlane_api_key_lookups_total). */
  onKeyLookup?: (found: boolean) => void;
  /** Each request answered 429 by the failed-authentication throttle (postlane_api_auth_throttled_total). */
  onAuthThrottled?: () => void;
  /** This node's id, kept with each message the API accepts (AcceptDeps.nodeId). */
  nodeId?: string;
}

/**
 * How long this process reuses an API key record (accounts/api-key-cache.ts): a key revoked by the
 * CLI or on another node keeps working here for at most this long (docs/api.md).
 */
const API_KEY_CACHE_MS = 5000;

/** The routes, public routes, dashboard and key lookup of the API of `deps` (config.http is on). */
export function buildRouteTable(deps: ApiDeps, http: Exclude<Config['http'], false>): Pick<AppDeps, 'routes' | 'publicRoutes' | 'dashboard' | 'keys'> {
  const { config, store, clock, logger } = deps;
  const accounts = deps.accounts ?? new AccountCache(store, clock);
  const keys = new ApiKeyCache(store, clock, API_KEY_CACHE_MS, deps.onKeyLookup);
  const links = new LinkBase(publicBaseUrl(config), accounts, logger);
  const submission = new HttpSubmission({
    store, hostname: config.hostname, clock, logger, quota: deps.quota ?? new QuotaService(store, clock, accounts), signer: deps.signer,
    bounceLabel: config.domains.bounceDomain?.label ?? null,
    bounceSecret: bounceSecretOf(config.domains.bounceDomain?.label, deps.bounceSecrets),
    splitForReturnPath: config.domains.bounceDomain?.perRecipient === true,
    unsubscribe: deps.linkSecrets ? {
      secrets: deps.linkSecrets, links, bounceLabel: config.domains.bounceDomain?.label ?? null, signer: deps.signer, logger,
    } : undefined,
    tracking: deps.linkSecrets ? trackingSettings(config, deps.linkSecrets, links, logger) : undefined,
    maxMessageSize: config.limits.maxMessageSize, onQueued: deps.onQueued, ...(deps.nodeId ? { nodeId: deps.nodeId } : {}),
  });
  const configured = createResolver(config.dns);
  const resolver = deps.resolver ?? configured;
  const ctx: RouteContext = {
    store, submission, clock, hostname: config.hostname, domains: config.domains, egress: config,
    allowPrivateWebhooks: config.webhooks.allowPrivateDestinations,
    maxWebhooksPerAccount: config.webhooks.maxPerAccount,
    providers: { list: (now) => listByProvider(store, config, now), throttles: deps.throttles ?? (() => []) },
    verifier: createVerifier({ config, store, resolver, clock }),
    heavyWork: new HeavyWork(http.heavyWorkPerAccountPerMinute, clock),
    dnsResolver: isRecordResolver(resolver) ? resolver : configured, certificatePem: deps.tls.cert || null, keyCache: keys,
    // The retry window (delivery.maxQueueTime) counts from acceptance: a scheduled send keeps at least half of it.
    composeLimits: { maxRecipients: config.limits.maxRecipients, maxLineLength: config.limits.maxLineLength, maxScheduleAheadMs: Math.min(MAX_SCHEDULE_AHEAD_MS, config.delivery.maxQueueTime / 2) },
  };
  return {
    keys,
    routes: apiRoutes(ctx),
    publicRoutes: deps.linkSecrets ? publicRoutes(deps, deps.linkSecrets) : [],
    dashboard: http.dashboard ? {
      // Dashboard logins are limited like SMTP AUTH, with its settings (smtp.auth), per address and per user name.
      sessions: new DashboardSessions(store, clock, config.smtp.auth, DEFAULT_SESSION_POLICY),
      policy: DEFAULT_SESSION_POLICY, dir: deps.dashboardDir ?? DEFAULT_DASHBOARD_DIR,
    } : null,
  };
}

const isRecordResolver = (r: MxResolver): r is MxResolver & RecordResolver =>
  typeof (r as Partial<RecordResolver>).resolveTxt === 'function' && typeof (r as Partial<RecordResolver>).resolveCname === 'function';

/** One-click unsubscribe and open/click tracking, reached without an API key. */
function publicRoutes(deps: ApiDeps, secrets: Secrets): NonNullable<AppDeps['publicRoutes']> {
  const { store, clock, logger, config } = deps;
  const recorder = new TrackingRecorder(store, clock);
  return [
    (app) => unsubscribeRoutes(app, { store, secrets, clock, logger }),
    (app) => trackingRoutes(app, { recorder, secrets, clock, logger, eventsPerIpPerMinute: config.tracking.eventsPerIpPerMinute }),
  ];
}
