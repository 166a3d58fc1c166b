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
// size limit) until the end of DATA, rewritten, then written and signed.
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { authorisedDomain } from '../domains/authorisation.js';
import { authorDomain, parseHeaderFrom } from '../domains/header-from.js';
import type { MessageSigner, SignOutcome } from '../domains/message-signer.js';
import type { Clock } from '../clock.js';
import type { BodyWriter, QueueStore } from '../store/store.js';
import { newQueueId } from '../message/ids.js';
import { reply, type Reply } from '../message/reply.js';
import type { DataOutcome, ListenerName, Transaction } from './smtp/session.js';
import { alignedReturnPath, hasField, receivedHeader, rfc5322Date, withProtocol } from './trace-fields.js';
import { takeStreamField, type Stream } from './stream-field.js';
import { takeTrackField, type TrackRequest } from './track-field.js';
import { applyTracking, trackingPlan, type TrackingPlan, type TrackingSettings } from './tracking-plan.js';
import { unsubscribeFields, type UnsubscribeSettings } from './unsubscribe-fields.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';

export { receivedHeader, rfc5322Date };

export const MAX_HEADER_BYTES = 1024 * 1024;

const CRLF2 = Buffer.from('\r\n\r\n');
const queueFailed = reply(451, '4.3.0', 'Temporary local problem, try again later');
const headerTooBig = reply(554, '5.6.0', 'Header block too large');

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
  #tail: Buffer = Buffer.alloc(0);
  #inBody = false;
  #failure: Reply | null = null;
  #receivedAt: number;
  #tee: PassThrough | null = null;
  #signing: Promise<SignOutcome> | null = null;
  #stream: Stream = 'transactional';
  #track: TrackRequest | null = null;
  /** A tracked message, held until the end of DATA (the prologue first); null: streaming. */
  #held: { chunks: Buffer[]; plan: TrackingPlan; fromDomain: string | null } | null = null;

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
    await this.#completeHeader(Buffer.concat(this.#header), split);
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
    const from = parseHeaderFrom(header);
    const notAuthorised = authorisedDomain(this.origin.transaction.grant, null, from);
    if (notAuthorised) return this.#fail(notAuthorised);
    if (this.origin.transaction.submission) header = await this.#submissionFields(this.#takeClientFields(header), authorDomain(from));
    if (this.#failure) return;
    const start = Buffer.concat([this.#prologue(header), block.subarray(split)]);
    const plan = this.#trackingPlan();
    if (plan) { this.#held = { chunks: [start], plan, fromDomain: authorDomain(from) }; return; }
    this.#startSigning(authorDomain(from));
    await this.#write(start);
  }

  #trackingPlan(): TrackingPlan | null {
    const tx = this.origin.transaction;
    if (!this.deps.tracking || !tx.submission) return null;
    return trackingPlan(this.deps.tracking, { id: this.id, account: tx.account ?? DEFAULT_ACCOUNT, recipients: tx.recipients, stream: this.#stream, asked: this.#track });
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
    if (!this.deps.unsubscribe) return header;
    const tx = this.origin.transaction;
    try {
      const fields = await unsubscribeFields(this.deps.unsubscribe, {
        id: this.id, account: tx.account ?? DEFAULT_ACCOUNT, recipients: tx.recipients, stream: this.#stream, fromDomain, header,
      });
      return fields ? Buffer.concat([header, Buffer.from(fields, 'latin1')]) : header;
    } catch (err) {
      this.#fail(queueFailed, err);
      return header;
    }
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
    this.#tail = Buffer.from(probe.subarray(Math.max(0, probe.length - 3)));
    const at = probe.indexOf(CRLF2);
    return at < 0 ? -1 : this.#headerBytes - (probe.length - chunk.length) + at + 2;
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
    if (this.#failure) {
      await this.abort();
      return { reply: this.#failure };
    }
    const writer = this.#writer!;
    const tx = this.origin.transaction;
    let signed: SignOutcome | null = null;
    try {
      signed = await this.#finishSigning();
    } catch (err) {
      this.deps.logger.error({ event: 'dkim.sign_failed', id: this.id, err: (err as Error)?.message }, 'DKIM signing failed');
      await this.abort();
      return { reply: queueFailed };
    }
    try {
      await writer.finish();
      const headerPrefix = signed?.headers ?? '';
      const returnPath = this.#returnPath(signed);
      await this.deps.store.put({
        id: this.id, mailFrom: tx.mailFrom, recipients: tx.recipients, size: writer.bytesWritten + Buffer.byteLength(headerPrefix),
        ...(headerPrefix ? { headerPrefix } : {}), ...(returnPath ? { returnPath } : {}),
        receivedAt: this.#receivedAt, isBounce: false, route: this.origin.listener === 'mx' ? 'local' : 'relay',
        origin: { listener: this.origin.listener, clientIp: this.origin.clientIp, user: tx.user, helo: tx.helo },
        ...(tx.account ? { meta: { account: tx.account, tags: [], metadata: {}, stream: this.#stream } } : {}),
      });
    } catch (err) {
      this.#fail(queueFailed, err);
      await this.abort();
      return { reply: queueFailed };
    }
    this.deps.logger.info({
      event: 'smtp.accepted', id: this.id, from: tx.mailFrom, rcpts: tx.recipients, size: writer.bytesWritten,
      listener: this.origin.listener, user: tx.user, ip: this.origin.clientIp, tls: tx.tls?.protocol ?? null,
    }, 'message accepted');
    try { this.deps.onQueued?.(this.id, { listener: this.origin.listener, account: tx.account ?? null }); } catch (err) {
      this.deps.logger.error({ event: 'smtp.on_queued_failed', id: this.id, err: (err as Error)?.message }, 'onQueued callback failed');
    }
    return { queuedAs: this.id };
  }

  /** Drop whatever was written (connection lost, or refused). Safe to call more than once. */
  async abort(): Promise<void> {
    this.#held = null;
    this.#tee?.destroy();
    this.#tee = null;
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
    try { await this.#writer.write(bytes); } catch (err) {
      this.#fail(queueFailed, err);
      return;
    }
    if (this.#tee && !this.#tee.write(bytes)) await once(this.#tee, 'drain');
  }

  /** Relayed mail only: the signer reads everything written from here on (the whole message). */
  #startSigning(fromDomain: string | null) {
    if (!this.deps.signer || this.origin.listener === 'mx') return;
    this.#tee = new PassThrough();
    this.#signing = this.deps.signer.sign(this.#tee, fromDomain, { id: this.id });
    // Surfaced by #finishSigning. A signer that failed early (its key lookup found the store
    // unreachable) never reads the tee: drain it, or #write would wait for 'drain' forever.
    this.#signing.catch(() => { this.#tee?.resume(); });
  }

  /** The signature to store in front of the message (headers '' when unsigned); null: not signing. */
  async #finishSigning(): Promise<SignOutcome | null> {
    if (!this.#signing) return null;
    this.#tee!.end();
    return this.#signing;
  }

  /** VERP return-path in the bounce domain of the (aligned) signing domain, so SPF aligns for DMARC. */
  #returnPath(signed: SignOutcome | null): string | null {
    return alignedReturnPath(this.id, this.origin.transaction.mailFrom, signed, this.deps.bounceLabel, this.deps.bounceSecret?.() ?? null);
  }

  #fail(r: Reply, err?: unknown) {
    this.#failure = r;
    this.#header = [];
    this.#held = null;
    if (err !== undefined) {
      this.deps.logger.error({ event: 'smtp.queue_failed', id: this.id, err: (err as Error)?.message ?? String(err) }, 'could not queue a message');
    }
  }

  /** Received, the client's header block, then Message-ID / Date when missing (submissions). */
  #prologue(headerBlock: Buffer): Buffer {
    const tx = this.origin.transaction;
    const now = new Date(this.deps.clock.now());
    const added: string[] = [];
    if (tx.submission) {
      const text = headerBlock.toString('latin1');
      if (!hasField(text, 'message-id')) added.push(`Message-ID: <${this.id}@${this.deps.hostname}>\r\n`);
      if (!hasField(text, 'date')) added.push(`Date: ${rfc5322Date(now)}\r\n`);
    }
    const received = receivedHeader({
      helo: tx.helo, ip: this.origin.clientIp, hostname: this.deps.hostname, id: this.id, date: now, tls: tx.tls,
      protocol: withProtocol(tx),
    });
    return Buffer.concat([Buffer.from(received, 'latin1'), headerBlock, Buffer.from(added.join(''), 'latin1')]);
  }
}
