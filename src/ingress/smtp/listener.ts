// Owns one listening socket (submission, submissions, alt or mx) and its connections: the
// PROXY header of trusted load balancers (proxy-handshake.ts), the connection limits
// (smtp.maxConnections in all, smtp.maxConnectionsPerIp, counted by the real client address),
// handing each accepted socket to a Connection, and the graceful close. A failure in one
// connection is logged and ends that connection only.
import net from 'node:net';
import type { Logger } from 'pino';
import { ConnectionCounts } from '../../net/connection-limits.js';
import { Connection, clientIp, type ConnectionDeps } from './connection.js';
import { admitConnection, type Admission, type ProxyPolicy } from './proxy-handshake.js';
import type { ListenerName } from './session.js';

/** Shared by every listener, so the limits count all sessions. */
/** A session that may be closed to make room for a newcomer (connection.ts). */
export interface Evictable { readonly isEvictable: boolean; evict(): void; readonly closed: Promise<void> }

/** An idle session this young is never evicted: it may be a client about to authenticate. */
const MIN_EVICT_AGE_MS = 2000;
const EVICT_WAIT_MS = 1000;

/**
 * Owns the session counts (every listener shares one): in total and per client address (the
 * counting is net/connection-limits.ts's, shared with the HTTP API's listener). When the
 * total is reached, the oldest session that has not authenticated and is idle (no transaction, no
 * command in progress; never a relayNetworks client) is closed with 421 to make room, so an
 * attacker holding every slot from many addresses cannot keep a real client out: authenticated
 * sessions are never evicted, and a newcomer gets a slot and the time to authenticate.
 */
export class ConnectionLimits extends ConnectionCounts {
  /** Open sessions and when each started (by `now`). */
  #sessions = new Map<Evictable, number>();

  constructor(maxTotal: number, maxPerIp: number, private readonly now: () => number = Date.now) { super(maxTotal, maxPerIp); }

  track(s: Evictable): void { this.#sessions.set(s, this.now()); }
  untrack(s: Evictable): void { this.#sessions.delete(s); }

  /** Closes the oldest evictable session and waits for it to go; false when none qualifies. */
  async makeRoom(): Promise<boolean> {
    const cutoff = this.now() - MIN_EVICT_AGE_MS;
    let oldest: Evictable | null = null;
    let oldestAt = Infinity;
    for (const [s, at] of this.#sessions) if (s.isEvictable && at <= cutoff && at < oldestAt) { oldest = s; oldestAt = at; }
    if (!oldest) return false;
    this.#sessions.delete(oldest);
    oldest.evict();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([oldest.closed, new Promise((r) => { timer = setTimeout(r, EVICT_WAIT_MS); })]);
    clearTimeout(timer);
    return true;
  }
}

/** A matcher for smtp.relayNetworks: "10.0.0.0/8", "192.0.2.7", "2001:db8::/32". */
export interface ListenerDeps {
  name: ListenerName;
  connection: ConnectionDeps;
  /** smtp.<name>.proxyProtocol; null: every peer is the client itself. */
  proxy: ProxyPolicy | null;
  /** smtp.relayNetworks; honoured on submission and alt only. */
  isRelayNetwork: (ip: string) => boolean;
  limits: ConnectionLimits;
  logger: Logger;
}

const TOO_MANY = '421 4.7.0 Too many connections, try again later\r\n';
/** One function for every socket (no closure per connection). */
const ignoreError = () => { /* reported by the Connection, or irrelevant after a refusal */ };

export class SmtpListener {
  #server: net.Server;
  #connections = new Set<Connection>();
  #refused = new Set<net.Socket>();
  /** Sockets of trusted proxies whose PROXY header has not arrived yet. */
  #awaitingHeader = new Set<net.Socket>();
  #closing = false;

  constructor(private readonly deps: ListenerDeps) {
    // allowHalfOpen: a client that sends its commands and shuts down its side still gets replies
    this.#server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => void this.#accept(socket));
    this.#server.on('error', (err) => deps.logger.error({ event: 'smtp.listener_error', listener: deps.name, err: err.message }, 'listener error'));
  }

  get connectionCount(): number { return this.#connections.size; }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', onError);
        const addr = this.#server.address() as net.AddressInfo;
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  /**
   * Stop accepting; idle sessions are told 421 4.3.2 at once, sessions inside a transaction may
   * finish it within `graceMs`; whatever is left then is destroyed.
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#awaitingHeader) s.destroy();
    for (const c of this.#connections) c.shutdown();
    const all = () => Promise.all([...this.#connections].map((c) => c.closed));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise((resolve) => { timer = setTimeout(resolve, graceMs); })]);
    clearTimeout(timer);
    for (const c of this.#connections) c.destroy();
    for (const s of this.#refused) s.destroy();
    await all();
    await stopped;
  }

  /** At the total limit: make room by evicting an idle unauthenticated session, then take its slot. */
  async #evictFor(ip: string): Promise<boolean> {
    const { limits } = this.deps;
    if (limits.isIpFull(ip) || this.#closing) return false;
    return (await limits.makeRoom()) && limits.tryAcquire(ip);
  }

  async #accept(socket: net.Socket) {
    socket.on('error', ignoreError);
    if (!socket.remoteAddress) {
      // Reset before it was accepted (a balancer's layer-4 health check does that): no peer to name.
      this.deps.logger.debug({ event: 'smtp.gone_before_accept', listener: this.deps.name }, 'connection reset before it was accepted');
      return socket.destroy();
    }
    const peer = clientIp(socket);
    let admission: Admission;
    if (this.deps.proxy) {
      this.#awaitingHeader.add(socket);
      admission = await admitConnection(socket, peer, this.deps.proxy);
      this.#awaitingHeader.delete(socket);
    } else {
      admission = { kind: 'direct', ip: peer }; // the peer is the client: no async step (a promise and a tick per connection)
    }
    if (admission.kind === 'refused') {
      if (this.#closing) return socket.destroy();
      this.deps.logger.warn({ event: 'smtp.proxy_refused', listener: this.deps.name, peer, reason: admission.reason }, 'PROXY protocol: connection refused');
      return socket.destroy();
    }
    const ip = admission.ip;
    // Logged before the liveness check: a balancer's health check sends its header and resets at once.
    // The record is built only when debug is on (most relays: once per connection for nothing).
    if (this.deps.logger.isLevelEnabled('debug')) {
      const via = admission.kind === 'proxied' ? { proxy: admission.peer, proxyVersion: admission.version } : {};
      this.deps.logger.debug({ event: 'smtp.connected', listener: this.deps.name, ip, ...via }, 'connection');
    }
    if (this.#closing || socket.destroyed) return socket.destroy();
    if (!this.deps.limits.tryAcquire(ip) && !(await this.#evictFor(ip))) {
      this.deps.logger.warn({ event: 'smtp.rejected', listener: this.deps.name, ip, code: 421, enhanced: '4.7.0', reason: 'connection limit' }, 'too many connections');
      if (this.deps.name === 'submissions') return socket.destroy(); // no TLS yet: a plaintext reply would not be understood
      this.#refused.add(socket);
      socket.once('close', () => this.#refused.delete(socket));
      socket.end(TOO_MANY);
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const { name } = this.deps;
    const trustedNetwork = (name === 'submission' || name === 'alt') && this.deps.isRelayNetwork(ip);
    const conn = new Connection(socket, this.deps.connection, { implicitTls: name === 'submissions', trustedNetwork, clientIp: ip });
    this.#connections.add(conn);
    this.deps.limits.track(conn);
    conn.closed.then(() => {
      this.#connections.delete(conn);
      this.deps.limits.untrack(conn);
      this.deps.limits.release(ip);
    });
    void conn.run();
  }
}
