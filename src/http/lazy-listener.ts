// Owns the API's socket: binds it at start and builds the application behind it (fastify, the
// route table and its zod schemas: about 25 MB of loaded code, bench/README.md "Memory") when the
// first request arrives, so a relay whose API nobody calls never loads it (http.buildAtStart: at
// start, in the background). Requests that arrive while it is built wait for it; a build that fails
// answers 503 and is tried again next request.
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { ApiError } from '../ingress/http/api-error.js';

/** How often Node checks the connections' header and request timeouts (its default: 30 s, so a timeout could run 30 s late). */
const CONNECTION_SWEEP_MS = 5_000;

export interface LazyApp {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

export interface LazyListenerOptions<A extends LazyApp> {
  host: string;
  port: number;
  /** PEM certificate and key: serve HTTPS. */
  tls: { cert: string; key: string } | null;
  logger: Logger;
  build(server: Server): Promise<A>;
  /**
   * Answers a health probe (GET of /healthz, /readyz: the application exposes no HEAD routes either) while the application is not built (nor while it is being built),
   * so a load balancer's or a supervisor's probes do not build it; null: not a probe. `building`: a build is under way.
   */
  probe?(path: string, state: { building: boolean }): Promise<{ code: number; body: object }> | null;
  /**
   * Build the application in the background as soon as the socket is bound (http.buildAtStart), so
   * that the first requests do not wait for it; a build that fails is logged and tried again at the
   * next request, as a failed build at a request is.
   */
  buildAtStart?: boolean;
  /**
   * How long a request (headers and body) may take to arrive (http.requestTimeout): then 408 and
   * the connection is closed. 0 or absent: no limit (the headers still have Node's 60 s).
   */
  requestTimeoutMs?: number;
}

export interface LazyListener<A extends LazyApp> {
  address: { host: string; port: number };
  /** The application, built now if no request has built it yet. */
  app(): Promise<A>;
  close(): Promise<void>;
}

export async function listenLazily<A extends LazyApp>(opts: LazyListenerOptions<A>): Promise<LazyListener<A>> {
  // The header and request timeouts are enforced by a sweep of the connections this often (Node: 30 s).
  const timing = { connectionsCheckingInterval: CONNECTION_SWEEP_MS };
  const server: Server = opts.tls
    ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2', ...timing })
    : http.createServer(timing);
  // fastify's defaults, which it set on the servers it made itself, but for the request timeout: with
  // none, a client that drips its body (a byte every few seconds, authenticated or not) held its
  // connection for as long as it liked (attack30, docs/design/security.md).
  server.keepAliveTimeout = 72_000;
  server.requestTimeout = opts.requestTimeoutMs ?? 0;
  if (server.requestTimeout > 0) server.headersTimeout = Math.min(server.headersTimeout, server.requestTimeout);
  server.setTimeout(0);
  let building: Promise<A> | null = null;
  /** Set once the build succeeded: until then probes are answered here, also while it is under way (buildAtStart). */
  let built = false;
  const app = (): Promise<A> => building ??= opts.build(server).then((a) => { built = true; return a; }, (err: unknown) => {
    building = null;
    throw err;
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const probe = !built && req.method === 'GET' ? opts.probe?.((req.url ?? '').split('?')[0]!, { building: building !== null }) : null;
    if (probe) {
      probe.then((a) => answerJson(res, a.code, a.body), () => answerJson(res, 503, { status: 'unavailable', reason: 'the queue store does not answer' }));
      return;
    }
    app().then((a) => a.handle(req, res), (err: unknown) => {
      opts.logger.error({ event: 'http.build_failed', err: (err as Error)?.message ?? String(err) }, 'could not build the HTTP API');
      res.setHeader('retry-after', '5');
      answerJson(res, 503, new ApiError(503, 'unavailable', 'Temporarily unavailable, try again later').toBody());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => { server.off('error', reject); resolve(); });
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound ? { host: bound.address, port: bound.port } : { host: opts.host, port: opts.port };
  opts.logger.info({ event: 'http.listening', ...address, tls: Boolean(opts.tls) }, 'HTTP API listening');
  if (opts.buildAtStart) {
    app().catch((err: unknown) => opts.logger.error({ event: 'http.build_failed', err: (err as Error)?.message ?? String(err) }, 'could not build the HTTP API'));
  }
  return {
    address, app,
    close: async () => {
      const built = building && await building.catch(() => null);
      await built?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answerJson(res: ServerResponse, code: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
