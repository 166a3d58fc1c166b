// Owns the API's socket: binds it at start and builds the application behind it (fastify, the
// route table and its zod schemas: about 25 MB of loaded code, bench/README.md "Memory") when the
// first request arrives, so a relay whose API nobody calls never loads it (http.buildAtStart: at
// start, in the background). Requests that arrive while it is built wait for it; a build that fails
// answers 503 and is tried again next request. It also caps the connections open at once, in all and
// per peer address (http.maxConnections, http.maxConnectionsPerIp: capConnections below), and at the
// total cap makes room for a newcomer by closing the oldest idle connection (IdleConnections).
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ApiError } from '../ingress/http/api-error.js';
import { ConnectionCounts, type LimitReason } from '../net/connection-limits.js';

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
  /**
   * http.maxConnections, http.maxConnectionsPerIp: connections open at once, in all and from one
   * peer address (a proxy in front counts as one: X-Forwarded-For is a request's, not the socket's).
   * Over either, a connection is refused at accept, before a byte is read: 503 and closed (HTTPS:
   * closed). Absent: no caps.
   */
  limits?: { maxConnections: number; maxConnectionsPerIp: number };
  /** Called for each refused connection (the metric postlane_connections_refused_total). */
  onRefused?(reason: LimitReason): void;
  /** Called for each idle connection closed at the total cap to admit a newcomer (postlane_connections_evicted_total). */
  onEvicted?(): void;
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
  const refused = opts.limits ? capConnections(server, opts.limits, Boolean(opts.tls), opts.logger, opts) : null;
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
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of refused ?? []) s.destroy();
      await stopped;
    },
  };
}

function answerJson(res: ServerResponse, code: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** At most one log line of refused connections this often (a flood is thousands a second). */
const REFUSAL_LOG_EVERY_MS = 10_000;
/** How long a refused connection may take to read its 503 before it is destroyed. */
const REFUSED_LINGER_MS = 1000;
const TOO_MANY_BODY = JSON.stringify(new ApiError(503, 'unavailable', 'Too many connections, try again later').toBody());
/** Written before the request is read (not parsed, never reaches the application). */
const TOO_MANY = `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(TOO_MANY_BODY)}\r\n\r\n${TOO_MANY_BODY}`;
const ignoreError = () => { /* a refused socket's errors (a reset) are of no interest */ };

/**
 * Puts the connection caps in front of Node's own handling of `server`'s connections: Node's
 * 'connection' listeners (HTTP's parser set-up, or TLS's handshake) are taken off and called only
 * for a connection that got a slot; its slot is given back when its socket closes, whichever way
 * (end, error, timeout, reset, server stop). At the total cap (not at an address's own) the oldest
 * idle connection is closed to make room (IdleConnections); with none idle, the newcomer is refused:
 * answered 503 (plaintext: HTTPS would need a handshake first, so it is just closed) and destroyed
 * soon after. Returns the refused sockets still lingering, for close().
 */
function capConnections(server: Server, limits: { maxConnections: number; maxConnectionsPerIp: number }, tls: boolean,
  logger: Logger, hooks: Pick<LazyListenerOptions<LazyApp>, 'onRefused' | 'onEvicted'>): Set<Socket> {
  const counts = new ConnectionCounts(limits.maxConnections, limits.maxConnectionsPerIp);
  const idle = new IdleConnections(server, counts);
  const node = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const refused = new Set<Socket>();
  let lastLogAt = -Infinity;
  let unlogged: { count: number; reasons: Set<LimitReason> } = { count: 0, reasons: new Set() };
  let flush: NodeJS.Timeout | null = null;
  const log = (last: { ip: string; reason: LimitReason } | null) => {
    const { count, reasons } = unlogged;
    unlogged = { count: 0, reasons: new Set() };
    lastLogAt = Date.now();
    logger.warn({
      event: 'http.connections_refused', refused: count, reasons: [...reasons], ...(last ?? {}),
      open: counts.total, addresses: counts.addresses, ...limits,
    }, 'HTTP API: connections refused, too many open');
  };
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress;
    if (!peer) return socket.destroy(); // reset before it was accepted: no peer to count
    const ip = peer.startsWith('::ffff:') ? peer.slice(7) : peer;
    if (counts.tryAcquire(ip) || (counts.refusal(ip) === 'total' && idle.evictOldest(hooks.onEvicted) && counts.tryAcquire(ip))) {
      idle.track(socket, ip);
      for (const listener of node) listener.call(server, socket);
      return;
    }
    const reason = counts.refusal(ip) ?? 'total';
    hooks.onRefused?.(reason);
    unlogged.count++;
    unlogged.reasons.add(reason);
    // The first refusal after a quiet spell is logged at once, with its address; the rest are counted
    // into one line every REFUSAL_LOG_EVERY_MS (no address: which of many would it name?).
    if (Date.now() - lastLogAt >= REFUSAL_LOG_EVERY_MS) {
      if (flush) { clearTimeout(flush); flush = null; }
      log({ ip, reason });
    } else {
      flush ??= setTimeout(() => { flush = null; log(null); }, lastLogAt + REFUSAL_LOG_EVERY_MS - Date.now()).unref();
    }
    socket.on('error', ignoreError);
    if (tls) return socket.destroy();
    refused.add(socket);
    socket.once('close', () => refused.delete(socket));
    socket.end(TOO_MANY);
    setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
  });
  return refused;
}

/** A connection with no request in flight for this long may be closed for a newcomer (the SMTP listener's MIN_EVICT_AGE_MS). */
const MIN_IDLE_MS = 2000;

interface Tracked { ip: string; inFlight: number; idleSince: number; released: boolean }

/**
 * Owns the admitted connections' slots (given back once, when the socket closes or is evicted) and
 * whether each has a request in flight: from its request's headers to the end of its response. At
 * the total cap, evictOldest closes the connection idle the longest (a keep-alive one between
 * requests, or one that has not sent a whole request head yet), if idle at least MIN_IDLE_MS, so
 * that idle connections held from many addresses cannot keep new clients out; a request in flight
 * (a body being uploaded, a response being written) is never cut. The slot is given back at once:
 * the newcomer takes it in the same tick.
 */
class IdleConnections {
  /** By the socket Node gave 'connection': over HTTPS a request's socket is the TLSSocket around it. */
  readonly #tracked = new Map<Socket, Tracked>();

  constructor(server: Server, private readonly counts: ConnectionCounts) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket as Socket & { _parent?: Socket };
      const t = this.#tracked.get(socket) ?? (socket._parent ? this.#tracked.get(socket._parent) : undefined);
      if (!t) return;
      t.inFlight++;
      res.once('close', () => { t.inFlight--; t.idleSince = Date.now(); });
    });
  }

  track(socket: Socket, ip: string): void {
    const t: Tracked = { ip, inFlight: 0, idleSince: Date.now(), released: false };
    this.#tracked.set(socket, t);
    socket.once('close', () => {
      this.#tracked.delete(socket);
      this.#release(t);
    });
  }

  /** Closes the connection idle the longest (at least MIN_IDLE_MS) and gives its slot back; false when none is. */
  evictOldest(onEvicted: (() => void) | undefined): boolean {
    const cutoff = Date.now() - MIN_IDLE_MS;
    let oldest: [Socket, Tracked] | null = null;
    for (const entry of this.#tracked) {
      const t = entry[1];
      if (t.inFlight === 0 && t.idleSince <= cutoff && (!oldest || t.idleSince < oldest[1].idleSince)) oldest = entry;
    }
    if (!oldest) return false;
    const [socket, t] = oldest;
    this.#tracked.delete(socket);
    this.#release(t);
    socket.destroy();
    onEvicted?.();
    return true;
  }

  #release(t: Tracked): void {
    if (t.released) return;
    t.released = true;
    this.counts.release(t.ip);
  }
}
