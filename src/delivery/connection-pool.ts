// Owns outbound SMTP sessions: opening one (connect, EHLO, STARTTLS per the target's
// TlsRequirement, the TLS judgement of tls-check.ts, then AUTH), and keeping idle ones per
// (address, port, requirement, user, egress source) for reuse, each for delivery.idleConnectionTimeout and at
// most delivery.maxMessagesPerConnection messages. A session is only ever reused for the very
// same requirement, so a plaintext or unverified session never carries mail that needs better.
// Sessions belong to one destination (the scheduler's per-destination key, the recipient domain)
// and are counted per destination from connect until the socket has closed, so the scheduler can
// hold one destination slot per connection: before opening another session to a destination, an
// unused one of that destination is retired first (connections never outnumber the slots held).
// Wraps nodemailer's SMTPConnection callbacks and events into promises.
import net from 'node:net';
import type { Readable } from 'node:stream';
import type tls from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { LocalFailure } from './classify.js';
import type { AttemptDeadline } from './attempt-deadline.js';
import { OutboundSmtpConnection } from './smtp-connection.js';
import { judgeTls, TlsRequirementFailure } from './tls-check.js';
import { policyLabel, requirementKey, requiresTls, type TlsRequirement, type TlsResult } from './tls-policy.js';

/** One address of one route host: where a session goes and what its TLS must achieve. */
export interface SessionTarget {
  host: string;
  address: string;
  port: number;
  security: TlsRequirement;
  auth: { user: string; pass: string } | null;
  /** The egress source (egress.ts): bind address and EHLO name; absent: the system's address and the hostname. */
  source?: { name: string; address: string | null; ehlo: string };
}

export type SendInfo = SMTPConnection.SentMessageInfo;
export type SmtpError = SMTPConnection.SMTPError;

const QUIT_GRACE_MS = 1000;
/** How long a closed session's socket may take to finish closing before it stops being counted. */
const SOCKET_CLOSE_MS = 2000;

interface IdleEntry { session: SmtpSession; timer: NodeJS.Timeout; onEnd: () => void }

/** One destination's sessions: open counts every one from connect until its socket closed; busy, those handed out. */
interface DestinationSessions { open: number; busy: number; closing: Set<Promise<void>> }

const connectionLost = () => Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' });

/** An open SMTP session, ready for MAIL FROM. */
export class SmtpSession {
  messages = 0;
  constructor(readonly conn: OutboundSmtpConnection, readonly key: string, readonly tls: TlsResult,
    readonly destination = '', readonly closed: Promise<void> = Promise.resolve()) {}

  get isOpen(): boolean { return !this.conn.destroyed; }

  /**
   * One transaction; `reset`: RSET first (a reused session), pipelined with the transaction's
   * commands when the server offers PIPELINING (smtp-connection.ts), else waited for alone.
   */
  send(envelope: SMTPConnection.Envelope, body: Buffer | Readable, signal?: AbortSignal, reset = false): Promise<SendInfo> {
    const done = (finish: (err: SmtpError | null, value?: SendInfo) => void) => (err: SmtpError | null, info?: SendInfo) => finish(err, info);
    return this.#call((finish) => (reset ? this.conn.resetAndSend(envelope, body, done(finish)) : this.conn.send(envelope, body, done(finish))), signal);
  }

  /** Runs one callback-style call, failing if the connection ends or the signal aborts first. */
  #call<T>(start: (done: (err: SmtpError | null, value?: T) => void) => void, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // nodemailer ends the connection on a 421 *before* it hands the call its reply: wait a turn
      // so that reply (the provider's "421 4.7.28 … rate limited" text) wins over "connection lost".
      const onEnd = () => setImmediate(() => finish(connectionLost()));
      const onAbort = () => { this.destroy(); finish(Object.assign(new Error('Delivery aborted'), { code: 'EABORT' })); };
      const finish = (err: Error | null, value?: T) => {
        this.conn.off('end', onEnd);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err); else resolve(value as T);
      };
      if (signal?.aborted) return onAbort();
      this.conn.once('end', onEnd);
      signal?.addEventListener('abort', onAbort, { once: true });
      start(finish);
    });
  }

  /** QUIT politely; a server that does not answer within a second is cut off. */
  quit(): void {
    if (!this.isOpen) return;
    this.conn.quit();
    setTimeout(() => this.conn.close(), QUIT_GRACE_MS).unref();
  }
  close(): void { this.conn.close(); }
  /**
   * Cut the connection now (an aborted attempt; attempt-deadline.ts at a deadline): close() only ends our
   * side, and a server that reads slowly would keep the unsent body, and the socket, for its grace.
   */
  destroy(): void { destroyConnection(this.conn); }
}

/**
 * The socket reset, then nodemailer's close() (its state, 'end'): a plain TCP socket sends RST, so
 * the kernel drops what it still held to send (MBs of body to a slow reader) instead of sending it
 * on after the close. Reset first: after close() has ended the socket (FIN requested), libuv refuses
 * the reset and the handle never finished closing (the process spun at exit). A socket still
 * connecting (its reset would wait for the connect) or a TLS one (no TCP handle) is destroyed.
 */
export function destroyConnection(conn: SMTPConnection): void {
  const socket = conn._socket as net.Socket | undefined;
  if (socket && !socket.destroyed) {
    if (socket.connecting || socket.writableEnded) socket.destroy();
    else try { socket.resetAndDestroy(); } catch { socket.destroy(); } // ERR_INVALID_HANDLE_TYPE: not a TCP handle (TLS)
  }
  conn.close();
}

export interface PoolOptions {
  config: Pick<Config, 'hostname' | 'delivery'>;
  /** PEM bundle (delivery.tlsCaFile's contents) replacing the Node CA store for certificate checks. */
  ca?: string;
  /** A session of this destination has closed (its socket, after QUIT or a failure): a slot may be free. */
  onSessionClosed?: (destination: string) => void;
  /** For certificate validity dates in DANE-TA checks. */
  clock?: Clock;
  /** Messages per session for a destination (a shaped provider's messagesPerConnection); default delivery.maxMessagesPerConnection. */
  maxMessagesOf?: (destination: string) => number | null;
}

export class ConnectionPool {
  readonly #idle = new Map<string, IdleEntry[]>();
  readonly #config: PoolOptions['config'];
  readonly #ca: string | undefined;
  readonly #clock: Clock;
  readonly #maxMessagesOf: PoolOptions['maxMessagesOf'];
  readonly #onSessionClosed: (destination: string) => void;
  readonly #destinations = new Map<string, DestinationSessions>();
  /** Every connection not yet closed (its socket). */
  readonly #live = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: PoolOptions) {
    this.#config = opts.config;
    this.#ca = opts.ca;
    this.#clock = opts.clock ?? systemClock;
    this.#onSessionClosed = opts.onSessionClosed ?? (() => undefined);
    this.#maxMessagesOf = opts.maxMessagesOf;
  }

  static keyOf(t: SessionTarget, destination = ''): string {
    return [destination, t.address, t.port, requirementKey(t.security), t.auth?.user ?? '', t.source?.name ?? ''].join('|');
  }

  /** Sessions of `destination` not handed out (idle, or closing until their socket closed). */
  unusedSessions(destination: string): number {
    const d = this.#destinations.get(destination);
    return d ? d.open - d.busy : 0;
  }

  /** An idle cached session for `target` and `destination`, if any (removed from the idle set). */
  take(target: SessionTarget, destination = ''): SmtpSession | null {
    const list = this.#idle.get(ConnectionPool.keyOf(target, destination));
    while (list && list.length > 0) {
      const { session, timer, onEnd } = list.pop()!;
      clearTimeout(timer);
      session.conn.off('end', onEnd);
      if (session.isOpen) {
        this.#count(destination).busy++;
        return session;
      }
    }
    return null;
  }

  /**
   * A fresh session: connect, EHLO, STARTTLS per requirement, TLS judged, AUTH if configured. An
   * unused session of the destination (idle for another address, or still closing) is retired first.
   */
  async open(target: SessionTarget, signal?: AbortSignal, destination = '', deadline?: AttemptDeadline): Promise<SmtpSession> {
    await this.#retireOne(destination);
    this.#count(destination).busy++; // until release(); a failed connection stays counted until its socket closed
    try {
      try {
        return await this.#open(target, target.security, destination, signal, deadline);
      } catch (err) {
        // Opportunistic TLS that fails in the handshake: like Postfix, retry once in plaintext
        // (old servers that only speak retired TLS versions must still get their mail).
        if (target.security.level !== 'opportunistic' || (err as SmtpError).code !== 'ETLS' || signal?.aborted || deadline?.passed) throw err;
        return await this.#open(target, { ...target.security, level: 'none' }, destination, signal, deadline);
      }
    } catch (err) {
      this.#unbusy(destination);
      throw err;
    }
  }

  /** Close a session taken or opened here that cannot be used or kept (e.g. RSET failed). */
  discard(session: SmtpSession): void {
    session.close();
    this.#unbusy(session.destination);
  }

  #unbusy(destination: string): void {
    const d = this.#destinations.get(destination);
    if (!d) return;
    d.busy--;
    if (d.open === 0 && d.busy <= 0) this.#destinations.delete(destination);
  }

  #count(destination: string): DestinationSessions {
    let d = this.#destinations.get(destination);
    if (!d) this.#destinations.set(destination, (d = { open: 0, busy: 0, closing: new Set() }));
    return d;
  }

  /** Close one unused session of `destination` and wait for its socket to close: an idle one, else one closing. */
  async #retireOne(destination: string): Promise<void> {
    for (const [key, list] of this.#idle) {
      const entry = list.find((e) => e.session.destination === destination);
      if (entry) {
        this.#expire(key, entry);
        await entry.session.closed;
        return;
      }
    }
    const closing = this.#destinations.get(destination)?.closing;
    if (closing && closing.size > 0) await Promise.race(closing);
  }

  /** Counts the connection as open for `destination` until its socket has closed; returns that moment. */
  #track(conn: SMTPConnection, destination: string): Promise<void> {
    const count = this.#count(destination);
    count.open++;
    let settle!: () => void;
    const closed = new Promise<void>((resolve) => { settle = resolve; });
    this.#live.add(closed);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      count.open--;
      count.closing.delete(closed);
      this.#live.delete(closed);
      if (count.open === 0 && count.busy === 0) this.#destinations.delete(destination);
      settle();
      this.#onSessionClosed(destination);
    };
    conn.once('end', () => {
      // 'end' comes when the client is done with it; the socket may still be closing (FIN sent).
      const socket = conn._socket as net.Socket | undefined;
      if (!socket || socket.destroyed) return finish();
      count.closing.add(closed);
      const timer = setTimeout(finish, SOCKET_CLOSE_MS);
      timer.unref();
      socket.once('close', () => { clearTimeout(timer); finish(); });
    });
    return closed;
  }

  /** `security` is the target's, or its plaintext fallback (the session is still judged and keyed by the target's). */
  async #open(target: SessionTarget, security: TlsRequirement, destination: string, signal?: AbortSignal, deadline?: AttemptDeadline): Promise<SmtpSession> {
    const conn = new OutboundSmtpConnection(this.#connectionOptions(target, security));
    conn.on('error', () => undefined); // errors are delivered through callbacks/'end'; never unhandled
    const closed = this.#track(conn, destination);
    if (deadline) deadline.conn = conn; // reset if the deadline passes while connecting (attempt-deadline.ts)
    const onAbort = () => destroyConnection(conn);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await connect(conn);
      if (signal?.aborted) throw Object.assign(new Error('Delivery aborted'), { code: 'EABORT' });
      const judged = judgeTls(conn.secure ? (conn._socket as tls.TLSSocket) : null, target.security, target.host, this.#clock.now());
      if (judged.failure) throw new TlsRequirementFailure(judged.failure, judged.result);
      if (target.auth) await authenticate(conn, target.auth);
      return new SmtpSession(conn, ConnectionPool.keyOf(target, destination), judged.result, destination, closed);
    } catch (err) {
      conn.close();
      throw asRequirementFailure(target, asTlsFailure(conn, err as SmtpError));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #connectionOptions(target: SessionTarget, security: TlsRequirement): SMTPConnection.Options {
    const d = this.#config.delivery;
    const servername = net.isIP(target.host) ? undefined : target.host;
    return {
      host: target.address,
      port: target.port,
      name: target.source?.ehlo ?? this.#config.hostname,
      ...(target.source?.address ? { localAddress: target.source.address } : {}),
      secure: security.implicit === true,
      requireTLS: requiresTls(security.level) && security.implicit !== true,
      opportunisticTLS: security.level === 'opportunistic',
      ignoreTLS: security.level === 'none',
      servername,
      // Certificates are judged after the handshake (tls-check.ts), for every level, so the
      // result is recorded even where it is not enforced and a refusal has a precise reason.
      tls: { rejectUnauthorized: false, ...(this.#ca ? { ca: this.#ca } : {}), ...(servername ? { servername } : {}) },
      connectionTimeout: d.connectTimeout,
      greetingTimeout: d.connectTimeout,
      socketTimeout: d.commandTimeout,
      logger: false,
    };
  }

  /** Keep the session for reuse, or end it (QUIT) if it is spent, broken or `reusable` is false. */
  release(session: SmtpSession, reusable: boolean): void {
    const d = this.#config.delivery;
    this.#unbusy(session.destination);
    if (this.#closed || !reusable || !session.isOpen || session.messages >= (this.#maxMessagesOf?.(session.destination) ?? d.maxMessagesPerConnection)) {
      session.quit();
      return;
    }
    const list = this.#idle.get(session.key) ?? [];
    const entry: IdleEntry = {
      session,
      timer: setTimeout(() => this.#expire(session.key, entry), d.idleConnectionTimeout).unref(),
      onEnd: () => this.#expire(session.key, entry),
    };
    list.push(entry);
    this.#idle.set(session.key, list);
    session.conn.once('end', entry.onEnd);
  }

  #expire(key: string, entry: IdleEntry): void {
    clearTimeout(entry.timer);
    entry.session.conn.off('end', entry.onEnd);
    const list = this.#idle.get(key);
    const i = list?.indexOf(entry) ?? -1;
    if (i < 0) return; // taken or already gone
    list!.splice(i, 1);
    if (list!.length === 0) this.#idle.delete(key);
    entry.session.quit();
  }

  /** Close every idle session; later releases close immediately. */
  closeAll(): void {
    this.#closed = true;
    for (const [key, list] of [...this.#idle]) for (const entry of [...list]) this.#expire(key, entry);
  }

  /** Wait (at most ms) until every connection has closed, e.g. after closeAll(). */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
    try { await Promise.race([Promise.all([...this.#live]), timeout]); } finally { clearTimeout(timer); }
  }

  get idleCount(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }
}

function connect(conn: SMTPConnection): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => { cleanup(); reject(err); };
    const onEnd = () => fail(connectionLost());
    const cleanup = () => { conn.off('error', fail); conn.off('end', onEnd); };
    conn.once('error', fail);
    conn.once('end', onEnd);
    conn.connect((err) => { cleanup(); if (err) reject(err); else resolve(); });
  });
}

/** nodemailer reports a failed STARTTLS handshake as a socket error: report it as ETLS. */
function asTlsFailure(conn: SMTPConnection, err: SmtpError): SmtpError {
  if (err instanceof LocalFailure) return err;
  const handshake = conn.upgrading === true || /^ERR_(SSL|TLS)_/.test(String(err.originalCode ?? err.code ?? ''));
  if (handshake && err.code !== 'ETLS') {
    err.originalCode ??= err.code;
    err.code = 'ETLS';
  }
  return err;
}

function authenticate(conn: SMTPConnection, auth: { user: string; pass: string }): Promise<void> {
  // Never send credentials in clear, whatever the TLS policy says.
  if (!conn.secure) return Promise.reject(new LocalFailure('temporary', '4.7.10', 'the relay offers no TLS; credentials are never sent in clear'));
  return new Promise((resolve, reject) => {
    conn.login({ user: auth.user, pass: auth.pass }, (err) => (err ? reject(withoutCredentials(err, auth)) : resolve()));
  });
}

/**
 * The failed AUTH's error with the password hidden in its reply and message, as sent (plain, or
 * base64 of AUTH LOGIN's password or AUTH PLAIN's "\0user\0pass"): that text becomes the
 * recipient's response, logged, in events and webhooks and quoted in DSNs to every sender, so a
 * smarthost that echoes what it was sent (secret31) would hand its credentials to all of them.
 */
function withoutCredentials(err: Error & { response?: unknown }, auth: { user: string; pass: string }): Error {
  if (!auth.pass) return err;
  const forms = [`\0${auth.user}\0${auth.pass}`, `${auth.user}\0${auth.user}\0${auth.pass}`, auth.pass]
    .map((f) => Buffer.from(f).toString('base64').replace(/=+$/, '')).concat(auth.pass);
  const scrub = (text: string) => forms.reduce((t, f) => t.split(f).join('[redacted]'), text);
  if (typeof err.response === 'string') err.response = scrub(err.response);
  err.message = scrub(err.message);
  if (err.stack) err.stack = scrub(err.stack);
  return err;
}

/** Where TLS is required, a failed STARTTLS says which policy required it and what went wrong. */
function asRequirementFailure(target: SessionTarget, err: SmtpError | LocalFailure): Error {
  if (err instanceof LocalFailure || err.code !== 'ETLS' || !requiresTls(target.security.level)) return err;
  const what = typeof err.response === 'string' && /^[45]/.test(err.response) ? 'does not offer STARTTLS' : 'failed the TLS handshake';
  return new TlsRequirementFailure(`${policyLabel(target.security.source)}: ${target.host} ${what}`, null, { cause: err });
}
