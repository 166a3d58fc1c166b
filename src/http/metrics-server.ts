// Owns the metrics listener (config `metrics`): GET /metrics in the Prometheus text format on an
// address of its own, never on the public API listener, because the series name every account and
// its volumes and recipient domains. Optionally a bearer token (compared in constant time: both
// sides hashed to equal-length digests, then timingSafeEqual); /healthz and /readyz are served here
// too, without the token, for probes on the private port. Refused scrapes are logged
// (`metrics.refused`); served ones are not (a scrape every few seconds would flood the log).
import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { QueueStore } from '../store/store.js';
import { mountHealthRoutes } from './health.js';

export interface MetricsSource { contentType: string; render(): Promise<string> }

export interface MetricsListenerDeps {
  host: string;
  port: number;
  /** Bearer token a scrape must send; null: none (the bind address is the only protection). */
  token: string | null;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string } | null;
  metrics: MetricsSource;
  store: Pick<QueueStore, 'nextDueAt' | 'checkWritable'>;
  logger: Logger;
}

export interface MetricsListener {
  address: { host: string; port: number };
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** A check of `Authorization: Bearer <token>` whose time does not depend on how much of the token matched. */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const m = typeof authorization === 'string' ? /^Bearer[ ]+(\S+)$/i.exec(authorization) : null;
    const same = timingSafeEqual(digest(m?.[1] ?? ''), expected);
    return m !== null && same;
  };
}

export async function startMetricsListener(deps: MetricsListenerDeps): Promise<MetricsListener> {
  const { logger } = deps;
  const app = Fastify({
    logger: false, exposeHeadRoutes: false, return503OnClosing: true, requestIdHeader: false,
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key, minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance;
  const allowed = deps.token === null ? null : bearerCheck(deps.token);
  app.setNotFoundHandler((_req, res) => res.code(404).send({ error: { code: 'not_found', message: 'No such route' } }));
  app.get('/metrics', async (req, res) => {
    if (allowed && !allowed(req.headers.authorization)) {
      logger.warn({ event: 'metrics.refused', ip: req.ip, reason: req.headers.authorization ? 'wrong token' : 'no token' }, 'metrics scrape refused');
      return res.code(401).header('www-authenticate', 'Bearer realm="postlane-metrics"')
        .send({ error: { code: 'unauthorized', message: 'A metrics token is required: Authorization: Bearer <metrics.token>' } });
    }
    return res.header('content-type', deps.metrics.contentType).send(await deps.metrics.render());
  });
  mountHealthRoutes(app, deps.store);
  await app.listen({ host: deps.host, port: deps.port });
  const bound = app.server.address();
  const address = typeof bound === 'object' && bound ? { host: bound.address, port: bound.port } : { host: deps.host, port: deps.port };
  logger.info({ event: 'metrics.listening', ...address, tls: Boolean(deps.tls), token: deps.token !== null }, 'metrics listening');
  if (deps.token === null && !isLoopback(address.host)) {
    logger.warn({ event: 'metrics.unprotected', ...address }, 'metrics listen beyond loopback without metrics.token: every account\'s names and volumes are visible to whoever reaches this address');
  }
  return { address, close: () => app.close() };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1' || /^::ffff:127\./i.test(host);
}
