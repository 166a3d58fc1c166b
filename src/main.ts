// Wiring only: config → store → TLS → ingress + delivery → signals. Nothing here owns state;
// each stage owns its own (see docs/ARCHITECTURE.md).
import fs from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { Config } from './config/schema.js';
import { hostnameProblem } from './config/hostname.js';
import { createLogger } from './events/log.js';
import { openStore } from './store/open-store.js';
import type { QueueStore } from './store/store.js';
import { loadOrCreateTls } from './tls/certificates.js';
import { startSmtpIngress } from './ingress/index.js';
import { checkSourcesAtStart, DeliveryScheduler } from './delivery/index.js';
import { verifyPassword } from './users/password.js';
import { systemClock } from './clock.js';
import { MessageSigner } from './domains/message-signer.js';
import { AccountCache } from './accounts/account-cache.js';
import { QuotaService } from './accounts/quota.js';
import { WebhookDispatcher } from './events/webhooks.js';
import type { OutcomeObserver } from './delivery/run-job.js';
import { SecretRing } from './events/secret-ring.js';
import { InboundReports } from './events/inbound-reports.js';
import { startHousekeeping } from './housekeeping.js';
import { TlsOutcomeRecorder } from './tlsrpt/outcomes.js';
import { TlsReporter } from './tlsrpt/reporter.js';
import { createResolver } from './delivery/resolver.js';
import { ConfigError } from './errors.js';

export interface Relay {
  store: QueueStore;
  nodeId: string;
  addresses: Record<string, { host: string; port: number }>;
  stop(): Promise<void>;
}

const SHUTDOWN_DELIVERY_GRACE_MS = 20_000;
/** Exit status when the queue store died under the relay (EX_IOERR), after this delay (every call fails meanwhile). */
export const EXIT_STORE_DEAD = 74;
const STORE_DEAD_EXIT_DELAY_MS = 500;

/** `onStoreDead`: the queue store can no longer be used (logged by the store); runRelay exits. */
export async function startRelay(config: Readonly<Config>, logger = createLogger(config.log.level), onStoreDead?: () => void): Promise<Relay> {
  await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 }); // secret31: was 0750 (group could list it)
  // The relay's name (config), not the OS short name; the suffix keeps ids unique where nodes share a name and a pid (containers).
  const nodeId = `${config.hostname}:${process.pid}:${randomBytes(2).toString('hex')}`;
  const badHostname = hostnameProblem(config.hostname);
  if (badHostname) logger.warn({ event: 'config.hostname_not_fqdn', hostname: config.hostname }, badHostname);
  await checkSourcesAtStart(config, logger, systemClock.now()); // an egress address not on this machine is refused here
  const store = await openStore(config, logger, 'relay', onStoreDead);
  await store.open();
  // Single node (SQLite): every lease left is ours from before a crash. Shared (PostgreSQL): other
  // live nodes hold leases too; a dead node's expire after delivery.leaseTime and are reclaimed.
  const released = config.storage.url ? 0 : await store.releaseLeases(null);
  if (released > 0) logger.warn({ event: 'queue.recovered', recipients: released }, 'resuming deliveries interrupted by a previous stop');

  const tls = await loadOrCreateTls(config, (reason) => logger.info({ event: 'tls.self_signed_in_process', reason }, 'the certificate thread could not run; generating the certificate in the main thread'));
  if (tls.generated) logger.warn({ event: 'tls.self_signed', dir: `${config.dataDir}/tls` }, 'generated a self-signed certificate; configure tls.cert/tls.key for production');

  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
  // Bounces Postlane generates are signed as the relay's own domain (hostname), when it is a sending domain.
  const signDsn = (dsn: Buffer, id: string) => signer.sign(dsn, config.hostname, { id }).then((r) => r.headers, (err: unknown) => {
    logger.error({ event: 'dkim.sign_failed', id, err: (err as Error)?.message }, 'could not sign a DSN; sending it unsigned');
    return '';
  });
  // With `metrics: false` prom-client (and its event-loop and GC observers) is never loaded (bench/README.md "Memory").
  const metrics = config.metrics ? new (await import('./events/metrics.js')).Metrics({ store }) : null;
  const webhooks = new WebhookDispatcher({ store, config, logger, nodeId, onAttempt: (w, a) => metrics?.observeWebhookAttempt(w.account, a.ok) });
  // Delivery outcomes are events (written with the results): count them and wake the webhooks.
  const onOutcome: OutcomeObserver = (job, outcomes, durationMs) => {
    metrics?.observeDeliveries(job, outcomes, durationMs);
    webhooks.notify();
  };
  // MAC keys of return-paths and links: in the store, the same on every node and across restarts.
  const bounceSecrets = await SecretRing.open(store, 'bounce', systemClock);
  const linkSecrets = await SecretRing.open(store, 'links', systemClock);
  const inboundReports = new InboundReports({
    store, logger, clock: systemClock, hostname: config.hostname, bounceLabel: config.domains.bounceDomain?.label ?? null, bounceSecrets, linkSecrets,
  });
  // TLS reporting (RFC 8460): delivery counts TLS outcomes, a daily job sends the reports.
  const tlsOutcomes = config.tlsReporting.enabled ? new TlsOutcomeRecorder({ store, clock: systemClock, logger }) : undefined;
  const scheduler = new DeliveryScheduler({
    config, store, logger, nodeId, signDsn, onOutcome, inboundReports, tlsOutcomes, onSlowAttempt: metrics ? (d) => metrics.observeSlowAttempt(d) : undefined,
  });
  metrics?.watchLanes(() => scheduler.lanes, () => scheduler.slowDestinations);
  const tlsReporter = config.tlsReporting.enabled
    ? new TlsReporter({
      config, store, logger, clock: systemClock, nodeId, dns: createResolver(config.dns), sign: signDsn, onQueued: () => scheduler.notify(),
      ca: await readPem(config.tlsReporting.caFile, 'tlsReporting.caFile'),
    })
    : null;
  const onQueued = (id: string, info?: { listener: string; account?: string | null }) => {
    scheduler.notify();
    webhooks.notify();
    metrics?.countAccepted(info?.account, info?.listener ?? 'unknown');
  };
  const authenticate = async (name: string, password: string) => {
    const user = await store.getUser(name);
    if (user === null || !(await verifyPassword(password, user.passwordHash))) return false;
    return { allowedDomains: user.allowedDomains, anyDomain: user.anyDomain, account: user.account, limits: user.limits, defaultStream: user.defaultStream };
  };
  // One quota service per process: SMTP and HTTP charge the same store counters (shared by every node).
  // One account cache per process too: quota limits and tracking domains, a few seconds old at most.
  const accounts = new AccountCache(store, systemClock);
  const quota = new QuotaService(store, systemClock, accounts);
  const ingress = await startSmtpIngress({ config, store, tls, authenticate, quota, signer, logger, onQueued, bounceSecrets, linkSecrets, accounts, nodeId });
  scheduler.start();
  webhooks.start();
  tlsOutcomes?.start();
  tlsReporter?.start();
  // The API's routes and their schemas are about 9 MB of heap (bench/README.md "Memory"): loaded only when a listener serves them.
  const http = config.http !== false || metrics ? await import('./http/index.js') : null;
  const api = http && await http.startApi({ config, store, clock: systemClock, logger, tls, signer, quota, onQueued, bounceSecrets, linkSecrets, accounts, throttles: () => scheduler.throttles(), nodeId,
    onConnectionRefused: metrics ? (reason) => metrics.countRefusedConnection('http', reason) : undefined,
    onConnectionEvicted: metrics ? () => metrics.countEvictedConnection('http') : undefined,
    onKeyLookup: metrics ? (found) => metrics.countApiKeyLookup(found) : undefined,
    onAuthThrottled: metrics ? () => metrics.countApiAuthThrottled() : undefined });
  const metricsListener = http && metrics ? await http.startMetrics({ config, store, logger, tls, metrics }) : null;
  const addresses = { ...ingress.addresses, ...(api ? { http: api.address } : {}), ...(metricsListener ? { metrics: metricsListener.address } : {}) };

  const housekeeping = await startHousekeeping({ config, store, logger, nodeId, inFlight: () => scheduler.inFlight, secrets: [bounceSecrets, linkSecrets] });

  let stopping: Promise<void> | null = null;
  return {
    store,
    nodeId,
    addresses,
    stop: () => (stopping ??= (async () => {
      housekeeping.stop();
      await tlsReporter?.stop();
      await Promise.all([ingress.close(), api?.close(), metricsListener?.close()]);
      await Promise.all([scheduler.stop(SHUTDOWN_DELIVERY_GRACE_MS), webhooks.stop()]);
      await tlsOutcomes?.stop(); // the last counters, before the store closes
      await store.close();
      logger.info({ event: 'relay.stopped' }, 'Postlane stopped');
    })()),
  };
}

/** Run until SIGTERM/SIGINT, then shut down gracefully; a second signal exits at once. "relay.started"
 *  is logged once the handlers are in place, so a signal sent on seeing it always stops gracefully. */
export async function runRelay(config: Readonly<Config>, logger = createLogger(config.log.level)): Promise<Relay> {
  // The store died (a failed WAL fsync: sqlite/executor.ts "Fail-stop"): exit once the 451/503 owed are sent; the restart recovers the queue from disk.
  const relay = await startRelay(config, logger, () => setTimeout(() => process.exit(EXIT_STORE_DEAD), STORE_DEAD_EXIT_DELAY_MS));
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(1);
    logger.info({ event: 'relay.stopping', signal }, 'stopping: no new mail accepted, finishing deliveries');
    relay.stop().then(() => process.exit(0), (err: unknown) => {
      logger.error({ event: 'relay.stop_failed', err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (err) => {
    // An invariant broke somewhere: crash and let the durable queue recover on restart.
    logger.fatal({ event: 'relay.crash', err }, 'unhandled rejection');
    process.exit(70);
  });
  logger.info({ event: 'relay.started', nodeId: relay.nodeId, hostname: config.hostname, dataDir: config.dataDir, listeners: relay.addresses,
    sqliteThread: config.storage.url ? null : config.storage.sqliteThread }, 'Postlane started');
  return relay;
}

/** A configured PEM bundle, read once at start; a missing file is a configuration error. */
async function readPem(file: string | null, key: string): Promise<string | undefined> {
  if (file === null) return undefined;
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`invalid configuration at ${key}: cannot read ${file}: ${(err as Error).message}`, key);
  }
}
