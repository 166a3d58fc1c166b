// What the route handlers are given: the store (account-scoped reads only), the HTTP submission
// path of the ingress stage, the address verifier, and the few settings the answers need.
import type { ApiKeyCache } from '../../accounts/api-key-cache.js';
import type { Clock } from '../../clock.js';
import type { Config, DomainsConfig } from '../../config/schema.js';
import type { ComposeLimits } from '../../ingress/http/compose.js';
import type { HttpSubmission } from '../../ingress/http/submission.js';
import type { QueueStore } from '../../store/store.js';
import type { Verifier } from '../../verify/index.js';
import type { HeavyWork } from '../heavy-work.js';
import type { ProviderRow, ThrottleView } from '../../delivery/index.js';
import type { RecordResolver } from '../../domains/index.js';

export interface RouteContext {
  store: QueueStore;
  submission: HttpSubmission;
  composeLimits: ComposeLimits;
  clock: Clock;
  hostname: string;
  domains: DomainsConfig;
  /** webhooks.allowPrivateDestinations: webhook URLs may name non-public hosts. */
  allowPrivateWebhooks: boolean;
  /** webhooks.maxPerAccount: webhooks an account may create through the API. */
  maxWebhooksPerAccount: number;
  /** Rows of bulk work per account per minute (http.heavyWorkPerAccountPerMinute): replay, bulk actions, suppression add/import/export. */
  heavyWork: HeavyWork;
  /** POST /v1/verify (src/verify/). */
  verifier: Verifier;
  /** GET /v1/queue/providers: the per-provider queue and this node's throttle state; absent: 503. */
  providers?: { list: (now: number) => Promise<ProviderRow[]>; throttles: () => ThrottleView[] };
  /** egress.* and hostname: the configured sources /v1/sources shows with their stored state. */
  egress: Pick<Config, 'egress' | 'hostname'>;
  /** DNS for the domain checks (GET /v1/domains/:name/check, /v1/alerts): the configured servers. */
  dnsResolver: RecordResolver;
  /** The relay's TLS certificate (PEM) for /v1/alerts' expiry warning; null: unknown. */
  certificatePem: string | null;
  /** The API key cache of this process (accounts/api-key-cache.ts): a key revoked here is forgotten at once. */
  keyCache?: Pick<ApiKeyCache, 'forget'>;
}
