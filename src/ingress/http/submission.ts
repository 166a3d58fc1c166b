// Owns queuing one message submitted over the HTTP API, as a list of named steps (like
// accept.ts does for SMTP DATA): authorise the envelope sender and originator domains for the
// key's account → look up the recipients on the account's suppression list (they are stored
// 'suppressed' and reported so in the answer, never sent nor charged) → compose and check the size
// (a split's estimate too) → charge the quota for the others → open/click tracking
// (tracking-plan.ts) → add the Received field → DKIM-sign (MessageSigner, once, before storing) →
// createBody/put (one commit: nothing is half-queued) → wake the scheduler. Every refusal is an
// ApiError; a store failure is 503 with Retry-After, never a 2xx. The steps from the charge on run
// in a later turn of the event loop than the compose (after the lookup's answer, or, when the put
// makes the lookup itself, after setImmediate): a request is never run whole (api20, bench/README.md).
// A message with per-recipient content (tracking, one-click unsubscribe) and several recipients
// is split (recipient-split.ts): the compose → tracking → Received → List-Unsubscribe → sign steps
// run once per recipient, each copy with its own queue id (and Message-ID), and putMany commits
// all the copies or none. The quota is still charged once, per recipient. The answer keeps the
// first id as `id`; each recipient entry names its own copy (`message_id`).
import { subjectOf } from '../../message/subject.js';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { QuotaService } from '../../accounts/quota.js';
import { authorDomain } from '../../domains/header-from.js';
import { isWithinDomain, normalizeDomain } from '../../domains/domain-name.js';
import type { MessageSigner, SignOutcome } from '../../domains/message-signer.js';
import { newQueueId } from '../../message/ids.js';
import { DEFAULT_ACCOUNT, type ApiKeyRecord } from '../../store/platform-store.js';
import type { BodyWriter, NewMessage, QueueStore } from '../../store/store.js';
import { suppressedAmong, suppressionKey, type Suppression } from '../../store/suppression-store.js';
import { alignedReturnPath, receivedHeader } from '../trace-fields.js';
import { unsubscribeFields, unsubscribeWanted, type UnsubscribeSettings } from '../unsubscribe-fields.js';
import { applyTracking, trackingPlan, trackingWanted, type TrackingSettings } from '../tracking-plan.js';
import { isSplit, messageWithoutBcc, recipientGroups, splitsForReturnPath } from '../recipient-split.js';
import { dsnFor, type MessageDsn } from '../../message/dsn-params.js';
import { ApiError, invalidFields, queueUnavailable } from './api-error.js';
import { transportField, transportNeeds } from '../../message/transport-needs.js';
import { tooLarge, type PreparedMessage } from './compose.js';
import type { AcceptDeps } from '../accept.js';

export interface HttpSubmissionDeps {
  store: QueueStore;
  hostname: string;
  clock: Clock;
  logger: Logger;
  /** `limited` absent: the suppression lookup is always its own round trip before the charge. */
  quota: Pick<QuotaService, 'charge'> & Partial<Pick<QuotaService, 'limited'>>;
  signer?: MessageSigner;
  bounceLabel?: string | null;
  /** One-click unsubscribe for broadcast mail; absent: never added. */
  unsubscribe?: UnsubscribeSettings;
  /** Open and click tracking; absent: never added. */
  tracking?: TrackingSettings;
  /** The current bounce secret (AcceptDeps.bounceSecret). */
  bounceSecret?: () => Buffer | null;
  /** AcceptDeps.splitForReturnPath. */
  splitForReturnPath?: boolean;
  maxMessageSize: number;
  onQueued?: AcceptDeps['onQueued'];
  /** This node's id (AcceptDeps.nodeId). */
  nodeId?: string;
}

export interface SubmissionContext {
  key: ApiKeyRecord;
  clientIp: string;
  /** The request came over TLS: "with HTTPS" in the Received field. */
  secure: boolean;
  /** Its TLS session: named in the Received field like SMTP's STARTTLS. */
  tls: { protocol: string; cipher: string } | null;
}

export interface Queued {
  id: string;
  /**
   * One id per recipient: `<queue id>.<index>` in envelope order (the store's recipient ids are
   * internal); status 'suppressed' (with the entry's reason and date) for one not sent.
   * `message_id`: the stored message the recipient is in — `id`, or its own copy's id when the
   * message was split (then the recipient id is `<copy id>.<index in the copy>`).
   */
  recipients: { email: string; id: string; message_id: string; status: 'queued' | 'suppressed'; suppression?: { reason: string; since: string } }[];
}

/** One stored message of a submission: the whole message, or one recipient's copy of a split one. */
interface Copy { message: NewMessage; writer: BodyWriter }

export const recipientId = (messageId: string, index: number) => `${messageId}.${index}`;

const tooLargeSplit = (max: number) => new ApiError(413, 'message_too_large',
  `One copy per recipient (tracking or one-click unsubscribe) would be larger than ${max} bytes in all; send fewer recipients per message`);

const NONE: ReadonlyMap<string, Suppression> = new Map();

/** How long an account's list of sending domains is reused (like QuotaService's account limits). */
const DOMAIN_CACHE_MS = 5000;

export class HttpSubmission {
  /** The lookup itself (in flight or done), so that requests arriving while it runs share it. */
  readonly #domains = new Map<string, { names: Promise<string[]>; at: number }>();
  constructor(private readonly deps: HttpSubmissionDeps) {}

  async submit(msg: PreparedMessage, ctx: SubmissionContext): Promise<Queued> {
    await this.#authorise(msg, ctx.key.account);
    // Nothing to charge (no limits on the account or the key, as the quota reads them now) and a
    // store that gains by it (PostgreSQL: QueueStore.suppressionLookupInPut): the suppression lookup
    // is made by the put itself, in its transaction (one store round trip instead of two). Otherwise the charge needs the count first: the lookup (a store round trip)
    // runs while this thread composes the message, awaited before anything is charged or written.
    const folded = await this.#canFold(ctx.key);
    const lookup = folded ? null : this.#suppressed(msg, ctx.key.account);
    lookup?.catch(() => undefined); // a refusal while composing must not leave it unhandled
    const id = newQueueId(this.deps.clock.now());
    const now = this.deps.clock.now();
    const built = await msg.build(id, this.deps.hostname, now);
    const max = this.deps.maxMessageSize;
    if (built.length > max) throw tooLarge(max);
    const split = this.#isSplit(msg, built) || (this.deps.splitForReturnPath === true && await this.#splitForReturnPath(msg));
    const groups = split ? recipientGroups(msg.recipients) : [msg.recipients];
    if (groups.length === 1) msg.release(); // built for good: the lookup and the put are awaited without the request's content
    if (groups.length > 1 && built.length * groups.length > max) throw tooLargeSplit(max);
    let suppressed: Map<string, Suppression>;
    const copies: Copy[] = [];
    if (folded && groups.length === 1) {
      // The second half (Received, DKIM, body, put) waits for the check phase of this loop turn, as
      // the unfolded path's waits for the lookup's answer: under load the main thread then runs the
      // first half of every request that arrived in the poll phase, then the second half of each,
      // instead of each request whole. Whole, a request cost the main thread more CPU: on PostgreSQL
      // this turn gives 0.89x main-thread CPU a message and 1.10x msg/s at 50 clients; on SQLite,
      // dropping the lookup's round without such a turn cost 1.1-1.45x (bench/README.md, twentieth session, api20).
      await nextTurn();
      try {
        copies.push(await this.#copy(id, msg.recipients, false, built, msg, ctx, now, NONE));
        suppressed = await this.#storeChecking(copies[0]!);
      } catch (err) {
        await copies[0]?.writer.abort().catch(() => undefined);
        throw err;
      }
    } else {
      suppressed = await (lookup ?? this.#suppressed(msg, ctx.key.account));
      await this.#charge(msg.recipients.length - suppressed.size, ctx.key);
      try {
        for (const [i, recipients] of groups.entries()) {
          const copyId = i === 0 ? id : newQueueId(now);
          // Built again per copy: its Message-ID names the copy (a complaint report giving only that finds its recipient).
          const own = i === 0 ? built : await msg.build(copyId, this.deps.hostname, now);
          copies.push(await this.#copy(copyId, recipients, groups.length > 1, own, msg, ctx, now, suppressed));
        }
        if (groups.length > 1 && copies.reduce((n, c) => n + c.message.size, 0) > max) throw tooLargeSplit(max);
        msg.release();
        await this.#store(copies);
      } catch (err) {
        await Promise.all(copies.map((c) => c.writer.abort().catch(() => undefined)));
        throw err;
      }
    }
    const ids = copies.map((c) => c.message.id);
    this.deps.logger.info({
      event: 'http.accepted', id, ...(ids.length > 1 ? { ids, split: ids.length } : {}), account: ctx.key.account, keyId: ctx.key.id, from: msg.mailFrom,
      rcpts: msg.recipients.length, size: copies.reduce((n, c) => n + c.message.size, 0), notBefore: msg.notBefore,
    }, 'message accepted');
    for (const queued of ids) {
      try { this.deps.onQueued?.(queued, { listener: 'http', account: ctx.key.account }); } catch (err) {
        this.deps.logger.error({ event: 'http.on_queued_failed', id: queued, err: (err as Error)?.message }, 'onQueued callback failed');
      }
    }
    return { id, recipients: msg.recipients.map((email) => this.#entry(email, copies, suppressed)) };
  }

  /** A recipient's entry in the answer: its id in the stored message it is in, and its status. */
  #entry(email: string, copies: Copy[], suppressed: Map<string, Suppression>): Queued['recipients'][number] {
    const copy = copies.find((c) => c.message.recipients.includes(email))!.message;
    const ref = { email, id: recipientId(copy.id, copy.recipients.indexOf(email)), message_id: copy.id };
    const s = suppressed.get(suppressionKey(email));
    return s ? { ...ref, status: 'suppressed', suppression: { reason: s.reason, since: new Date(s.createdAt).toISOString() } } : { ...ref, status: 'queued' };
  }

  /** Per-recipient content (tracking, one-click unsubscribe) for a message with several recipients. */
  #isSplit(msg: PreparedMessage, built: Buffer): boolean {
    const end = built.indexOf('\r\n\r\n');
    const personal = trackingWanted(this.deps.tracking, { stream: msg.meta.stream, asked: msg.track ?? null }) !== null
      || (msg.listUnsubscribe !== false && unsubscribeWanted(this.deps.unsubscribe, {
        stream: msg.meta.stream, requested: msg.listUnsubscribe === true, header: end < 0 ? built : built.subarray(0, end + 2),
      }));
    return isSplit(personal, msg.recipients);
  }

  /** AcceptDeps.splitForReturnPath: a VERP return path per copy (recipient-split.ts). */
  async #splitForReturnPath(msg: PreparedMessage): Promise<boolean> {
    const aligned = this.deps.bounceSecret?.() ? await this.deps.signer?.alignedDomain(authorDomain({ domains: msg.fromDomains, fields: 1 })) : null;
    return splitsForReturnPath(msg.mailFrom, msg.recipients, aligned);
  }

  /**
   * Message `id` to `recipients` (all of them, or one recipient's copy when `split`: no Bcc field),
   * tracked, with its Received and List-Unsubscribe fields, signed, its body written.
   */
  async #copy(id: string, recipients: string[], split: boolean, built: Buffer, msg: PreparedMessage, ctx: SubmissionContext, now: number,
    suppressed: ReadonlyMap<string, Suppression>): Promise<Copy> {
    const body = await this.#track(id, recipients, msg, ctx.key.account, split ? messageWithoutBcc(built) : built);
    const received = Buffer.from(receivedHeader({
      helo: null, ip: ctx.clientIp, hostname: this.deps.hostname, protocol: ctx.secure ? 'HTTPS' : 'HTTP', id, date: new Date(now), tls: ctx.tls,
    }), 'latin1');
    const unsubscribe = await this.#unsubscribeFields(id, recipients, msg, ctx.key.account, body);
    const message = Buffer.concat([received, Buffer.from(unsubscribe, 'latin1'), body]);
    const signed = await this.#sign(message, msg, id);
    const writer = await this.#writeBody(id, message);
    const headerPrefix = signed?.headers ?? '';
    const returnPath = alignedReturnPath(id, msg.mailFrom, signed, this.deps.bounceLabel, this.deps.bounceSecret?.() ?? null);
    const mine = new Map([...suppressed].filter(([key]) => recipients.some((r) => suppressionKey(r) === key)));
    return {
      writer,
      message: {
        id, mailFrom: msg.mailFrom, recipients, size: writer.bytesWritten + Buffer.byteLength(headerPrefix),
        ...(headerPrefix ? { headerPrefix } : {}), ...(returnPath ? { returnPath } : {}),
        receivedAt: now, isBounce: false, route: 'relay',
        origin: { listener: 'http', clientIp: ctx.clientIp, user: ctx.key.id, apiKey: ctx.key.id, ...(this.deps.nodeId ? { node: this.deps.nodeId } : {}) },
        ...subjectField(message),
        meta: { account: ctx.key.account, ...msg.meta },
        ...(msg.notBefore !== null ? { notBefore: msg.notBefore } : {}),
        ...(mine.size > 0 ? { suppressed: suppressedAmong(recipients, mine) } : {}),
        ...withDsn(dsnFor(msg.dsn, recipients)),
        ...transportField(transportNeeds({ mailFrom: msg.mailFrom, header: message, requireTls: msg.requireTls === true })),
      },
    };
  }

  /** The message with open/click tracking when the request or the configured defaults ask for it (before signing). */
  async #track(id: string, recipients: string[], msg: PreparedMessage, account: string, body: Buffer): Promise<Buffer> {
    const settings = this.deps.tracking;
    const plan = settings ? trackingPlan(settings, { id, account, recipients, stream: msg.meta.stream, asked: msg.track ?? null }) : null;
    return plan ? applyTracking(settings!, plan, body) : body;
  }

  /** One-click unsubscribe fields (before signing), unless the request said list_unsubscribe: false. */
  async #unsubscribeFields(id: string, recipients: string[], msg: PreparedMessage, account: string, body: Buffer): Promise<string> {
    if (!this.deps.unsubscribe || msg.listUnsubscribe === false) return '';
    const end = body.indexOf('\r\n\r\n');
    try {
      return await unsubscribeFields(this.deps.unsubscribe, {
        id, account, recipients, stream: msg.meta.stream, requested: msg.listUnsubscribe === true,
        fromDomain: authorDomain({ domains: msg.fromDomains, fields: 1 }), header: end < 0 ? body : body.subarray(0, end + 2),
      });
    } catch (err) {
      this.#storeFailed('unsubscribe', err, id);
    }
  }

  /** The recipients the account's suppression list stops for this message's stream. */
  async #suppressed(msg: PreparedMessage, account: string): Promise<Map<string, Suppression>> {
    try {
      return await this.deps.store.findSuppressions(account, msg.meta.stream, msg.recipients);
    } catch (err) {
      this.#storeFailed('findSuppressions', err);
    }
  }

  /**
   * The envelope sender and every originator domain (From, and Sender/Resent-From/Resent-Sender
   * when present) must be a sending domain of the account (or a subdomain of one).
   */
  async #authorise(msg: PreparedMessage, account: string): Promise<void> {
    const owned = await this.#sendingDomains(account);
    const covered = (d: string | null) => d !== null && owned.some((o) => isWithinDomain(d, o));
    const senderDomain = normalizeDomain(msg.mailFrom.slice(msg.mailFrom.lastIndexOf('@') + 1));
    const howToAdd = (d: string | null) => (d === null ? 'the sender domain is not a sending domain of this account'
      : `${d} is not a sending domain of account ${account}; add it with: postlane domains add ${d}${account === DEFAULT_ACCOUNT ? '' : ` --account ${account}`}`);
    const refused = msg.originators.filter((o) => !covered(o.domain))
      .map((o) => ({ path: o.path, message: o.field === 'From' ? howToAdd(o.domain) : `the ${o.field} domain is not a sending domain of this account` }));
    if (refused.length) throw invalidFields(refused, `The sender is not authorised: ${refused[0]!.message}`);
    if (!covered(senderDomain)) {
      throw invalidFields([{ path: 'envelope.from', message: howToAdd(senderDomain) }], `The sender is not authorised: ${howToAdd(senderDomain)}`);
    }
  }

  /**
   * The account's sending domains, cached a few seconds (the CLI changes them from another process).
   * One lookup at a time per account: when the entry expires under load, the requests that arrive
   * before the store answers wait for the same lookup instead of each making its own (at 50 clients
   * on PostgreSQL, up to 50 listDomains, each two queries, every DOMAIN_CACHE_MS; bench/README.md,
   * thirteenth session, api13). Names only (listDomainNames): listDomains read every DKIM key of
   * the cluster, private keys included, to list them. A failed lookup is not kept: the next request asks again.
   */
  async #sendingDomains(account: string): Promise<string[]> {
    const now = this.deps.clock.now();
    let hit = this.#domains.get(account);
    if (!hit || now - hit.at >= DOMAIN_CACHE_MS) {
      const names = this.deps.store.listDomainNames(account);
      hit = { names, at: now };
      this.#domains.set(account, hit);
      names.catch(() => { if (this.#domains.get(account)?.names === names) this.#domains.delete(account); });
    }
    try {
      return await hit.names;
    } catch (err) {
      this.#storeFailed('listDomainNames', err);
    }
  }

  async #charge(recipients: number, key: ApiKeyRecord): Promise<void> {
    if (recipients === 0) return;
    let decision;
    try {
      decision = await this.deps.quota.charge({ account: key.account, principal: { kind: 'key', id: key.id, limits: key.limits } }, recipients);
    } catch (err) {
      this.#storeFailed('consumeQuota', err);
    }
    if (decision.ok) return;
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    const whose = decision.key.startsWith('account:') ? 'Account' : 'API key';
    throw new ApiError(429, 'rate_limited', `${whose} limit of ${decision.limit} recipients per ${decision.window} reached`, [], seconds);
  }

  async #sign(message: Buffer, msg: PreparedMessage, id: string): Promise<SignOutcome | null> {
    if (!this.deps.signer) return null;
    try {
      // One From: field (compose.ts checked): its single address's domain, or null when several.
      return await this.deps.signer.sign(message, authorDomain({ domains: msg.fromDomains, fields: 1 }), { id });
    } catch (err) {
      this.deps.logger.error({ event: 'dkim.sign_failed', id, err: (err as Error)?.message }, 'DKIM signing failed');
      throw queueUnavailable();
    }
  }

  /** The body of message `id`, finished (durable with the put that follows); a failure is 503. */
  async #writeBody(id: string, message: Buffer): Promise<BodyWriter> {
    let writer: BodyWriter | undefined;
    try {
      writer = this.deps.store.createBody(id);
      await writer.write(message);
      await writer.finish();
      return writer;
    } catch (err) {
      await writer?.abort().catch(() => undefined);
      this.#storeFailed('createBody', err, id);
    }
  }

  /** Whether the suppression lookup goes into the put: the store gains by it, and nothing is charged for this key. */
  async #canFold(key: ApiKeyRecord): Promise<boolean> {
    const { quota, store } = this.deps;
    if (!quota.limited || !store.suppressionLookupInPut) return false;
    try {
      return !(await quota.limited({ account: key.account, principal: { kind: 'key', id: key.id, limits: key.limits } }));
    } catch (err) {
      this.#storeFailed('consumeQuota', err); // the account's limits could not be read: as a failed charge
    }
  }

  /** One commit: the message, its recipients on the suppression list found and marked in the same transaction. */
  async #storeChecking(copy: Copy): Promise<Map<string, Suppression>> {
    try {
      return await this.deps.store.putCheckingSuppressions(copy.message);
    } catch (err) {
      this.#storeFailed('putCheckingSuppressions', err, copy.message.id);
    }
  }

  /** One commit: put for a single message, putMany for the copies of a split one (all or none). */
  async #store(copies: Copy[]): Promise<void> {
    const { store } = this.deps;
    try {
      if (copies.length === 1) await store.put(copies[0]!.message);
      else await store.putMany(copies.map((c) => c.message));
    } catch (err) {
      this.#storeFailed(copies.length === 1 ? 'put' : 'putMany', err, copies[0]!.message.id);
    }
  }

  #storeFailed(op: string, err: unknown, id?: string): never {
    this.deps.logger.error({ event: 'http.queue_failed', op, id, err: (err as Error)?.message ?? String(err) }, 'could not queue a message');
    throw queueUnavailable();
  }
}

/** Resolves in the check phase of the event loop's current turn (setImmediate). */
const nextTurn = (): Promise<void> => new Promise((resolve) => { setImmediate(resolve); });

const withDsn = (dsn: MessageDsn | undefined): { dsn?: MessageDsn } => (dsn ? { dsn } : {});

/** The stored message's decoded Subject (message/subject.ts), when it has one. */
function subjectField(message: Buffer): { subject?: string } {
  const end = message.indexOf('\r\n\r\n');
  const subject = subjectOf(end < 0 ? message : message.subarray(0, end + 2));
  return subject !== null ? { subject } : {};
}
