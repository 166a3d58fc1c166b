// Owns the SMTP conversation of one connection (RFC 5321, 3207, 4954, 6531, 1870, 2034, 3030) as
// a sans-IO state machine: inputs are events (greet, a command line, TLS done, AUTH verified, DATA
// finished, a BDAT chunk read, timeout, shutdown), outputs are replies plus at most one action for
// the listener to carry out (startTls, verifyAuth, receiveData, receiveChunk). No sockets, no
// timers, no clock.
//
// CHUNKING (RFC 3030, BDAT; BINARYMIME is not offered): every well-formed `BDAT <size> [LAST]`
// makes the listener read exactly <size> octets (receiveChunk), whatever the state, so chunk bytes
// are never read as commands; the reply comes after them (chunkReceived). Without MAIL or RCPT the
// bytes are discarded and the answer is 503; after a refused chunk the later chunks of the
// transaction are discarded with the same refusal, up to LAST or RSET. A malformed BDAT leaves the
// chunk's length unknown, so the reply is 521 and the connection is closed (as Postfix). DATA or RCPT after BDAT
// in one transaction: 503.
//
// Per listener: submission/alt offer STARTTLS, and AUTH only after TLS; submissions is TLS from
// the first byte; all three require AUTH before MAIL, except for clients in smtp.relayNetworks on
// submission/alt (like Postfix mynetworks). mx never offers AUTH and accepts RCPT only for local
// domains. Relay tricks are refused for every client that may not relay.
//
// Quotas (when opts.quotas): each RCPT a submission would accept is first charged to the sender's
// account (and the user's own limits) through the chargeQuota action; quotaCharged() then answers
// 250 or the refusal (452 4.7.1 / 550 5.7.1 / 451 4.3.0) for that RCPT only. mx is never charged.
import { keepWireForm, reply, type Reply } from '../../message/reply.js';
import type { UserDomainGrant } from '../../store/store.js';
import { DEFAULT_ACCOUNT, type RateLimits } from '../../store/platform-store.js';
import type { QuotaSubject } from '../../accounts/quota.js';
import { authorisedDomain, type DomainUser } from '../../domains/authorisation.js';
import { isBounceAddress } from '../../domains/bounce-address.js';
import { isUnsubscribeAddress } from '../../events/unsubscribe.js';
import { parseMailArgs, parseRcptArgs, relayTrickIn, type ArgsError, type Mailbox, type MailParams } from '../../message/address.js';
import { queuedText } from '../recipient-split.js';
import type { MessageDsn, RecipientDsn } from '../../message/dsn-params.js';

export type ListenerName = 'submission' | 'submissions' | 'alt' | 'mx';

export interface SessionOptions {
  listener: ListenerName;
  hostname: string;
  banner: string;
  /** Lower-case domains whose mail the mx listener accepts (hostname included). */
  localDomains: ReadonlySet<string>;
  /**
   * domains.bounceDomain.label: bounce+<id>…@<label>.<domain> recipients are local (VERP returns);
   * null: none. Their form is enough here: bounce processing checks the MAC (and logs forgeries).
   */
  bounceLabel?: string | null;
  maxMessageSize: number;
  maxRecipients: number;
  maxBadCommands: number;
  /** TLS established before the greeting (the submissions listener). */
  tls: TlsInfo | null;
  /** The client is in smtp.relayNetworks (submission/alt only): may submit without TLS or AUTH. */
  trustedNetwork: boolean;
  /** Charge each accepted RCPT of a submission to its account (the chargeQuota action). */
  quotas?: boolean;
}

/** What a successful AUTH check may return: the sender-domain grant, the user's account and own limits. */
export interface AuthGrant extends UserDomainGrant {
  /** The user's account; absent: 'default'. */
  account?: string;
  /** The user's own limits, on top of the account's. */
  limits?: RateLimits;
  /** The stream of the user's messages that name none (X-Postlane-Stream); absent: transactional. */
  defaultStream?: 'transactional' | 'broadcast';
}

export interface TlsInfo { protocol: string; cipher: string }

/** Everything accept.ts needs about one finished transaction. */
export interface Transaction {
  mailFrom: string;
  recipients: string[];
  smtputf8: boolean;
  helo: string;
  esmtp: boolean;
  tls: TlsInfo | null;
  user: string | null;
  /** The authenticated user's sender-domain grant; null: unrestricted (or not authenticated). */
  grant: DomainUser | null;
  /** Authenticated, or from smtp.relayNetworks: a submission (accept.ts adds Message-ID/Date). */
  submission: boolean;
  /** The account the message belongs to: the user's, 'default' for relayNetworks; null/absent for mx mail. */
  account?: string | null;
  /** The authenticated user's default stream; absent: transactional. */
  defaultStream?: 'transactional' | 'broadcast';
  /** The DSN parameters given (RET, ENVID, each recipient's NOTIFY and ORCPT); absent: none. */
  dsn?: MessageDsn;
  /** MAIL FROM … REQUIRETLS (RFC 8689): relay only over verified TLS to hops offering REQUIRETLS; absent: false. */
  requireTls?: boolean;
}

export type SessionAction =
  | { type: 'startTls' }
  | { type: 'verifyAuth'; user: string; password: string }
  | { type: 'receiveData'; transaction: Transaction }
  /**
   * Read exactly `size` octets: 'begin' starts a message with `transaction` (the first chunk),
   * 'append' adds to it, 'discard' reads and drops them (the session already knows its refusal).
   */
  | { type: 'receiveChunk'; size: number; last: boolean; sink: 'begin' | 'append' | 'discard'; transaction?: Transaction }
  | { type: 'chargeQuota'; subject: QuotaSubject; recipient: string };

/** The answer to chargeQuota: charged, or the reply refusing this RCPT. */
export type QuotaOutcome = { ok: true } | { ok: false; reply: Reply };

export interface SessionOutput {
  replies: Reply[];
  action?: SessionAction;
  /** Close the connection once the replies are written. */
  close: boolean;
  /** The command verb handled, for logs (never its arguments: AUTH payloads stay out of logs). */
  command?: string;
}

/** `copies`: the message was split into that many stored messages (one per recipient), queuedAs the first. */
export type DataOutcome = { queuedAs: string; copies?: number } | { reply: Reply };
/**
 * What reading a BDAT chunk came to: 'ok' (stored, or discarded as asked), a refusal of the message
 * (too big, bare CR/LF, ...), or, for a LAST chunk that was stored, the message's acceptance.
 */
export type ChunkOutcome = 'ok' | DataOutcome;
/** ok; failed (wrong credentials); locked (client locked out); error (could not check, e.g. store down). */
export type AuthOutcome = 'ok' | 'failed' | 'locked' | 'error';

type Waiting = 'command' | 'auth-plain' | 'auth-login-user' | 'auth-login-pass' | 'verify' | 'quota' | 'data' | 'chunk' | 'tls' | 'closed';
interface Step { replies: Reply[]; action?: SessionAction }
interface Tx { from: Mailbox | null; params: MailParams; rcpts: string[]; rcptDsn: Record<string, RecipientDsn> }
/** A BDAT transaction: its message was started by a first chunk; failed: the refusal every later chunk gets. */
interface Chunked { failed: Reply | null }
/** The chunk being read: its BDAT arguments and, if it is refused whatever its bytes, the refusal. */
interface PendingChunk { size: number; last: boolean; refusal: Reply | null }

/** Command lines may be 512 octets with CRLF (RFC 5321 §4.5.3.1.4); AUTH lines carry base64 up to 2048. */
export const MAX_COMMAND_LINE = 510;
export const MAX_AUTH_LINE = 2046;

const HELO_NAME = /^[A-Za-z0-9._:[\]-]{1,255}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const NOT_IMPLEMENTED = new Set(['EXPN', 'ETRN', 'TURN', 'ATRN', 'SEND', 'SOML', 'SAML', 'VERB']);
/** RFC 3030: "BDAT" SP chunk-size [SP "LAST"]; at most 15 digits, so the size is an exact number. */
const BDAT_ARGS = /^(\d{1,15})(?: (LAST))?$/i;
const HTTP_VERBS = new Set(['GET', 'POST', 'HEAD', 'PUT', 'CONNECT', 'OPTIONS']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

const say = (...replies: Reply[]): Step => ({ replies });
const R = {
  ok: reply(250, '2.0.0', 'Ok'),
  /** MAIL and RCPT accepted: one value shared by every transaction (replies are never changed in place). */
  mailOk: reply(250, '2.1.0', 'Ok'),
  rcptOk: reply(250, '2.1.5', 'Ok'),
  bye: reply(221, '2.0.0', 'Bye', true),
  needHelo: reply(503, '5.5.1', 'Send HELO/EHLO first'),
  needEhlo: reply(503, '5.5.1', 'Send EHLO first'),
  needMail: reply(503, '5.5.1', 'Need MAIL command'),
  needRcpt: reply(503, '5.5.1', 'Need RCPT command'),
  /** RFC 7504 521: we close; Postfix answers a malformed BDAT the same way and hangs up. */
  badBdat: reply(521, '5.5.4', 'Syntax: BDAT count [LAST]', true),
  notImplemented: reply(502, '5.5.1', 'Command not implemented'),
  unrecognized: reply(500, '5.5.2', 'Command unrecognized'),
  lineTooLong: reply(500, '5.5.2', 'Line too long'),
  tooManyErrors: reply(421, '4.7.0', 'Too many errors, closing connection', true),
  shuttingDown: reply(421, '4.3.2', 'Service shutting down', true),
  relayDenied: reply(550, '5.7.1', 'Relaying denied'),
  needUtf8: reply(553, '5.6.7', 'Non-ASCII address requires SMTPUTF8'),
  badBase64: reply(501, '5.5.2', 'Invalid base64 data'),
  dataGo: reply(354, undefined, 'End data with <CR><LF>.<CR><LF>'),
};
/**
 * The steps of the commands answered by one shared reply, made once (was a rest array and a Step per
 * command): #finish never changes a step's replies in place (it makes a new array when it must).
 */
const S = { ok: say(R.ok), mailOk: say(R.mailOk), rcptOk: say(R.rcptOk), bye: say(R.bye) };
/** The shared replies above as sent before EHLO (without their enhanced codes), made once. */
const PLAIN = new Map<Reply, Reply>(Object.values(R).map((r) => [r, strip(r)]));
for (const [r, plain] of PLAIN) { keepWireForm(r); keepWireForm(plain); } // sent as they are, many times: formatted once

/** What depends only on a session's options (one object per listener): built once, not per connection. */
interface OptionReplies { greeting: Reply; helo: Reply; ehlo: (Reply | undefined)[] }
const OPTION_REPLIES = new WeakMap<object, OptionReplies>();

export class SmtpSession {
  #helo: string | null = null;
  #esmtp = false;
  #tls: TlsInfo | null;
  #user: string | null = null;
  #grant: DomainUser | null = null;
  #account: string | null = null;
  #defaultStream: 'transactional' | 'broadcast' | undefined;
  #userLimits: RateLimits = {};
  #pendingRcpt = '';
  #pendingRcptDsn: RecipientDsn | null = null;
  #tx: Tx | null = null;
  #chunked: Chunked | null = null;
  #chunk: PendingChunk | null = null;
  #waiting: Waiting = 'command';
  #loginUser = '';
  #pendingUser = '';
  #badCommands = 0;
  #draining = false;
  /** #quotaSubject's value for the current #user/#account/#userLimits; null: made at the next RCPT. */
  #subject: QuotaSubject | null = null;

  readonly #trustedNetwork: boolean;

  /**
   * `tls` and `trustedNetwork` given apart let a listener share one options object among all its
   * sessions (no copy per connection); absent, they are read from `opts`.
   */
  constructor(private readonly opts: Omit<SessionOptions, 'tls' | 'trustedNetwork'> & Partial<Pick<SessionOptions, 'tls' | 'trustedNetwork'>>,
    tls: TlsInfo | null = opts.tls ?? null, trustedNetwork: boolean = opts.trustedNetwork ?? false) {
    this.#tls = tls;
    this.#trustedNetwork = trustedNetwork;
  }

  get isBusy(): boolean { return this.#tx !== null || (this.#waiting !== 'command' && this.#waiting !== 'closed'); }
  get isClosed(): boolean { return this.#waiting === 'closed'; }
  /** A message is being received in BDAT chunks and has not been refused: the listener keeps its sink open. */
  get isReceivingChunks(): boolean { return this.#chunked !== null && this.#chunked.failed === null; }
  /** The authenticated user, if any. */
  get user(): string | null { return this.#user; }

  greet(): SessionOutput {
    return this.#finish(say(this.#optionReplies.greeting));
  }

  /** The greeting, HELO and EHLO replies of these options (made for the first session that has them). */
  get #optionReplies(): OptionReplies {
    let o = OPTION_REPLIES.get(this.opts);
    if (!o) {
      // stored as sent before EHLO (no enhanced code): #finish passes them on as they are
      o = { greeting: keepWireForm(strip(reply(220, undefined, `${this.opts.hostname} ${this.opts.banner}`))), helo: keepWireForm(strip(reply(250, undefined, this.opts.hostname))), ehlo: [] };
      OPTION_REPLIES.set(this.opts, o);
    }
    return o;
  }

  /** One line from the client, without its line ending. */
  handleLine(line: Buffer): SessionOutput {
    const auth = this.#waiting.startsWith('auth-');
    if (!auth && this.#waiting !== 'command') throw new Error(`SmtpSession: line while waiting for ${this.#waiting}`);
    const isAuthLine = auth || startsWithAuth(line);
    if (line.length > (isAuthLine ? MAX_AUTH_LINE : MAX_COMMAND_LINE)) return this.lineTooLong();
    if (line.includes(0)) return this.#finish(this.#endAuth(say(reply(500, '5.5.2', 'NUL bytes are not allowed'))), auth ? 'AUTH' : undefined);
    let text: string;
    try { text = utf8.decode(line); } catch {
      return this.#finish(this.#endAuth(say(reply(500, '5.5.2', 'Invalid UTF-8'))), auth ? 'AUTH' : undefined);
    }
    if (auth) return this.#finish(this.#authContinue(text), 'AUTH');
    const sp = text.indexOf(' ');
    const verb = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : text.slice(sp + 1);
    const known = Object.hasOwn(SmtpSession.#handlers, verb) ? verb : undefined;
    if (this.#draining && !this.#tx && verb !== 'QUIT') return this.#finish(say(R.shuttingDown), known);
    return this.#finish(this.#dispatch(verb, arg), known);
  }

  /** The listener dropped a line longer than the limits. */
  lineTooLong(): SessionOutput {
    return this.#finish(this.#endAuth(say(R.lineTooLong)));
  }

  tlsStarted(info: TlsInfo): SessionOutput {
    this.#expect('tls');
    // RFC 3207 §4.2: forget everything learnt before TLS; the client must EHLO again.
    this.#tls = info;
    this.#helo = null;
    this.#esmtp = false;
    this.#resetTransaction();
    this.#user = null;
    this.#grant = null;
    this.#account = null;
    this.#defaultStream = undefined;
    this.#userLimits = {};
    this.#subject = null;
    this.#waiting = 'command';
    return { replies: [], close: false };
  }

  authVerified(outcome: AuthOutcome, grant: AuthGrant | null = null): SessionOutput {
    this.#expect('verify');
    this.#waiting = 'command';
    if (outcome === 'ok') {
      this.#user = this.#pendingUser;
      this.#grant = grant ? { name: this.#user, allowedDomains: grant.allowedDomains, anyDomain: grant.anyDomain } : null;
      this.#account = grant?.account ?? DEFAULT_ACCOUNT;
      this.#userLimits = grant?.limits ?? {};
      this.#defaultStream = grant?.defaultStream;
      this.#subject = null;
      return this.#finish(say(reply(235, '2.7.0', 'Authentication successful')), 'AUTH');
    }
    if (outcome === 'error') return this.#finish(say(reply(454, '4.7.0', 'Temporary authentication failure')), 'AUTH');
    if (outcome === 'locked') return this.#finish(say(reply(421, '4.7.0', 'Too many failed authentications, try again later', true)), 'AUTH');
    return this.#finish(say(reply(535, '5.7.8', 'Authentication credentials invalid')), 'AUTH');
  }

  /** The result of the chargeQuota action for the pending RCPT. */
  quotaCharged(outcome: QuotaOutcome): SessionOutput {
    this.#expect('quota');
    this.#waiting = 'command';
    // A quota refusal is policy, not a client error: it does not use up the error budget (closing
    // with 421 would also lose the recipients already accepted in this transaction).
    if (!outcome.ok) return this.#finish(say(outcome.reply), 'RCPT', false);
    this.#tx?.rcpts.push(this.#pendingRcpt);
    if (this.#tx && this.#pendingRcptDsn) this.#tx.rcptDsn[this.#pendingRcpt] = this.#pendingRcptDsn;
    return this.#finish(S.rcptOk, 'RCPT');
  }

  dataFinished(outcome: DataOutcome): SessionOutput {
    this.#expect('data');
    this.#waiting = 'command';
    this.#resetTransaction();
    return this.#finish(this.#endOfMessage(outcomeReply(outcome)), 'DATA');
  }

  /** The chunk asked for by receiveChunk was read (all `size` octets, or the message refused). */
  chunkReceived(outcome: ChunkOutcome): SessionOutput {
    this.#expect('chunk');
    this.#waiting = 'command';
    const { size, last, refusal } = this.#chunk!;
    this.#chunk = null;
    if (outcome === 'ok' && last && !refusal) throw new Error('SmtpSession: LAST chunk read without an outcome');
    const r = refusal ?? (outcome === 'ok' ? reply(250, '2.0.0', `Ok: ${size} octets`) : outcomeReply(outcome));
    if (!this.#chunked) return this.#finish(say(r), 'BDAT');
    if (last) {
      this.#resetTransaction();
      return this.#finish(this.#endOfMessage(r), 'BDAT');
    }
    if (r.code >= 400) this.#chunked.failed ??= r;
    return this.#finish(say(r), 'BDAT');
  }

  timedOut(): SessionOutput {
    return this.#finish(say(reply(421, '4.4.2', 'Timeout, closing connection', true)));
  }

  /** Graceful shutdown: an idle session is told 421 now; a busy one finishes its transaction first. */
  shutdown(): SessionOutput {
    this.#draining = true;
    if (this.isBusy || this.isClosed) return { replies: [], close: false };
    return this.#finish(say(R.shuttingDown));
  }

  /** The reply that ends a message (DATA or BDAT LAST), then 421 if the server is shutting down. */
  #endOfMessage(r: Reply): Step {
    return this.#draining && !r.close ? say(r, R.shuttingDown) : say(r);
  }

  #resetTransaction() {
    this.#tx = null;
    this.#chunked = null;
  }

  #expect(state: Waiting) {
    if (this.#waiting !== state) throw new Error(`SmtpSession: expected ${state}, in ${this.#waiting}`);
  }

  /** Applies what every step shares: RFC 2034 codes only after EHLO, the error budget, closing. */
  #finish(step: Step, command?: string, isClientError = true): SessionOutput {
    let replies = step.replies;
    let refused = false;
    let close = false;
    for (let i = 0; i < replies.length; i++) { const r = replies[i]!; if (r.code >= 500) refused = true; if (r.close) close = true; } // no iterator per command
    if (isClientError && refused && ++this.#badCommands >= this.opts.maxBadCommands && !close) {
      replies = [...replies, R.tooManyErrors];
      close = true;
    }
    if (!this.#esmtp) replies = replies.map(withoutEnhanced);
    if (close) this.#waiting = 'closed';
    // one literal per shape (the same own properties as adding them one by one, without growing the object)
    const action = close ? undefined : step.action;
    if (action) return command ? { replies, close, action, command } : { replies, close, action };
    return command ? { replies, close, command } : { replies, close };
  }

  #dispatch(verb: string, arg: string): Step {
    if (Object.hasOwn(SmtpSession.#handlers, verb)) return SmtpSession.#handlers[verb]!(this, arg);
    if (NOT_IMPLEMENTED.has(verb)) return say(R.notImplemented);
    if (HTTP_VERBS.has(verb)) return say(reply(421, '4.7.0', 'Protocol error', true));
    return say(R.unrecognized);
  }

  /** The command handlers, shared by every session (built once, not per connection). */
  static readonly #handlers: Readonly<Record<string, (s: SmtpSession, arg: string) => Step>> = {
    EHLO: (s, arg) => s.#hello(arg, true),
    HELO: (s, arg) => s.#hello(arg, false),
    STARTTLS: (s, arg) => s.#startTls(arg),
    AUTH: (s, arg) => s.#auth(arg),
    MAIL: (s, arg) => s.#mail(arg),
    RCPT: (s, arg) => s.#rcpt(arg),
    DATA: (s, arg) => s.#data(arg),
    BDAT: (s, arg) => s.#bdat(arg),
    RSET: (s) => { s.#resetTransaction(); return S.ok; },
    NOOP: () => S.ok,
    QUIT: () => S.bye,
    VRFY: (_s, arg) => say(arg.trim() ? reply(252, '2.5.0', 'Cannot verify user, but will accept message and attempt delivery') : reply(501, '5.5.4', 'Syntax: VRFY <address>')),
    HELP: () => say(reply(214, '2.0.0', 'Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH')),
  };

  get #offersStartTls(): boolean { return this.opts.listener !== 'submissions' && this.#tls === null; }
  get #offersAuth(): boolean { return this.opts.listener !== 'mx'; }
  /** RFC 8689: REQUIRETLS is offered only once the session is TLS-protected, and only for submission (not mx). */
  get #offersRequireTls(): boolean { return this.opts.listener !== 'mx' && this.#tls !== null; }
  /** Authenticated, or trusted by network: may send to any domain. */
  get #mayRelay(): boolean { return this.#user !== null || (this.#trustedNetwork && this.opts.listener !== 'mx'); }

  #hello(arg: string, esmtp: boolean): Step {
    const name = arg.trim();
    if (!HELO_NAME.test(name)) return say(reply(501, '5.5.4', `Syntax: ${esmtp ? 'EHLO' : 'HELO'} <domain>`));
    this.#helo = name;
    this.#esmtp = esmtp;
    this.#resetTransaction();
    const shared = this.#optionReplies;
    if (!esmtp) return say(shared.helo);
    const startTls = this.#offersStartTls;
    const auth = this.#offersAuth && this.#tls !== null;
    const requireTls = this.#offersRequireTls;
    const key = (startTls ? 1 : 0) | (auth ? 2 : 0) | (requireTls ? 4 : 0);
    const cached = shared.ehlo[key];
    if (cached) return say(cached);
    const ext = ['PIPELINING', `SIZE ${this.opts.maxMessageSize}`, '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'CHUNKING', 'DSN'];
    if (startTls) ext.push('STARTTLS');
    if (auth) ext.push('AUTH PLAIN LOGIN');
    if (requireTls) ext.push('REQUIRETLS');
    return say(shared.ehlo[key] = keepWireForm(reply(250, undefined, [this.opts.hostname, ...ext])));
  }

  #startTls(arg: string): Step {
    if (arg.trim()) return say(reply(501, '5.5.4', 'Syntax: STARTTLS'));
    if (this.#tls) return say(reply(503, '5.5.1', 'TLS already active'));
    if (!this.#offersStartTls) return say(R.notImplemented);
    if (!this.#esmtp) return say(R.needEhlo);
    this.#waiting = 'tls';
    return { replies: [reply(220, '2.0.0', 'Ready to start TLS')], action: { type: 'startTls' } };
  }

  #auth(arg: string): Step {
    if (!this.#offersAuth) return say(R.notImplemented);
    if (!this.#esmtp) return say(R.needEhlo);
    if (!this.#tls) return say(reply(538, '5.7.11', 'Encryption required for requested authentication mechanism'));
    if (this.#user !== null) return say(reply(503, '5.5.1', 'Already authenticated'));
    if (this.#tx) return say(reply(503, '5.5.1', 'Not allowed during a mail transaction'));
    const [mech = '', initial, extra] = arg.trim().split(/ +/);
    if (extra !== undefined || mech === '') return say(reply(501, '5.5.4', 'Syntax: AUTH <mechanism> [initial-response]'));
    switch (mech.toUpperCase()) {
      case 'PLAIN':
        if (initial === undefined) return this.#challenge('auth-plain', '');
        return this.#authPlain(initial);
      case 'LOGIN':
        if (initial === undefined) return this.#challenge('auth-login-user', 'VXNlcm5hbWU6');
        return this.#authContinueLogin(initial, 'auth-login-user');
      default:
        return say(reply(504, '5.5.4', 'Unrecognized authentication type'));
    }
  }

  #challenge(next: Waiting, text: string): Step {
    this.#waiting = next;
    return say(reply(334, undefined, text));
  }

  #authContinue(text: string): Step {
    const state = this.#waiting;
    this.#waiting = 'command';
    if (text === '*') return say(reply(501, '5.0.0', 'Authentication canceled'));
    if (state === 'auth-plain') return this.#authPlain(text);
    return this.#authContinueLogin(text, state);
  }

  #authContinueLogin(b64: string, state: Waiting): Step {
    const decoded = decodeBase64(b64);
    if (decoded === null) return say(R.badBase64);
    if (state === 'auth-login-user') {
      this.#loginUser = decoded.toString('utf8');
      return this.#challenge('auth-login-pass', 'UGFzc3dvcmQ6');
    }
    return this.#verify(this.#loginUser, decoded.toString('utf8'));
  }

  #authPlain(b64: string): Step {
    const decoded = decodeBase64(b64);
    if (decoded === null) return say(R.badBase64);
    const parts = decoded.toString('utf8').split('\0');
    if (parts.length !== 3 || !parts[1]) return say(reply(501, '5.5.2', 'Invalid AUTH PLAIN data'));
    const [authzid, authcid, password] = parts as [string, string, string];
    if (authzid !== '' && authzid !== authcid) return say(reply(535, '5.7.8', 'Authentication credentials invalid'));
    return this.#verify(authcid, password);
  }

  #verify(user: string, password: string): Step {
    this.#pendingUser = user;
    this.#waiting = 'verify';
    return { replies: [], action: { type: 'verifyAuth', user, password } };
  }

  /** A reply that ends an AUTH exchange in progress (bad line during the 334 dialogue). */
  #endAuth(step: Step): Step {
    if (this.#waiting.startsWith('auth-')) this.#waiting = 'command';
    return step;
  }

  #mail(arg: string): Step {
    if (!this.#helo) return say(R.needHelo);
    if (this.opts.listener !== 'mx' && !this.#mayRelay) {
      return say(reply(530, '5.7.0', this.#tls ? 'Authentication required' : 'Must issue a STARTTLS command first'));
    }
    if (this.#tx) return say(reply(503, '5.5.1', 'Sender already specified'));
    const parsed = parseMailArgs(arg);
    if (!parsed.ok) return say(argsErrorReply(parsed.error, reply(501, '5.1.7', 'Bad sender address syntax')));
    const { sender, params } = parsed.value;
    if (sender?.isUtf8 && !params.smtputf8) return say(R.needUtf8);
    if (params.requireTls && !this.#offersRequireTls) return say(requireTlsRefusal(this.opts.listener));
    if (params.size !== null && params.size > this.opts.maxMessageSize) return say(reply(552, '5.3.4', 'Message too big'));
    const notAuthorised = authorisedDomain(this.#grant, sender?.domain ?? null, null);
    if (notAuthorised) return say(notAuthorised);
    this.#tx = { from: sender, params, rcpts: [], rcptDsn: {} };
    return S.mailOk;
  }

  #rcpt(arg: string): Step {
    const tx = this.#tx;
    if (!tx) return say(R.needMail);
    if (this.#chunked) return say(reply(503, '5.5.1', 'RCPT not allowed after BDAT'));
    const parsed = parseRcptArgs(arg);
    if (!parsed.ok) return say(argsErrorReply(parsed.error, reply(501, '5.1.3', 'Bad recipient address syntax')));
    const { recipient: rcpt, notify, orcpt } = parsed.value;
    if (rcpt.isUtf8 && !tx.params.smtputf8) return say(R.needUtf8);
    const rcptDsn: RecipientDsn | null = notify || orcpt ? { ...(notify ? { notify } : {}), ...(orcpt ? { orcpt } : {}) } : null;
    const address = rcpt.domain === '' ? `${rcpt.local}@${this.opts.hostname.toLowerCase()}` : rcpt.address;
    if (!this.#mayRelay && !this.#isLocal(rcpt)) return say(R.relayDenied);
    if (tx.rcpts.includes(address)) return S.rcptOk;
    if (tx.rcpts.length >= this.opts.maxRecipients) return say(reply(452, '4.5.3', 'Too many recipients'));
    if (this.opts.quotas && this.#isSubmission) {
      this.#pendingRcpt = address;
      this.#pendingRcptDsn = rcptDsn;
      this.#waiting = 'quota';
      return { replies: [], action: { type: 'chargeQuota', subject: this.#quotaSubject(), recipient: address } };
    }
    tx.rcpts.push(address);
    if (rcptDsn) tx.rcptDsn[address] = rcptDsn;
    return S.rcptOk;
  }

  /** Authenticated or relayNetworks mail on submission/alt/submissions (never mx). */
  get #isSubmission(): boolean { return this.opts.listener !== 'mx' && this.#mayRelay; }

  /** Whom a recipient is charged to: the user's account and own limits, or 'default' for relayNetworks. */
  #quotaSubject(): QuotaSubject {
    // made once per login state (AUTH and STARTTLS change it), not per RCPT; the charge only reads it
    return this.#subject ??= this.#user === null
      ? { account: DEFAULT_ACCOUNT }
      : { account: this.#account ?? DEFAULT_ACCOUNT, principal: { kind: 'user', id: this.#user, limits: this.#userLimits } };
  }

  /** Clients that may not relay may only name local mailboxes, written plainly. */
  #isLocal(rcpt: Mailbox): boolean {
    if (relayTrickIn(rcpt) !== null) return false;
    if (rcpt.domain === '' || this.opts.localDomains.has(rcpt.domain)) return true;
    return !!this.opts.bounceLabel && (isBounceAddress(rcpt.address, this.opts.bounceLabel) || isUnsubscribeAddress(rcpt.address, this.opts.bounceLabel));
  }

  #data(arg: string): Step {
    if (!this.#tx) return say(R.needMail);
    if (this.#chunked) {
      // RFC 3030 §2: 503, and the transaction's state is indeterminate until RSET: refuse the rest.
      const r = reply(503, '5.5.1', 'DATA not allowed after BDAT; send RSET');
      this.#chunked.failed ??= r;
      return say(r);
    }
    if (this.#tx.rcpts.length === 0) return say(R.needRcpt);
    if (arg.trim()) return say(reply(501, '5.5.4', 'Syntax: DATA'));
    this.#waiting = 'data';
    return { replies: [R.dataGo], action: { type: 'receiveData', transaction: this.#transaction() } };
  }

  /** BDAT: the chunk is always read (a refusal is answered after its bytes); only a malformed size closes. */
  #bdat(arg: string): Step {
    const m = BDAT_ARGS.exec(arg);
    if (!m) return say(R.badBdat);
    const size = Number(m[1]);
    const last = m[2] !== undefined;
    let refusal: Reply | null = null;
    if (!this.#tx) refusal = R.needMail;
    else if (this.#tx.rcpts.length === 0) refusal = R.needRcpt;
    else if (this.#chunked?.failed) refusal = this.#chunked.failed;
    this.#chunk = { size, last, refusal };
    this.#waiting = 'chunk';
    if (refusal) return { replies: [], action: { type: 'receiveChunk', size, last, sink: 'discard' } };
    if (this.#chunked) return { replies: [], action: { type: 'receiveChunk', size, last, sink: 'append' } };
    this.#chunked = { failed: null };
    return { replies: [], action: { type: 'receiveChunk', size, last, sink: 'begin', transaction: this.#transaction() } };
  }

  /** What accept.ts is told about the transaction whose message now begins. */
  #transaction(): Transaction {
    const tx = this.#tx!;
    const rcptDsn = Object.keys(tx.rcptDsn).length ? { recipients: { ...tx.rcptDsn } } : {};
    const dsn: MessageDsn = { ...(tx.params.ret ? { ret: tx.params.ret } : {}), ...(tx.params.envid ? { envid: tx.params.envid } : {}), ...rcptDsn };
    return {
      mailFrom: tx.from?.address ?? '',
      recipients: [...tx.rcpts],
      smtputf8: tx.params.smtputf8,
      helo: this.#helo!,
      esmtp: this.#esmtp,
      tls: this.#tls,
      user: this.#user,
      grant: this.#grant,
      submission: this.#mayRelay,
      account: this.#isSubmission ? this.#account ?? DEFAULT_ACCOUNT : null,
      ...(this.#defaultStream ? { defaultStream: this.#defaultStream } : {}),
      ...(Object.keys(dsn).length ? { dsn } : {}),
      ...(tx.params.requireTls ? { requireTls: true } : {}),
    };
  }
}

/** RFC 2034: no enhanced codes before EHLO (the reply's other fields kept as they are). */
const withoutEnhanced = (r: Reply): Reply => (r.enhanced === undefined && !Object.hasOwn(r, 'enhanced') ? r : PLAIN.get(r) ?? strip(r));
function strip(r: Reply): Reply {
  const { enhanced: _drop, ...rest } = r;
  return rest;
}

/** The line begins with "AUTH " in any case (ASCII only, as /^AUTH /i): AUTH lines may be longer. */
function startsWithAuth(line: Buffer): boolean {
  return line.length >= 5 && (line[0]! | 0x20) === 0x61 && (line[1]! | 0x20) === 0x75 && (line[2]! | 0x20) === 0x74
    && (line[3]! | 0x20) === 0x68 && line[4] === 0x20;
}

/** MAIL … REQUIRETLS where it is not offered: mx never offers it; submission only once TLS is on (RFC 8689). */
function requireTlsRefusal(listener: ListenerName): Reply {
  return listener === 'mx' ? reply(555, '5.5.4', 'Unsupported parameter') : reply(530, '5.7.10', 'REQUIRETLS needs a TLS-protected session');
}

const outcomeReply = (outcome: DataOutcome): Reply =>
  ('queuedAs' in outcome ? reply(250, '2.0.0', queuedText(outcome.queuedAs, outcome.copies ?? 1)) : outcome.reply);

function argsErrorReply(error: ArgsError, addressReply: Reply): Reply {
  if (error === 'param-syntax') return reply(501, '5.5.4', 'Invalid parameters');
  if (error === 'param-unknown') return reply(555, '5.5.4', 'Unsupported parameter');
  return addressReply;
}

/** Strict base64 (RFC 4648, padded); "=" is the empty response (RFC 4954 §4). */
function decodeBase64(text: string): Buffer | null {
  if (text === '=') return Buffer.alloc(0);
  return text !== '' && BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}
