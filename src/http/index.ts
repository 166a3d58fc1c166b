// The public API of the HTTP view: start the API listener and the metrics listener. main.ts calls
// startApi() and startMetrics(); everything else in http/ is internal. The API's listener binds at
// start; fastify, the route table and its schemas load at the first request (lazy-listener.ts).
import { answerProbe, PROBE_PATHS } from './health.js';
import { listenLazily } from './lazy-listener.js';
import type { LimitReason } from '../net/connection-limits.js';
import type { ApiDeps } from './route-table.js';
import type { HttpApi } from './server.js';
import type { MetricsListener, MetricsSource } from './metrics-server.js';

export type { ApiDeps, HttpApi, MetricsListener, MetricsSource };

/** Starts the HTTP API of config.http; null when it is off (http: false). */
export async function startApi(deps: ApiDeps & { onConnectionRefused?: (reason: LimitReason) => void; onConnectionEvicted?: () => void }): Promise<HttpApi | null> {
  const http = deps.config.http;
  if (http === false) return null;
  const listener = await listenLazily({
    host: http.host, port: http.port, tls: http.tls ? deps.tls : null, logger: deps.logger, buildAtStart: http.buildAtStart,
    requestTimeoutMs: http.requestTimeout,
    limits: { maxConnections: http.maxConnections, maxConnectionsPerIp: http.maxConnectionsPerIp }, onRefused: deps.onConnectionRefused,
    onEvicted: deps.onConnectionEvicted,
    // With buildAtStart, not ready until the API is built (answerProbe's `starting`).
    probe: (path, state) => PROBE_PATHS.has(path) ? answerProbe(path, deps.store, http.buildAtStart && state.building) : null,
    build: async (server) => {
      const [{ buildHttpApp }, { buildRouteTable }, { HeavyReads }] = await Promise.all([import('./server.js'), import('./route-table.js'), import('./heavy-work.js')]);
      return buildHttpApp({
        bodyLimit: http.bodyLimit, trustProxy: http.trustProxy, store: deps.store, clock: deps.clock, logger: deps.logger,
        authFailures: http.authFailures, onAuthThrottled: deps.onAuthThrottled, heavyReads: new HeavyReads(http.heavyReadsPerAccount),
        ...buildRouteTable(deps, http),
      }, server);
    },
  });
  return { address: listener.address, close: listener.close };
}

/** Starts the metrics listener of config.metrics (apart from the API's); null when it is off (metrics: false). */
export async function startMetrics(deps: Pick<ApiDeps, 'config' | 'store' | 'logger' | 'tls'> & { metrics: MetricsSource }): Promise<MetricsListener | null> {
  const m = deps.config.metrics;
  if (m === false) return null;
  const { startMetricsListener } = await import('./metrics-server.js');
  return startMetricsListener({
    host: m.host, port: m.port, token: m.token, tls: m.tls ? deps.tls : null, metrics: deps.metrics, store: deps.store, logger: deps.logger,
  });
}
