// The public API of the ingress stage: start the SMTP listeners (submission, submissions, alt,
// mx) that accept mail into the queue, and stop them. Everything else in ingress/ is internal.
import { AccountCache } from '../accounts/account-cache.js';
import { LinkBase } from '../accounts/link-base.js';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import type { Config, ListenerConfig } from '../config/schema.js';
import type { QueueStore } from '../store/store.js';
import type { MessageSigner } from '../domains/message-signer.js';
import { bounceSecretOf } from '../domains/bounce-address.js';
import type { Secrets } from '../events/secret-ring.js';
import { publicBaseUrl } from '../config/public-url.js';
import { Acceptor, type AcceptDeps } from './accept.js';
import { trackingSettings } from './tracking-plan.js';
import { AuthLimiter } from './smtp/auth-limiter.js';
import { ConnectionLimits, SmtpListener } from './smtp/listener.js';
import { networkMatcher } from '../net/networks.js';
import type { AuthGrant, ListenerName } from './smtp/session.js';
import type { QuotaCharger } from './smtp/connection.js';
import type { ProxyPolicy } from './smtp/proxy-handshake.js';

export interface SmtpIngressDeps {
  config: Readonly<Config>;
  store: QueueStore;
  tls: { cert: string; key: string };
  /** Checks SMTP AUTH credentials; a rejection is answered 454 4.7.0 (temporary). */
  /**
   * Checks credentials: false = wrong; true = right, any sender domain; a grant = right, and MAIL FROM
   * and From: are limited to the grant's domains (src/domains/authorisation.ts).
   */
  authenticate: (user: string, password: string) => Promise<boolean | AuthGrant>;
  /**
   * Quotas (src/accounts/quota.ts): each RCPT of a submission is charged to the user's account
   * (relayNetworks: 'default') and the user's own limits; absent: no quotas.
   */
  quota?: QuotaCharger;
  /** DKIM-signs relayed mail at acceptance (src/domains/message-signer.ts); absent: unsigned. */
  signer?: MessageSigner;
  logger: Logger;
  clock?: Clock;
  /** Called after a message was committed by store.put() (e.g. to wake the delivery scheduler). */
  onQueued?: AcceptDeps['onQueued'];
  /**
   * MAC keys of the VERP return-path (src/domains/bounce-address.ts), current first; required
   * (non-empty) when domains.bounceDomain is set, else unused.
   */
  bounceSecrets: Secrets;
  /** MAC keys of unsubscribe and tracking links; absent: no one-click unsubscribe fields, no tracking. */
  linkSecrets?: Secrets;
  /** The process's account cache (quota limits, tracking domains); one of its own if absent. */
  accounts?: AccountCache;
  /** This node's id, kept with each accepted message (AcceptDeps.nodeId). */
  nodeId?: string;
}

export interface SmtpIngress {
  /** The bound address of each enabled listener (the real port when the config said 0). */
  addresses: Record<string, { host: string; port: number }>;
  /**
   * Stop accepting connections; idle sessions get 421 4.3.2, sessions in a transaction may finish
   * it within graceMs (default 5 s); then every remaining connection is destroyed.
   */
  close(graceMs?: number): Promise<void>;
}

const LISTENERS: readonly ListenerName[] = ['submission', 'submissions', 'alt', 'mx'];
const DEFAULT_CLOSE_GRACE_MS = 5000;
/** A load balancer sends the PROXY header at once; a peer that has not within this is closed. */
const PROXY_HEADER_TIMEOUT_MS = 5000;

function proxyPolicy(setting: ListenerConfig['proxyProtocol'], commandTimeoutMs: number): ProxyPolicy | null {
  if (setting === false) return null;
  return { isTrusted: networkMatcher(setting.trusted), required: setting.required, timeoutMs: Math.min(PROXY_HEADER_TIMEOUT_MS, commandTimeoutMs) };
}

export async function startSmtpIngress(deps: SmtpIngressDeps): Promise<SmtpIngress> {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const secureContext = tls.createSecureContext({ cert: deps.tls.cert, key: deps.tls.key, minVersion: 'TLSv1.2' });
  const bounceLabel = config.domains.bounceDomain?.label ?? null;
  const bounceSecret = bounceSecretOf(bounceLabel, deps.bounceSecrets);
  const links = new LinkBase(publicBaseUrl(config), deps.accounts ?? new AccountCache(deps.store, clock), logger);
  const unsubscribe = deps.linkSecrets ? { secrets: deps.linkSecrets, links, bounceLabel, signer: deps.signer, logger } : undefined;
  const tracking = deps.linkSecrets ? trackingSettings(config, deps.linkSecrets, links, logger) : undefined;
  const acceptor = new Acceptor({
    store: deps.store, hostname: config.hostname, clock, logger, onQueued: deps.onQueued, signer: deps.signer, bounceLabel, bounceSecret, unsubscribe, tracking,
    splitForReturnPath: config.domains.bounceDomain?.perRecipient === true, maxMessageBytes: config.limits.maxMessageSize, ...(deps.nodeId ? { nodeId: deps.nodeId } : {}),
  });
  const authLimiter = new AuthLimiter(config.smtp.auth, clock);
  const limits = new ConnectionLimits(config.smtp.maxConnections, config.smtp.maxConnectionsPerIp, () => clock.now());
  const isRelayNetwork = networkMatcher(config.smtp.relayNetworks);
  const localDomains = new Set([config.hostname, ...config.localDomains].map((d) => d.toLowerCase()));
  const listeners: SmtpListener[] = [];
  const addresses: SmtpIngress['addresses'] = {};
  try {
    for (const name of LISTENERS) {
      const bind = config.smtp[name];
      if (bind === false) continue;
      const listener = new SmtpListener({
        name, limits, logger, isRelayNetwork,
        proxy: proxyPolicy(bind.proxyProtocol, config.smtp.commandTimeout),
        connection: {
          session: {
            listener: name, hostname: config.hostname, banner: config.smtp.banner, localDomains, bounceLabel,
            maxMessageSize: config.limits.maxMessageSize, maxRecipients: config.limits.maxRecipients,
            maxBadCommands: config.smtp.maxBadCommands, quotas: deps.quota !== undefined,
          },
          secureContext, acceptor, authLimiter, authenticate: deps.authenticate, quota: deps.quota, logger,
          timeouts: { commandMs: config.smtp.commandTimeout, dataMs: config.smtp.dataTimeout, preAuthMs: config.smtp.preAuthTimeout },
          limits: { maxMessageSize: config.limits.maxMessageSize, maxLineLength: config.limits.maxLineLength },
        },
      });
      listeners.push(listener);
      const address = await listener.listen(bind.host, bind.port);
      addresses[name] = address;
      logger.info({ event: 'smtp.listening', listener: name, host: address.host, port: address.port }, `SMTP ${name} listening`);
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close(0)));
    throw err;
  }
  return {
    addresses,
    close: async (graceMs = DEFAULT_CLOSE_GRACE_MS) => {
      await Promise.all(listeners.map((l) => l.close(graceMs)));
    },
  };
}
