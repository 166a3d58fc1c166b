// Owns the one path from a DATA transfer to the queue: the header additions (Received first;
// Message-ID and Date when missing, for submissions only, not mx mail), the body write through
// store.createBody(), and store.put(). A message counts as accepted only once put() resolved:
// the caller sends "250 queued" from the outcome of finish(), never earlier.
//
// Authenticated users may only use their domains in From:/Sender:/Resent-* (domains/authorisation.ts). Relayed
// mail is DKIM-signed here, once, as it streams in (MessageSigner reads a tee of the stored bytes):
// the signature is stored as the message's header prefix, so a retry never re-signs.
//
// Only the header block is buffered (capped at MAX_HEADER_BYTES) to learn which fields exist;
// the rest streams to the BodyWriter as it arrives, each write awaited (backpressure). A message
// to be tracked (tracking-plan.ts, opt-in) is the exception: it is held in memory (within the
// size limit) until the end of DATA, rewritten, then written and signed. So is a message split
// into one copy per recipient (recipient-split.ts: tracking or one-click unsubscribe, several
// recipients): at the end of DATA each copy gets its own id, Received field, List-Unsubscribe,
// tracking and signature, and store.putMany() commits them all or none before the one 250
// (split-copies.ts holds it and stores the copies; this file builds each copy's header).
import { subjectOf } from '../message/subject.js';
import { dsnFor, type MessageDsn } from '../message/dsn-params.js';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { authorisedDomain } from '../domains/authorisation.js';
import { authorDomain, parseHeaderFrom } from '../domains/header-from.js';
import type { MessageSigner, SignOutcome } from '../domains/message-signer.js';
import type { Clock } from '../clock.js';
import type { BodyWriter, NewMessage, QueueStore } from '../store/store.js';
import { newQueueId } from '../message/ids.js';
import { reply, type Reply } from '../message/reply.js';
import type { DataOutcome, ListenerName, Transaction } from './smtp/session.js';
import { alignedReturnPath, hasField, receivedHeader, rfc5322Date, withProtocol } from './trace-fields.js';
import { takeStreamField, type Stream } from './stream-field.js';
import { takeTrackField, type TrackRequest } from './track-field.js';
import { applyTracking, trackingPlan, trackingWanted, type TrackingPlan, type TrackingSettings } from './tracking-plan.js';
import { unsubscribeFields, unsubscribeWanted, type UnsubscribeSettings } from './unsubscribe-fields.js';
import { isSplit, splitsForReturnPath } from './recipient-split.js';
import { HeldForSplit } from './split-copies.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import { transportField, transportNeeds, type MessageTransport } from '../message/transport-needs.js';
import { mxHeaderRefusal } from './mx-header-limits.js';

export { receivedHeader, rfc5322Date };

export const MAX_HEADER_BYTES = 1024 * 1024;

const CRLF2 = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const queueFailed = reply(451, '4.3.0', 'Temporary local problem, try again later');
const headerTooBig = reply(554, '5.6.0', 'Header block too large');
const headerStartsFolded = reply(550, '5.6.0', 'Message header must begin with a field name, not a continuation line');

/** What onQueued learns besides the queue id: the listener ('submission', 'mx', 'http'…) and the account (null: mx mail). */
export interface QueuedInfo { listener: string; account: string | null }

export interface AcceptDeps {
  store: QueueStore;
  hostname: string;
  clock: Clock;
  logger: Logger;
  /** Told each committed queue id (after put() resolved), with where it came from (metrics). */
  onQueued?: (id: string, info: QueuedInfo) => void;
  /** Signs relayed (non-mx) mail; absent: stored unsigned. */
  signer?: MessageSigner;
  /** One-click unsubscribe for broadcast mail (ingress/unsubscribe-fields.ts); absent: never added. */
  unsubscribe?: UnsubscribeSettings;
  /** Open and click tracking (ingress/tracking-plan.ts); absent: never added. */
  tracking?: TrackingSettings;
  /** domains.bounceDomain.label: aligned mail gets the return-path bounce+<id>.<mac>@<label>.<domain>; null: none. */
  bounceLabel?: string | null;
  /** The current bounce secret (the MAC key of that return-path); without it: no VERP return-path. */
  bounceSecret?: () => Buffer | null;
  /** domains.bounceDomain.perRecipient: aligned mail to several recipients is split so each return path names one (recipient-split.ts). */
  splitForReturnPath?: boolean;
  /** limits.maxMessageSize: the copies of a split message count against it together; absent: no such check. */
  maxMessageBytes?: number;
  /** This node's id, kept with each message it accepts (the timeline's accepted entry); absent: not kept. */
  nodeId?: string;
}
export interface IncomingOrigin { listener: ListenerName; clientIp: string; transaction: Transaction }

/** Starts one incoming message per DATA. */
export class Acceptor {
  constructor(private readonly deps: AcceptDeps) {}

  begin(origin: IncomingOrigin): IncomingMessage {
    return new IncomingMessage(this.deps, origin, newQueueId(this.deps.clock.now()));
  }
}

export class IncomingMessage {
  #writer: BodyWriter | null = null;
  #header: Buffer[] = [];
  #headerBytes = 0;
  #tail: Buffer = EMPTY; // shared: only ever replaced, never written into
  #inBody = false;
  #failure: Reply | null = null;
  #receivedAt: number;
  #tee: PassThrough | null = null;
  #signing: Promise<SignOutcome> | null = null;
  /** The signer's answer known at #startSigning (no key applies): no tee, no #signing. */
  #unsigned: SignOutcome | null = null;
  #stream: Stream = 'transactional';
  #track: TrackRequest | null = null;
  /** A tracked message, held until the end of DATA (the prologue first); null: streaming. */
  #held: { chunks: Buffer[]; plan: TrackingPlan; fromDomain: string | null } | null = null;
  /** A message to split into one copy per recipient, held until the end of DATA (split-copies.ts). */
  #split: HeldForSplit | null = null;
  /** What the next hops must offer (REQUIRETLS, SMTPUTF8, TLS-Required: No), known once the header block is. */
  #transport: MessageTransport | null = null;
  /** The decoded Subject (message/subject.ts), known once the header block is; null: none. */
  #subject: string | null = null;

  constructor(private readonly deps: AcceptDeps, private readonly origin: IncomingOrigin, readonly id: string) {
    this.#receivedAt = deps.clock.now();
    this.#stream = origin.transaction.defaultStream ?? 'transactional';
    try {
      this.#writer = deps.store.createBody(id);
    } catch (err) {
      this.#fail(queueFailed, err);
    }
  }

  /** Body bytes (already unstuffed) in order. Never throws: a failure is kept for finish(). */
  async write(chunk: Buffer): Promise<void> {
    if (this.#failure || chunk.length === 0) return;
    if (this.#inBody) return this.#write(chunk);
    const split = this.#findHeaderEnd(chunk);
    this.#header.push(chunk);
    this.#headerBytes += chunk.length;
    if (split < 0) {
      if (this.#headerBytes > MAX_HEADER_BYTES) this.#fail(headerTooBig);
      return;
    }
    if (split > MAX_HEADER_BYTES) return this.#fail(headerTooBig);
    await this.#completeHeader(this.#header.length === 1 ? chunk : Buffer.concat(this.#header), split); // one chunk: no copy
  }

  /**
   * The header block is known (it ends at `split`; the rest of `block` is body): every check that
   * depends on it runs here, whether the block was ended by an empty line or by the end of the
   * data (a message that is all header), so neither shape can skip one.
   */
  async #completeHeader(block: Buffer, split: number): Promise<void> {
    this.#inBody = true;
    this.#header = [];
    let header = block.subarray(0, split);
    // A first line that begins with SP or HTAB would continue the Received field written just before it
    // (a client's text in this relay's trace field): refused, once per message (one octet looked at).
    if (header[0] === 0x20 || header[0] === 0x09) return this.#fail(headerStartsFolded);
    const refused = this.origin.listener === 'mx' ? mxHeaderRefusal(header) : null;
    if (refused) return this.#fail(refused);
    const tx = this.origin.transaction;
    this.#subject = subjectOf(header);
    this.#transport = transportNeeds({ mailFrom: tx.mailFrom, header, requireTls: tx.requireTls === true });
    const from = parseHeaderFrom(header);
    const notAuthorised = authorisedDomain(this.origin.transaction.grant, null, from);
    if (notAuthorised) return this.#fail(notAuthorised);
    const fromDomain = authorDomain(from);
    if (this.origin.transaction.submission) header = this.#takeClientFields(header);
    if (this.#isSplit(header) || (this.deps.splitForReturnPath === true && await this.#splitForReturnPath(fromDomain))) {
      this.#split = new HeldForSplit(header, block.subarray(split), fromDomain);
      return;
    }
    if (this.origin.transaction.submission) header = await this.#submissionFields(header, fromDomain);
    if (this.#failure) return;
    const prologue = this.#prologue(header);
    const body = block.subarray(split); // written after the prologue rather than copied behind it
    const plan = this.#trackingPlan();
    if (plan) { this.#held = { chunks: [prologue, body], plan, fromDomain }; return; }
    this.#startSigning(fromDomain);
    await this.#write(prologue);
    if (body.length) await this.#write(body);
  }

  #trackingPlan(id = this.id, recipients = this.origin.transaction.recipients): TrackingPlan | null {
    const tx = this.origin.transaction;
    if (!this.deps.tracking || !tx.submission) return null;
    return trackingPlan(this.deps.tracking, { id, account: tx.account ?? DEFAULT_ACCOUNT, recipients, stream: this.#stream, asked: this.#track });
  }

  /** A submission that gets per-recipient content (tracking, one-click unsubscribe) and has several recipients. */
  #isSplit(header: Buffer): boolean {
    const tx = this.origin.transaction;
    if (!tx.submission) return false;
    const personal = trackingWanted(this.deps.tracking, { stream: this.#stream, asked: this.#track }) !== null
      || unsubscribeWanted(this.deps.unsubscribe, { stream: this.#stream, header });
    return isSplit(personal, tx.recipients);
  }

  /** domains.bounceDomain.perRecipient: whether this message gets a VERP return path per copy (recipient-split.ts). */
  async #splitForReturnPath(fromDomain: string | null): Promise<boolean> {
    const tx = this.origin.transaction;
    return tx.submission && splitsForReturnPath(tx.mailFrom, tx.recipients, this.deps.bounceSecret?.() ? await this.deps.signer?.alignedDomain(fromDomain) : null);
  }

  /** End of DATA of a tracked message: rewrite it whole, then write and sign it like any other. */
  async #releaseHeld(): Promise<void> {
    const held = this.#held!;
    this.#held = null;
    const message = await applyTracking(this.deps.tracking!, held.plan, Buffer.concat(held.chunks));
    this.#startSigning(held.fromDomain);
    await this.#write(message);
  }

  /** One-click unsubscribe fields for a broadcast message (accept.ts adds them before signing). */
  async #submissionFields(header: Buffer, fromDomain: string | null): Promise<Buffer> {
    try {
      return await this.#withUnsubscribe(header, fromDomain, this.id, this.origin.transaction.recipients);
    } catch (err) {
      this.#fail(queueFailed, err);
      return header;
    }
  }

  /** The header with the one-click unsubscribe fields of message `id` to `recipients`, when it gets them. */
  async #withUnsubscribe(header: Buffer, fromDomain: string | null, id: string, recipients: readonly string[]): Promise<Buffer> {
    if (!this.deps.unsubscribe) return header;
    const tx = this.origin.transaction;
    const fields = await unsubscribeFields(this.deps.unsubscribe, {
      id, account: tx.account ?? DEFAULT_ACCOUNT, recipients, stream: this.#stream, fromDomain, header,
    });
    return fields ? Buffer.concat([header, Buffer.from(fields, 'latin1')]) : header;
  }

  /** X-Postlane-Stream chooses the stream, X-Postlane-Track the tracking; both are removed before the message is stored and signed. */
  #takeClientFields(header: Buffer): Buffer {
    const s = takeStreamField(header);
    if (s.stream) this.#stream = s.stream;
    if (s.invalid !== null) {
      this.deps.logger.warn({ event: 'smtp.stream_invalid', id: this.id, value: s.invalid }, 'X-Postlane-Stream not transactional or broadcast; ignored');
    }
    const t = takeTrackField(s.header);
    this.#track = t.track;
    if (t.invalid !== null) this.deps.logger.warn({ event: 'smtp.track_invalid', id: this.id, value: t.invalid }, 'X-Postlane-Track not "opens", "clicks" or "none"; ignored');
    return t.header;
  }

  /**
   * Offset (in the whole message) where the header block ends, just before its empty line, once
   * `chunk` is added; -1 if not seen yet. The data reader never splits a CRLF, but CRLF CRLF may
   * straddle two chunks, so the last bytes of the previous chunk are searched too.
   */
  #findHeaderEnd(chunk: Buffer): number {
    if (this.#headerBytes === 0 && chunk[0] === 0x0d && chunk[1] === 0x0a) return 0;
    const probe = this.#tail.length ? Buffer.concat([this.#tail, chunk]) : chunk;
    const at = probe.indexOf(CRLF2);
    if (at >= 0) return this.#headerBytes - (probe.length - chunk.length) + at + 2; // found: no tail to keep
    this.#tail = Buffer.from(probe.subarray(Math.max(0, probe.length - 3)));
    return -1;
  }

  /** The data was refused while reading (too big, framing, ...): nothing will be stored. */
  reject(r: Reply): void {
    if (!this.#failure) this.#fail(r);
  }

  /** End of data: finish the body, commit it, and give the session its answer. */
  async finish(): Promise<DataOutcome> {
    if (!this.#failure && !this.#inBody) {
      const block = Buffer.concat(this.#header);
      await this.#completeHeader(block, block.length);
    }
    if (!this.#failure && this.#held) await this.#releaseHeld();
    if (!this.#failure && this.#split) return this.#finishSplit();
    if (this.#failure) {
      await this.abort();
      return { reply: this.#failure };
    }
    const writer = this.#writer!;
    const tx = this.origin.transaction;
    let signed: SignOutcome | null = null;
    try {
      signed = this.#unsigned ?? await this.#finishSigning(); // known unsigned: no await
    } catch (err) {
      this.deps.logger.error({ event: 'dkim.sign_failed', id: this.id, err: (err as Error)?.message }, 'DKIM signing failed');
      await this.abort();
      return { reply: queueFailed };
    }
    try {
      await writer.finish();
      await this.deps.store.put(this.#newMessage(this.id, tx.recipients, writer.bytesWritten, signed));
    } catch (err) {
      this.#fail(queueFailed, err);
      await this.abort();
      return { reply: queueFailed };
    }
    // Built only when logged: the object per message is garbage at the usual level (warn).
    if (this.deps.logger.isLevelEnabled('info')) this.deps.logger.info({
      event: 'smtp.accepted', id: this.id, from: tx.mailFrom, rcpts: tx.recipients, size: writer.bytesWritten,
      listener: this.origin.listener, user: tx.user, ip: this.origin.clientIp, tls: tx.tls?.protocol ?? null,
    }, 'message accepted');
    this.#tellQueued(this.id);
    return { queuedAs: this.id };
  }

  /**
   * End of DATA of a split message: one copy per recipient, each with its own fields, tracking and
   * signature, committed together (putMany: all or none); within maxMessageBytes all together.
   */
  async #finishSplit(): Promise<DataOutcome> {
    const held = this.#split!;
    const tx = this.origin.transaction;
    let copies;
    try {
      copies = await held.store(this.deps, { id: this.id, writer: this.#writer! }, tx.recipients, {
        build: async (header, body, id, recipients) => {
          const head = await this.#withUnsubscribe(header, held.fromDomain, id, recipients);
          const start = Buffer.concat([this.#prologue(head, id), body]);
          const plan = this.#trackingPlan(id, recipients);
          return plan ? applyTracking(this.deps.tracking!, plan, start) : start;
        },
        rows: (id, recipients, bodyBytes, signed) => this.#newMessage(id, recipients, bodyBytes, signed),
      });
    } catch (err) {
      this.#fail(queueFailed, err);
      await this.abort();
      return { reply: queueFailed };
    }
    if (!Array.isArray(copies)) return this.#refuse(copies);
    this.#split = null;
    this.deps.logger.info({
      event: 'smtp.accepted', id: this.id, ids: copies.map((c) => c.id), from: tx.mailFrom, rcpts: tx.recipients,
      size: copies.reduce((n, c) => n + c.size, 0), listener: this.origin.listener, user: tx.user, ip: this.origin.clientIp,
      tls: tx.tls?.protocol ?? null, split: copies.length,
    }, 'message accepted, one copy per recipient');
    for (const c of copies) this.#tellQueued(c.id);
    return { queuedAs: this.id, copies: copies.length };
  }

  async #refuse(r: Reply): Promise<DataOutcome> {
    this.#fail(r);
    await this.abort();
    return { reply: r };
  }

  /** The rows of message `id` (the whole message, or one copy of a split one) whose body has `bodyBytes`. */
  #newMessage(id: string, recipients: string[], bodyBytes: number, signed: SignOutcome | null): NewMessage {
    const tx = this.origin.transaction;
    const headerPrefix = signed?.headers ?? '';
    const returnPath = alignedReturnPath(id, tx.mailFrom, signed, this.deps.bounceLabel, this.deps.bounceSecret?.() ?? null);
    return {
      id, mailFrom: tx.mailFrom, recipients, size: bodyBytes + Buffer.byteLength(headerPrefix),
      ...(headerPrefix ? { headerPrefix } : {}), ...(returnPath ? { returnPath } : {}),
      receivedAt: this.#receivedAt, isBounce: false, route: this.origin.listener === 'mx' ? 'local' : 'relay',
      origin: { listener: this.origin.listener, clientIp: this.origin.clientIp, user: tx.user, helo: tx.helo, ...(this.deps.nodeId ? { node: this.deps.nodeId } : {}) },
      ...(this.#subject !== null ? { subject: this.#subject } : {}),
      ...(tx.account ? { meta: { account: tx.account, tags: [], metadata: {}, stream: this.#stream } } : {}),
      ...withDsn(dsnFor(tx.dsn, recipients)),
      ...(this.#transport ? transportField(this.#transport) : {}),
    };
  }

  #tellQueued(id: string): void {
    try { this.deps.onQueued?.(id, { listener: this.origin.listener, account: this.origin.transaction.account ?? null }); } catch (err) {
      this.deps.logger.error({ event: 'smtp.on_queued_failed', id, err: (err as Error)?.message }, 'onQueued callback failed');
    }
  }

  /** Drop whatever was written (connection lost, or refused). Safe to call more than once. */
  async abort(): Promise<void> {
    this.#held = null;
    const split = this.#split;
    this.#split = null;
    this.#tee?.destroy();
    this.#tee = null;
    await split?.abort(this.deps.logger);
    const writer = this.#writer;
    this.#writer = null;
    if (!writer) return;
    try { await writer.abort(); } catch (err) {
      this.deps.logger.warn({ event: 'smtp.body_abort_failed', id: this.id, err: (err as Error).message }, 'could not remove an aborted body');
    }
  }

  async #write(bytes: Buffer): Promise<void> {
    if (this.#failure || !this.#writer) return;
    if (this.#held) { this.#held.chunks.push(bytes); return; }
    if (this.#split) { this.#split.push(bytes); return; }
    try { await this.#writer.write(bytes); } catch (err) {
      this.#fail(queueFailed, err);
      return;
    }
    if (this.#tee && !this.#tee.write(bytes)) await once(this.#tee, 'drain');
  }

  /** Relayed mail only: the signer reads everything written from here on (the whole message). */
  #startSigning(fromDomain: string | null) {
    if (!this.deps.signer || this.origin.listener === 'mx') return;
    // no key can apply (the signer's cached lookups say so): its answer now, no tee to stream the message through
    const unsigned = this.deps.signer.unsignedNow?.(fromDomain, { id: this.id });
    if (unsigned) { this.#unsigned = unsigned; return; }
    this.#tee = new PassThrough();
    this.#signing = this.deps.signer.sign(this.#tee, fromDomain, { id: this.id });
    // Surfaced by #finishSigning. A signer that failed early (its key lookup found the store
    // unreachable) never reads the tee: drain it, or #write would wait for 'drain' forever.
    this.#signing.catch(() => { this.#tee?.resume(); });
  }

  /** The signature to store in front of the message (headers '' when unsigned); null: not signing. */
  async #finishSigning(): Promise<SignOutcome | null> {
    if (this.#unsigned) return this.#unsigned;
    if (!this.#signing) return null;
    this.#tee!.end();
    return this.#signing;
  }

  #fail(r: Reply, err?: unknown) {
    this.#failure = r;
    this.#header = [];
    this.#held = null;
    this.#split = null;
    if (err !== undefined) {
      this.deps.logger.error({ event: 'smtp.queue_failed', id: this.id, err: (err as Error)?.message ?? String(err) }, 'could not queue a message');
    }
  }

  /**
   * Received (naming `id`: a copy's own), the client's header block, then Message-ID / Date when
   * missing (submissions). An added Message-ID names `id` too, so a complaint report that only
   * gives the Message-ID finds the copy, and so its one recipient; the client's own is kept.
   */
  #prologue(headerBlock: Buffer, id = this.id): Buffer {
    const tx = this.origin.transaction;
    const now = new Date(this.deps.clock.now());
    const added: string[] = [];
    if (tx.submission) {
      const text = headerBlock.toString('latin1');
      if (!hasField(text, 'message-id')) added.push(`Message-ID: <${id}@${this.deps.hostname}>\r\n`);
      if (!hasField(text, 'date')) added.push(`Date: ${rfc5322Date(now)}\r\n`);
    }
    const received = receivedHeader({
      helo: tx.helo, ip: this.origin.clientIp, hostname: this.deps.hostname, id, date: now, tls: tx.tls,
      protocol: withProtocol(tx),
    });
    return Buffer.concat([Buffer.from(received, 'latin1'), headerBlock, Buffer.from(added.join(''), 'latin1')]);
  }
}

const withDsn = (dsn: MessageDsn | undefined): { dsn?: MessageDsn } => (dsn ? { dsn } : {});
