// Owns one SMTP transaction: one message (one job's recipients, one domain) to one address of
// one host, over a cached session when there is one. Returns per-recipient results, or a host
// failure meaning "this host could not take the message; try the next one". Never throws.
// An aborted signal (a stop) destroys the session; so does the attempt's deadline passing
// (attempt-deadline.ts): the session is never reused and the host failure is the deadline's 4.4.2.
// DSN (RFC 3461): when the host advertises DSN, RET/ENVID go on MAIL and each recipient's own
// NOTIFY/ORCPT on its RCPT, xtext-encoded; whether it did is reported (nextHopDsn) so a recipient
// that asked NOTIFY=SUCCESS gets a "relayed" notice from us when the next hop will not send one.
import type { Readable } from 'node:stream';
import { isQueueUnavailable, QueueUnavailableError } from '../errors.js';
import type { QueueStore } from '../store/store.js';
import { classifyError, type Verdict } from './classify.js';
import type { ConnectionPool, SendInfo, SessionTarget, SmtpError, SmtpSession } from './connection-pool.js';
import { TlsRequirementFailure } from './tls-check.js';
import { encodeXtext, formatNotify, formatOrcpt, type MessageDsn, type RecipientDsn } from '../message/dsn-params.js';
import { needsEnvelope, requireTlsFailure, sessionRefusal } from './next-hop-needs.js';
import type { MessageTransport } from '../message/transport-needs.js';
import type { TlsResult } from './tls-policy.js';
import { DEADLINE_VERDICT, type AttemptDeadline } from './attempt-deadline.js';

export interface AttemptMessage {
  messageId: string;
  /** '' for the null reverse-path. */
  mailFrom: string;
  size: number;
  /** Unique recipient addresses, in RCPT order. */
  recipients: string[];
  /** The scheduler's per-destination key (the job's recipient domain): sessions are kept per destination. */
  destination?: string;
  /** RET/ENVID and each recipient's NOTIFY/ORCPT, passed on when the host speaks DSN; absent: none. */
  dsn?: Pick<MessageDsn, 'ret' | 'envid'> & { recipients?: ReadonlyMap<string, RecipientDsn> };
  /** What the next hop must offer (REQUIRETLS, SMTPUTF8; next-hop-needs.ts); absent: nothing. */
  transport?: MessageTransport;
}

export type RecipientResult =
  | { address: string; outcome: 'delivered'; response: string }
  | { address: string; outcome: 'failed'; verdict: Verdict };

export interface HostAttempt {
  target: SessionTarget;
  /** The session's TLS outcome; null when no session got as far as a TLS judgement. */
  tls: TlsResult | null;
  /** Set when the host took no decision on the message (connection, TLS, greeting, 4xx MAIL…). */
  hostFailure: Verdict | null;
  /** One per recipient when hostFailure is null. */
  recipients: RecipientResult[];
  /** The host advertised DSN (RFC 3461) in its EHLO reply: it carries the notification requests on. */
  nextHopDsn?: boolean;
  /**
   * The queued message could not be read because the queue store is unreachable (a
   * QueueUnavailableError): the transaction was abandoned before its end of data, nothing was
   * delivered, and no other host can do better. Set together with hostFailure.
   */
  queueUnavailable?: unknown;
}

interface Transaction { recipients: RecipientResult[]; hostFailure: Verdict | null; reusable: boolean; connectionLost: boolean; queueUnavailable?: unknown }

/** Errors that mean the connection itself broke (as opposed to a reply about the message). */
const CONNECTION_ERRORS = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EPROTOCOL']);
/**
 * The largest message read whole before MAIL FROM (readMessage), which nodemailer then gets as one
 * Buffer and smtp-connection.ts writes straight to the socket (no Readable, generator, DataStream,
 * pipe). 256 KiB: every body SQLite stores inline (INLINE_MAX_BYTES) with its header prefix under
 * it; such a body comes from the store in one piece anyway, so the stream held the same bytes.
 * Larger ones (spool files) are streamed, their read overlapping the envelope's round trip.
 * At 100 KB (workload ii) this was 32 KiB until the thirteenth session: the eleventh measured the
 * whole read through DataStream (relay CPU 1.03); since the direct write (twelfth) see bench/README.md,
 * thirteenth session (helper large13).
 */
const WHOLE_READ_MAX = 256 * 1024;
/** The queue could not give the message's bytes: tried again later, whatever the server said. */
const UNREADABLE: Verdict = { kind: 'temporary', status: '4.3.0', reason: 'could not read the queued message' };

export class SmtpAttempt {
  readonly #pool: ConnectionPool;
  readonly #store: Pick<QueueStore, 'readMessage' | 'readBody'>;

  constructor(opts: { pool: ConnectionPool; store: Pick<QueueStore, 'readMessage' | 'readBody'> }) {
    this.#pool = opts.pool;
    this.#store = opts.store;
  }

  /** `deadline`: the attempt's (attempt-deadline.ts); once passed, the connection in use is reset and the attempt ends. */
  async run(message: AttemptMessage, target: SessionTarget, signal?: AbortSignal, deadline?: AttemptDeadline): Promise<HostAttempt> {
    const destination = message.destination ?? '';
    if (deadline?.passed) return { target, tls: null, hostFailure: DEADLINE_VERDICT, recipients: [] };
    let session = this.#pool.take(target, destination);
    // A cached session is reset (RSET, pipelined with the transaction when the server offers
    // PIPELINING) and may have died while idle: one retry on a fresh connection.
    for (let retried = false; ; retried = true) {
      const reused = session !== null;
      if (!session) {
        try {
          session = await this.#pool.open(target, signal, destination, deadline);
        } catch (err) {
          if (deadline?.passed) return { target, tls: null, hostFailure: DEADLINE_VERDICT, recipients: [] };
          const tls = err instanceof TlsRequirementFailure ? err.tls : null;
          return { target, tls, hostFailure: requireTlsFailure(message.transport, err, target.host) ?? classifyError(err), recipients: [] };
        }
      }
      if (deadline) deadline.conn = session.conn;
      const t = await this.#transact(session, message, target.host, signal, reused);
      if (deadline) deadline.conn = null;
      const cut = deadline?.passed === true; // the connection was reset (if the transaction had ended, its result stands)
      this.#pool.release(session, t.reusable && !signal?.aborted && !cut);
      if (t.connectionLost && reused && !retried && !signal?.aborted && !cut) { session = null; continue; }
      return { target, tls: session.tls, hostFailure: cut && t.hostFailure ? DEADLINE_VERDICT : t.hostFailure, recipients: t.recipients, nextHopDsn: speaksDsn(session),
        ...(t.queueUnavailable ? { queueUnavailable: t.queueUnavailable } : {}) };
    }
  }

  /** `reset`: the session carried a transaction before (RSET first). */
  async #transact(session: SmtpSession, m: AttemptMessage, host: string, signal: AbortSignal | undefined, reset: boolean): Promise<Transaction> {
    const refused = sessionRefusal({ from: m.mailFrom, to: m.recipients, transport: m.transport }, session, host);
    if (refused) return { recipients: [], hostFailure: refused, reusable: true, connectionLost: false };
    // A small message is read before MAIL FROM: one Buffer, which nodemailer writes without a
    // stream; nothing was sent yet if the read fails, so the session stays usable. A large one is
    // streamed, its read overlapping the envelope's round trip (WHOLE_READ_MAX).
    let body: Buffer | Readable;
    try {
      body = m.size <= WHOLE_READ_MAX ? await this.#store.readMessage(m.messageId) : this.#store.readBody(m.messageId);
    } catch (err) {
      if (isQueueUnavailable(err)) return { recipients: [], hostFailure: UNREADABLE, reusable: true, connectionLost: false, queueUnavailable: new QueueUnavailableError((err as Error).message, { cause: err }) };
      return { recipients: [], hostFailure: { ...classifyError(Object.assign(err as Error, { code: 'ESTREAM' })) }, reusable: true, connectionLost: false };
    }
    session.messages++;
    let unreadable: Error | null = null; // a spool file's stream: nodemailer rewrites the error's code to ESTREAM, so judge it as it comes
    if (!Buffer.isBuffer(body)) body.once('error', (err) => { if (isQueueUnavailable(err)) unreadable = new QueueUnavailableError(err.message, { cause: err }); });
    try {
      passDsn(session, m.dsn);
      const dsn = m.dsn && (m.dsn.ret || m.dsn.envid) ? { dsn: { ret: m.dsn.ret ?? null, envid: m.dsn.envid ?? null } } : {};
      const info = await session.send({ from: m.mailFrom, to: m.recipients, size: m.size, use8BitMime: true, ...dsn, ...needsEnvelope({ from: m.mailFrom, to: m.recipients, transport: m.transport }) } as SmtpEnvelope, body, signal, reset);
      return { recipients: resultsFromInfo(m.recipients, info), hostFailure: null, reusable: true, connectionLost: false };
    } catch (err) {
      if (!Buffer.isBuffer(body)) body.destroy();
      const t = resultsFromError(m.recipients, err as SmtpError, session);
      if (!unreadable) return t;
      const hostFailure = t.hostFailure ?? UNREADABLE;
      return { recipients: [], hostFailure, reusable: false, connectionLost: false, queueUnavailable: unreadable };
    }
  }
}

function resultsFromInfo(recipients: string[], info: SendInfo): RecipientResult[] {
  const accepted = new Set(info.accepted.map(String));
  const rejected = byRecipient(info.rejectedErrors);
  // pushed to, not recipients.map(): map()'s array changes elements kind once this is optimised, and
  // run-job's optimised loop over it deoptimised ("wrong map", bench/README.md twenty-third session)
  const results: RecipientResult[] = [];
  for (const address of recipients) {
    results.push(accepted.has(address) ? { address, outcome: 'delivered', response: info.response }
      : { address, outcome: 'failed', verdict: classifyError(rejected.get(address)) });
  }
  return results;
}

/** A failed send: a reply about the envelope or the message, or a broken connection. */
function resultsFromError(recipients: string[], err: SmtpError, session: SmtpSession): Transaction {
  const verdict = classifyError(err);
  const replied = typeof err.responseCode === 'number' && (err.code === 'EENVELOPE' || err.code === 'EMESSAGE');
  if (err.code === 'EMESSAGE' && !replied && /size/i.test(err.message)) {
    // The server's advertised SIZE is smaller than the message: it will never take it.
    const tooBig: Verdict = { kind: 'permanent', status: '5.3.4', reason: 'the message is larger than the receiving server accepts' };
    return { recipients: recipients.map((address) => ({ address, outcome: 'failed', verdict: tooBig })), hostFailure: null, reusable: true, connectionLost: false };
  }
  if (!replied) {
    return { recipients: [], hostFailure: verdict, reusable: false, connectionLost: CONNECTION_ERRORS.has(String(err.code)) };
  }
  if (err.command === 'MAIL FROM' && verdict.kind === 'temporary') {
    return { recipients: [], hostFailure: verdict, reusable: true, connectionLost: false };
  }
  const rcptErrors = byRecipient(err.rejectedErrors ?? envelopeRejections(session));
  const results: RecipientResult[] = recipients.map((address) => {
    const own = err.command === 'MAIL FROM' ? undefined : rcptErrors.get(address);
    return { address, outcome: 'failed', verdict: own ? classifyError(own) : verdict };
  });
  return { recipients: results, hostFailure: null, reusable: true, connectionLost: false };
}

function byRecipient(errors: SmtpError[] | undefined): Map<string, SmtpError> {
  return new Map((errors ?? []).map((e) => [String((e as SmtpError & { recipient?: string }).recipient), e]));
}

/**
 * RCPT rejections of the transaction when DATA failed: nodemailer reports them only on success
 * or when all recipients were refused, so read its envelope state (internal; absent → none).
 */
function envelopeRejections(session: SmtpSession): SmtpError[] | undefined {
  const envelope = (session.conn as unknown as { _envelope?: { rejectedErrors?: SmtpError[] } | false })._envelope;
  return envelope ? envelope.rejectedErrors : undefined;
}

type SmtpEnvelope = Parameters<SmtpSession['send']>[0];

/** Internal state of nodemailer's SMTPConnection used to pass DSN parameters per recipient. */
interface DsnInternals { _supportedExtensions?: string[]; _recipientQueue?: string[]; _getDsnRcptToArgs?: () => string }

/** Whether the session's server advertised DSN (nodemailer's parsed EHLO extensions; internal). */
function speaksDsn(session: SmtpSession): boolean {
  return ((session.conn as unknown as DsnInternals)._supportedExtensions ?? []).includes('DSN');
}

/**
 * nodemailer writes one NOTIFY/ORCPT for every RCPT of an envelope; each recipient has its own, so
 * the connection's RCPT-argument hook (called right after the recipient is queued) is replaced for
 * this transaction: the last queued recipient's NOTIFY/ORCPT, xtext-encoded, only when the server
 * advertised DSN. RET/ENVID go through nodemailer's own envelope.dsn (it checks DSN itself).
 */
function passDsn(session: SmtpSession, dsn: AttemptMessage['dsn']): void {
  const conn = session.conn as unknown as DsnInternals;
  const byRcpt = dsn?.recipients;
  conn._getDsnRcptToArgs = () => {
    if (!byRcpt || !speaksDsn(session)) return '';
    const queue = conn._recipientQueue ?? [];
    const own = byRcpt.get(queue[queue.length - 1] ?? '');
    if (!own) return '';
    const args = [...(own.notify ? [`NOTIFY=${encodeXtext(formatNotify(own.notify))}`] : []), ...(own.orcpt ? [`ORCPT=${formatOrcpt(own.orcpt)}`] : [])];
    return args.length ? ` ${args.join(' ')}` : '';
  };
}
