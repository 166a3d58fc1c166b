// Owns the I/O of one SMTP connection: reads lines, DATA and BDAT chunks from the socket, feeds
// them to the SmtpSession strictly in order, carries out the session's actions (STARTTLS upgrade,
// AUTH check, DATA or BDAT chunks into accept.ts) and writes the replies in order. Replies to
// pipelined commands (BDAT included) are coalesced and written when the next wait for input begins.
//
// BDAT: exactly the announced octets are read, from what is buffered and then from the socket,
// under dataTimeout, and streamed through chunk-reader.ts into the one IncomingMessage of the
// transaction (the sink DATA uses; nothing buffered beyond it). That message is dropped as soon as
// the session no longer receives it (a refused chunk, RSET, DATA after BDAT, a lost connection).
//
// Backpressure: received bytes wait in an inbox; above INBOX_HIGH_BYTES the socket is paused
// until the session has caught up. Timeouts: commandTimeout while waiting for a command,
// dataTimeout while waiting for DATA bytes; never while our own work (auth check, quota charge,
// store) runs.
// Logging: repetitive lines (refusals, quota refusals and errors) are limited per session by
// log-budget.ts; what was only counted is reported in one `smtp.log_suppressed` line at the end.
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { formatReplies, type Reply } from '../../message/reply.js';
import type { Acceptor, IncomingMessage } from '../accept.js';
import type { QuotaDecision, QuotaSubject } from '../../accounts/quota.js';
import type { AuthLimiter } from './auth-limiter.js';
import { DataReader, contentReply, dataReplies } from './data-reader.js';
import { ChunkReader, chunkReply } from './chunk-reader.js';
import { SessionLogBudget } from './log-budget.js';
import { MAX_AUTH_LINE, SmtpSession, type AuthGrant, type AuthOutcome, type ChunkOutcome, type DataOutcome, type QuotaOutcome, type SessionAction, type SessionOutput, type SessionOptions, type TlsInfo, type Transaction } from './session.js';

/** Charges recipients to an account (src/accounts/quota.ts QuotaService). */
export interface QuotaCharger {
  charge(subject: QuotaSubject, n?: number): Promise<QuotaDecision>;
  /** charge(subject, 1)'s answer when it is known without waiting (an unmetered subject); undefined: charge. */
  chargeNow?(subject: QuotaSubject): QuotaDecision | undefined;
}

/** What every connection of a listener shares (one object per listener, not copied per connection). */
export interface ConnectionDeps {
  session: Omit<SessionOptions, 'tls' | 'trustedNetwork'>;
  secureContext: tls.SecureContext;
  acceptor: Acceptor;
  authLimiter: AuthLimiter;
  authenticate: (user: string, password: string) => Promise<boolean | AuthGrant>;
  /** Charges each RCPT of a submission (the session's chargeQuota action); absent: no quotas. */
  quota?: QuotaCharger;
  logger: Logger;
  /** preAuthMs: the idle limit before AUTH on the submission listeners (smtp.preAuthTimeout). */
  timeouts: { commandMs: number; dataMs: number; preAuthMs?: number };
  limits: { maxMessageSize: number; maxLineLength: number };
}

/** What is this connection's own. */
export interface ConnectionPeer {
  implicitTls: boolean;
  /** The client is in smtp.relayNetworks and this is submission or alt. */
  trustedNetwork: boolean;
  /** The client's address: the socket's peer, or the one a trusted proxy's PROXY header named. */
  clientIp: string;
}

const QUOTA_UNAVAILABLE: Reply = { code: 451, enhanced: '4.3.0', text: 'Temporary local problem, try again later' };
const INBOX_HIGH_BYTES = 256 * 1024;
const INBOX_LOW_BYTES = 64 * 1024;
const WRITE_HIGH_BYTES = 256 * 1024;
/** After we end a connection, how long the peer may take to close its side. */
const LINGER_MS = 2000;
/** An evicted session's 421 is written, then its slot must free quickly for the newcomer. */
const EVICT_LINGER_MS = 100;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);
const TOO_LONG = Symbol('line too long');

type ChunkAction = Extract<SessionAction, { type: 'receiveChunk' }>;

export class Connection {
  readonly closed: Promise<void>;
  #socket: net.Socket;
  #session: SmtpSession | null = null;
  #inbox: Buffer[] = [];
  #inboxBytes = 0;
  #buf: Buffer = EMPTY;
  #skippingLongLine = false;
  #out: Reply[] = [];
  #ended = false;
  #eof = false;
  #wake: (() => void) | null = null;
  /**
   * One timer per timeout length, re-armed (refresh) at each wait for input rather than created and
   * cleared per command; #waitMs names the wait in progress (0: none), so a timer that fires while
   * we are not waiting, or that belongs to the other length, is ignored.
   */
  #timers: { ms: number; timer: NodeJS.Timeout }[] = [];
  #waitMs = 0;
  /** The linger timer after our end (#lingerThenDestroy). */
  #linger: NodeJS.Timeout | null = null;
  #resolveClosed!: () => void;
  readonly #ip: string;
  readonly #trustedNetwork: boolean;
  readonly #implicitTls: boolean;
  /** Made at the first refusal or error that is logged: most sessions never need one (two Maps). */
  #logBudget: SessionLogBudget | null = null;
  /** The message of the BDAT transaction in progress, with the checks on its bytes. */
  #chunked: { incoming: IncomingMessage; reader: ChunkReader } | null = null;

  constructor(private readonly raw: net.Socket, private readonly deps: ConnectionDeps, peer: ConnectionPeer) {
    this.#socket = raw;
    this.#ip = peer.clientIp;
    this.#trustedNetwork = peer.trustedNetwork;
    this.#implicitTls = peer.implicitTls;
    this.closed = new Promise((resolve) => { this.#resolveClosed = resolve; });
    raw.on('error', (err) => this.#onSocketError(err));
    raw.on('close', () => this.#onClosed()); // 'close' comes once: no once() wrapper per connection
  }

  /**
   * May be closed to make room (listener.ts ConnectionLimits): not authenticated, not a trusted
   * network client, and idle — no transaction, no command or AUTH exchange in progress.
   */
  get isEvictable(): boolean {
    if (this.#trustedNetwork || this.#ended) return false;
    const s = this.#session;
    return !s || (s.user === null && !s.isBusy);
  }

  /** Closed to make room for a newcomer at the connection limit: 421, then the socket goes. */
  evict(): void {
    if (this.#ended) return;
    this.deps.logger.info({ event: 'smtp.evicted', listener: this.deps.session.listener, ip: this.#ip }, 'idle unauthenticated session closed to make room');
    this.#ended = true;
    this.#clearTimer();
    if (this.#session && this.#socket.writable) this.#socket.end('421 4.7.0 Too many connections, try again later\r\n');
    this.#lingerThenDestroy(EVICT_LINGER_MS);
    this.#wakeUp();
  }

  /** Runs the conversation to its end; never rejects (errors are logged and the socket destroyed). */
  async run(): Promise<void> {
    try {
      if (this.#implicitTls) {
        const info = await this.#upgrade();
        if (!info) return;
        this.#session = new SmtpSession(this.deps.session, info, this.#trustedNetwork);
      } else {
        this.#session = new SmtpSession(this.deps.session, null, this.#trustedNetwork);
        this.#listen(this.raw);
      }
      const greeting = this.#session.greet();
      if (greeting.action || greeting.close) await this.#perform(greeting);
      else this.#record(greeting); // the usual 220: no async step
      await new Promise<void>((resolve, reject) => {
        this.#commandsDone = resolve;
        this.#commandsFailed = reject;
        this.#commands(false);
      });
    } catch (err) {
      this.deps.logger.error({ event: 'smtp.session_error', listener: this.deps.session.listener, ip: this.#ip, err: errorText(err) }, 'SMTP session failed');
      this.destroy();
    } finally {
      if (this.#chunked) await this.#dropChunked().catch(() => { /* abort() logs and never throws */ });
      this.#end();
      this.#logBudget?.report(this.deps.logger, { listener: this.deps.session.listener, ip: this.#ip });
    }
  }

  /**
   * The command loop, driven by callbacks rather than a promise per wait: runs commands while
   * whole lines are received; with none, writes the gathered replies and parks (#wake = the
   * resume callback, under commandTimeout); an action (#perform: DATA, BDAT, AUTH, STARTTLS, a
   * metered RCPT) continues it once done. A wait ends by running the loop at once (from the socket's
   * data or end event, the timeout, or a close). Ends with #commandsDone (connection ended, or the client's EOF)
   * or #commandsFailed (an error: run() logs it and destroys the socket).
   * afterWait: resumed after a wait, where the loop took the next line without looking at #ended.
   */
  #commands(afterWait: boolean): void {
    try {
      const session = this.#session!;
      for (;;) {
        if (!afterWait && this.#ended) return this.#commandsDone();
        afterWait = false;
        const line = this.#takeLine();
        if (line === undefined) return this.#parkForCommand();
        if (line === null) return this.#commandsDone();
        let out = line === TOO_LONG ? session.lineTooLong() : session.handleLine(line);
        if (out.action?.type === 'chargeQuota' && !out.close) { // an unmetered RCPT: answered now, no promise chain
          const decision = this.deps.quota ? this.deps.quota.chargeNow?.(out.action.subject) : { ok: true as const };
          if (decision?.ok) { this.#record(out); out = session.quotaCharged(decision); }
        }
        if (out.action || out.close) { this.#perform(out).then(this.#afterAction, this.#commandsFailed); return; }
        this.#record(out); // replies only (most commands): what #perform would do, without its promise
        if (this.#chunked && !session.isReceivingChunks) { this.#dropChunked().then(this.#nextCommand, this.#commandsFailed); return; }
      }
    } catch (err) {
      this.#commandsFailed(err);
    }
  }

  /** No whole line received: the replies are written and the loop waits for input (or for them to drain). */
  #parkForCommand(): void {
    const timeoutMs = this.#commandTimeout();
    if (this.#out.length) {
      const drained = this.#flush();
      if (drained) { drained.then(this.#resumeAfterWait, this.#commandsFailed); return; }
      if (this.#ended || this.#eof) return this.#commands(true); // as the loop did: looked again before waiting
    }
    this.#wake = this.#resumeAfterWait;
    this.#armTimer(timeoutMs);
  }

  #commandsDone: () => void = () => {};
  #commandsFailed: (err: unknown) => void = () => {};
  readonly #nextCommand = () => this.#commands(false);
  readonly #resumeAfterWait = () => this.#commands(true);
  readonly #afterAction = () => {
    if (this.#chunked && !this.#session!.isReceivingChunks) this.#dropChunked().then(this.#nextCommand, this.#commandsFailed);
    else this.#commands(false);
  };

  /** Graceful shutdown: an idle session gets 421 now; a busy one after its transaction. */
  shutdown(): void {
    if (!this.#session) return this.destroy();
    if (this.#ended) return;
    const out = this.#session.shutdown();
    if (out.replies.length) {
      this.#out.push(...out.replies);
      this.#ended = true;
      this.#wakeUp();
    }
  }

  destroy(): void {
    this.#ended = true;
    this.#socket.destroy();
    if (this.#socket !== this.raw) this.raw.destroy();
    this.#wakeUp();
  }

  /** Write out the replies, carry out the action, and repeat with the session's next output. */
  async #perform(first: SessionOutput): Promise<void> {
    let out: SessionOutput | null = first;
    while (out) {
      this.#record(out);
      if (out.close) { this.#ended = true; return; }
      const action = out.action;
      if (!action) return;
      const session = this.#session!;
      if (action.type === 'startTls') {
        const info = await this.#upgrade();
        out = info ? session.tlsStarted(info) : null;
      } else if (action.type === 'verifyAuth') {
        const verified = await this.#verify(action.user, action.password);
        out = session.authVerified(verified.outcome, verified.grant);
      } else if (action.type === 'chargeQuota') {
        out = session.quotaCharged(await this.#chargeQuota(action.subject));
      } else if (action.type === 'receiveChunk') {
        const outcome = await this.#receiveChunk(action);
        out = outcome ? session.chunkReceived(outcome) : null;
      } else {
        const outcome = await this.#receiveData(action.transaction);
        out = outcome ? session.dataFinished(outcome) : null;
      }
    }
  }

  /** The session's log budget (log-budget.ts), made when first asked. */
  #logAllowed(event: string): boolean {
    return (this.#logBudget ??= new SessionLogBudget()).allow(event);
  }

  #record(out: SessionOutput) {
    const replies = out.replies;
    for (let i = 0; i < replies.length; i++) this.#out.push(replies[i]!); // indexed: no iterator per command
    for (let i = 0; i < replies.length; i++) {
      const r = replies[i]!;
      if (r.code < 400 || !this.#logAllowed('smtp.rejected')) continue;
      this.deps.logger.info({ event: 'smtp.rejected', listener: this.deps.session.listener, ip: this.#ip, command: out.command ?? null, code: r.code, enhanced: r.enhanced ?? null }, 'SMTP reply');
    }
  }

  /** STARTTLS / implicit TLS. Anything the client pipelined before the handshake is discarded. */
  async #upgrade(): Promise<TlsInfo | null> {
    // Paused, the raw socket keeps later bytes (the ClientHello) for the TLS layer to read; bytes
    // already received were pipelined after STARTTLS and are dropped (STARTTLS command injection).
    this.raw.removeAllListeners('data');
    this.raw.removeAllListeners('end');
    this.raw.pause();
    this.#inbox = [];
    this.#inboxBytes = 0;
    this.#buf = EMPTY;
    const flushed = this.#flush();
    if (flushed) await flushed;
    const secure = new tls.TLSSocket(this.raw, { isServer: true, secureContext: this.deps.secureContext });
    this.#socket = secure;
    secure.on('error', (err) => this.#onSocketError(err));
    secure.once('close', () => this.#onClosed());
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.deps.timeouts.commandMs);
      const done = (v: boolean) => { clearTimeout(timer); resolve(v); };
      secure.once('secure', () => done(true));
      secure.once('_tlsError', () => done(false));
      secure.once('close', () => done(false));
    });
    if (!ok || this.#ended) {
      this.deps.logger.debug({ event: 'smtp.tls_failed', listener: this.deps.session.listener, ip: this.#ip }, 'TLS handshake failed');
      this.destroy();
      return null;
    }
    this.#listen(secure);
    this.deps.logger.debug({ event: 'smtp.tls', listener: this.deps.session.listener, ip: this.#ip, protocol: secure.getProtocol(), cipher: secure.getCipher()?.name }, 'TLS established');
    return { protocol: secure.getProtocol() ?? 'TLS', cipher: secure.getCipher()?.name ?? 'unknown' };
  }

  async #verify(user: string, password: string): Promise<{ outcome: AuthOutcome; grant: AuthGrant | null }> {
    const { authLimiter, logger } = this.deps;
    const listener = this.deps.session.listener;
    const attempt = await authLimiter.begin(this.#ip, user);
    if (attempt === 'locked') {
      logger.warn({ event: 'smtp.auth_locked', listener, ip: this.#ip }, 'AUTH refused: client or user locked out');
      return { outcome: 'locked', grant: null };
    }
    let ok: boolean | AuthGrant;
    try { ok = await this.deps.authenticate(user, password); } catch (err) {
      attempt.abandoned();
      logger.error({ event: 'smtp.auth_error', listener, ip: this.#ip, err: errorText(err) }, 'AUTH check failed');
      return { outcome: 'error', grant: null };
    }
    if (ok) {
      attempt.succeeded();
      logger.info({ event: 'smtp.authenticated', listener, ip: this.#ip, user }, 'AUTH succeeded');
      return { outcome: 'ok', grant: ok === true ? null : ok };
    }
    const { delayMs, lockedOut } = attempt.failed();
    logger.warn({ event: 'smtp.auth_failed', listener, ip: this.#ip, lockedOut }, 'AUTH failed');
    await this.#pause(delayMs);
    return { outcome: 'failed', grant: null };
  }

  /** One recipient charged to the subject: ok, the quota's refusal (logged), or 451 4.3.0 when the store failed. */
  async #chargeQuota(subject: QuotaSubject): Promise<QuotaOutcome> {
    if (!this.deps.quota) return { ok: true };
    const base = { listener: this.deps.session.listener, ip: this.#ip, account: subject.account, user: subject.principal?.id ?? null };
    let decision: QuotaDecision;
    try { decision = await this.deps.quota.charge(subject, 1); } catch (err) {
      if (this.#logAllowed('smtp.quota_error')) this.deps.logger.error({ event: 'smtp.quota_error', ...base, err: errorText(err) }, 'quota check failed');
      return { ok: false, reply: QUOTA_UNAVAILABLE };
    }
    if (decision.ok) return decision;
    if (this.#logAllowed('smtp.quota_exceeded')) this.deps.logger.warn({
      event: 'smtp.quota_exceeded', ...base, key: decision.key, window: decision.window, limit: decision.limit,
      permanent: decision.permanent, retryAfterMs: decision.retryAfterMs,
    }, 'recipient refused: quota exceeded');
    return { ok: false, reply: decision.reply };
  }

  /** Streams DATA through the reader into accept.ts; null when the connection was lost. */
  async #receiveData(transaction: Transaction): Promise<DataOutcome | null> {
    const flushed = this.#flush();
    if (flushed) await flushed;
    const incoming = this.deps.acceptor.begin({ listener: this.deps.session.listener, clientIp: this.#ip, transaction });
    const reader = new DataReader(this.deps.limits);
    let pending = this.#buf;
    this.#buf = EMPTY;
    try {
      for (;;) {
        let chunk = pending.length ? pending : this.#takeChunk();
        pending = EMPTY;
        while (chunk === undefined) {
          await this.#waitForData();
          chunk = this.#takeChunk();
        }
        if (!chunk) { await incoming.abort(); return null; }
        const r = reader.push(chunk);
        if (r.kind === 'invalid') {
          await incoming.abort();
          this.deps.logger.warn({ event: 'smtp.bad_data', listener: this.deps.session.listener, ip: this.#ip, reason: r.reason }, 'bare CR/LF in DATA');
          return { reply: dataReplies.invalid };
        }
        for (const part of r.data) await incoming.write(part);
        if (r.kind === 'end') {
          this.#buf = r.rest;
          if (r.problem) incoming.reject(contentReply(r.problem, this.deps.limits));
          return await incoming.finish();
        }
      }
    } catch (err) {
      await incoming.abort();
      throw err;
    }
  }

  /**
   * Reads the `size` octets of one BDAT chunk into the transaction's message (or drops them, as the
   * session asked); null when the connection was lost or timed out before they all came.
   */
  async #receiveChunk(action: ChunkAction): Promise<ChunkOutcome | null> {
    if (action.sink === 'begin') {
      await this.#dropChunked();
      const incoming = this.deps.acceptor.begin({ listener: this.deps.session.listener, clientIp: this.#ip, transaction: action.transaction! });
      this.#chunked = { incoming, reader: new ChunkReader(this.deps.limits) };
    }
    const target = action.sink === 'discard' ? null : this.#chunked;
    if (action.sink !== 'discard' && !target) throw new Error('Connection: BDAT chunk for a message that is not open');
    let left = action.size;
    while (left > 0) {
      let piece = this.#buf.length ? this.#buf : this.#takeChunk();
      while (piece === undefined) {
        await this.#waitForData();
        piece = this.#takeChunk();
      }
      this.#buf = EMPTY;
      if (!piece) return null;
      if (piece.length > left) { this.#buf = piece.subarray(left); piece = piece.subarray(0, left); }
      left -= piece.length;
      if (target) for (const part of target.reader.push(piece)) await target.incoming.write(part);
    }
    if (!target) return 'ok';
    if (action.last) for (const part of target.reader.end()) await target.incoming.write(part);
    const problem = target.reader.problem;
    if (problem) {
      await this.#dropChunked();
      if ((problem === 'bare-cr' || problem === 'bare-lf') && this.#logAllowed('smtp.bad_data')) {
        this.deps.logger.warn({ event: 'smtp.bad_data', listener: this.deps.session.listener, ip: this.#ip, reason: problem, command: 'BDAT' }, 'bare CR/LF in BDAT data');
      }
      return { reply: chunkReply(problem, this.deps.limits) };
    }
    if (!action.last) return 'ok';
    this.#chunked = null;
    return target.incoming.finish();
  }

  /** Drops the message of a BDAT transaction that ended without being accepted. */
  async #dropChunked(): Promise<void> {
    const chunked = this.#chunked;
    this.#chunked = null;
    await chunked?.incoming.abort();
  }

  /**
   * The next command line (without its line ending), TOO_LONG, or null at the end — from what is
   * already received; undefined when no whole line is there yet (#parkForCommand waits, then the loop asks again).
   */
  #takeLine(): Buffer | typeof TOO_LONG | null | undefined {
    for (;;) {
      const lf = this.#buf.indexOf(LF);
      if (lf >= 0) {
        const line = this.#buf.subarray(0, lf > 0 && this.#buf[lf - 1] === 0x0d ? lf - 1 : lf);
        // the usual chunk holds one command: nothing left, no view of the rest
        this.#buf = lf + 1 === this.#buf.length ? EMPTY : this.#buf.subarray(lf + 1);
        if (!this.#skippingLongLine) return line;
        this.#skippingLongLine = false;
        return TOO_LONG;
      }
      if (this.#buf.length > MAX_AUTH_LINE + 2) {
        this.#skippingLongLine = true;
        this.#buf = EMPTY;
      }
      const chunk = this.#takeChunk();
      if (chunk === undefined) return undefined;
      if (chunk === null) return null;
      this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    }
  }

  /** Before AUTH on the submission listeners the wait is shorter (smtp.preAuthTimeout): idle unauthenticated sessions hold no slot for long. */
  #commandTimeout(): number {
    const t = this.deps.timeouts;
    const preAuth = this.deps.session.listener !== 'mx' && !this.#trustedNetwork && (this.#session?.user ?? null) === null;
    return preAuth && t.preAuthMs !== undefined ? Math.min(t.preAuthMs, t.commandMs) : t.commandMs;
  }

  /** The oldest received chunk; null when none is left and no more will come (ended, or the client's EOF); undefined: wait. */
  #takeChunk(): Buffer | null | undefined {
    const chunk = this.#inbox.shift();
    if (chunk === undefined) return this.#ended || this.#eof ? null : undefined;
    this.#inboxBytes -= chunk.length;
    if (this.#inboxBytes < INBOX_LOW_BYTES && this.#socket.isPaused()) this.#socket.resume();
    return chunk;
  }

  /**
   * Called by the DATA and BDAT reads when #takeChunk found nothing: writes the replies gathered so
   * far and waits until input comes, the connection ends or dataTimeout passes (#armTimer) — or,
   * when the client is not reading our replies, until they drain. The caller takes again after
   * either: one promise per wait, made with an executor shared by the connection's waits.
   */
  #waitForData(): Promise<void> {
    if (this.#out.length) {
      const drained = this.#flush();
      if (drained) return drained;
      if (this.#ended || this.#eof) return Promise.resolve(); // as #nextChunk did: looked again before waiting
    }
    return new Promise<void>(this.#waitExecutor);
  }

  readonly #waitExecutor = (resolve: () => void) => {
    this.#wake = resolve;
    this.#armTimer(this.deps.timeouts.dataMs);
  };

  #listen(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.#ended) return;
      this.#inbox.push(chunk);
      this.#inboxBytes += chunk.length;
      if (this.#inboxBytes > INBOX_HIGH_BYTES) socket.pause();
      this.#wakeUp();
    });
    socket.on('end', () => { this.#eof = true; this.#wakeUp(); });
    socket.resume(); // proxy-handshake.ts leaves the raw socket paused after the PROXY header
  }

  /** Writes the gathered replies; a promise only when the client is not reading them (wait for drain). */
  #flush(): Promise<void> | undefined {
    if (this.#out.length === 0 || this.#socket.destroyed) { this.#out = []; return undefined; }
    const text = formatReplies(this.#out);
    this.#out = [];
    this.#socket.write(text);
    if (this.#socket.writableLength > WRITE_HIGH_BYTES) {
      // the client is not reading our replies: wait, but not longer than a command may take
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.destroy(); resolve(); }, this.deps.timeouts.commandMs);
        this.#socket.once('drain', () => { clearTimeout(timer); resolve(); });
        this.#socket.once('close', () => { clearTimeout(timer); resolve(); });
      });
    }
    return undefined;
  }

  /** Writes what is left and ends our side; the peer gets LINGER_MS to close its side. */
  #end(): void {
    this.#ended = true;
    this.#clearTimer();
    const socket = this.#socket;
    if (socket.destroyed) return;
    // QUIT answered on a plaintext socket, nothing of the client's left unread: close as soon as
    // the 221 is in the kernel, as Postfix does (a close with nothing unread sends FIN, not RST).
    // Still reading, a client's abortive close (SO_LINGER 0: smtp-source, many libraries) came
    // back as an ECONNRESET read: an Error with a formatted stack per connection (~1.4 % of the
    // main thread on workload i).
    const bye = this.#out.at(-1)?.code === 221 && socket === this.raw && this.#buf.length === 0 && this.#inbox.length === 0;
    const text = formatReplies(this.#out);
    this.#out = [];
    if (bye) {
      // The 221 written, then closed: if it is all in the kernel, destroy() alone sends it and the FIN
      // (end() would first ask libuv for a shutdown that the close at once cancels: a request, its
      // callback and the stream's finish steps per connection for nothing on the wire).
      socket.write(text);
      if (socket.writableLength === 0) return void socket.destroy(); // gone now: nothing to linger for
      socket.end();
      socket.once('finish', () => socket.destroy());
      this.#lingerThenDestroy(LINGER_MS); // a client not reading our 221
      return;
    }
    socket.end(text);
    socket.resume(); // keep draining what the client still sends, so our last reply is not lost to a reset
    this.#lingerThenDestroy(LINGER_MS);
  }

  /**
   * Destroys the socket if the peer has not closed within `ms` of our end. Cleared once both sockets
   * have closed: left running, its closure held the Connection, its socket and session for the
   * whole linger time after every close (2 s: ~3,300 finished connections alive at once on workload
   * i, all promoted to the old space).
   */
  #lingerThenDestroy(ms: number) {
    if (this.#linger) clearTimeout(this.#linger);
    this.#linger = setTimeout(() => { this.#linger = null; this.destroy(); }, ms);
    this.#linger.unref();
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.closed.then(() => { clearTimeout(timer); resolve(); });
    });
  }

  /** Starts the wait's timeout: this length's timer re-armed, or a new one the first time. */
  #armTimer(ms: number) {
    this.#waitMs = ms;
    for (const t of this.#timers) if (t.ms === ms) { t.timer.refresh(); return; }
    this.#timers.push({ ms, timer: setTimeout(() => { if (this.#waitMs === ms && this.#wake) this.#onTimeout(); }, ms) });
  }

  #onTimeout() {
    this.#waitMs = 0;
    this.deps.logger.info({ event: 'smtp.timeout', listener: this.deps.session.listener, ip: this.#ip }, 'client timed out');
    if (this.#session && !this.#ended) this.#out.push(...this.#session.timedOut().replies);
    this.#ended = true;
    this.#wakeUp();
  }

  #onSocketError(err: Error) {
    this.deps.logger.debug({ event: 'smtp.socket_error', listener: this.deps.session.listener, ip: this.#ip, err: err.message }, 'socket error');
    this.destroy();
  }

  #onClosed() {
    this.#ended = true;
    this.#clearTimer();
    if (this.#linger && this.raw.destroyed && this.#socket.destroyed) { clearTimeout(this.#linger); this.#linger = null; }
    this.#wakeUp();
    this.#resolveClosed();
  }

  #wakeUp() {
    const wake = this.#wake;
    if (!wake) return;
    this.#wake = null;
    this.#waitMs = 0; // the wait is over: its timer, if it fires now, is ignored
    wake();
  }

  #clearTimer() {
    this.#waitMs = 0;
    for (const t of this.#timers) clearTimeout(t.timer);
    this.#timers = [];
  }
}

/** The client's address as logged and stored: IPv4-mapped IPv6 (dual-stack listeners) as plain IPv4. */
export const clientIp = (socket: net.Socket): string => {
  const address = socket.remoteAddress ?? 'unknown';
  // only an address that starts with "::" can be IPv4-mapped: the others skip the expression
  return address.startsWith('::') ? address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '') : address;
};

const errorText = (err: unknown) => (err instanceof Error ? err.stack ?? err.message : String(err));
