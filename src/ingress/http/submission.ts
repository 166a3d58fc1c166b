// Owns queuing one message submitted over the HTTP API, as a list of named steps (like
// accept.ts does for SMTP DATA): authorise the sender domains for the key's account → charge the
// quota → compose → add the Received field → DKIM-sign (MessageSigner, once, before storing) →
// createBody/put (one commit: nothing is half-queued) → wake the scheduler. Every refusal is an
// ApiError; a store failure is 503 with Retry-After, never a 2xx.
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { QuotaService } from '../../accounts/quota.js';
import { authorDomain } from '../../domains/header-from.js';
import { isWithinDomain, normalizeDomain } from '../../domains/domain-name.js';
import type { MessageSigner, SignOutcome } from '../../domains/message-signer.js';
import { newQueueId } from '../../message/ids.js';
import { DEFAULT_ACCOUNT, type ApiKeyRecord } from '../../queue/platform-store.js';
import type { QueueStore } from '../../queue/store.js';
import { alignedReturnPath, receivedHeader } from '../trace-fields.js';
import { ApiError, invalidFields, queueUnavailable } from './api-error.js';
import { tooLarge, type PreparedMessage } from './compose.js';
import type { AcceptDeps } from '../accept.js';

export interface HttpSubmissionDeps {
  store: QueueStore;
  hostname: string;
  clock: Clock;
  logger: Logger;
  quota: Pick<QuotaService, 'charge'>;
  signer?: MessageSigner;
  bounceLabel?: string | null;
  maxMessageSize: number;
  onQueued?: AcceptDeps['onQueued'];
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
  /** One id per recipient: `<queue id>.<index>` in envelope order (the store's recipient ids are internal). */
  recipients: { email: string; id: string }[];
}

export const recipientId = (messageId: string, index: number) => `${messageId}.${index}`;

/** How long an account's list of sending domains is reused (like QuotaService's account limits). */
const DOMAIN_CACHE_MS = 5000;

export class HttpSubmission {
  readonly #domains = new Map<string, { names: string[]; at: number }>();
  constructor(private readonly deps: HttpSubmissionDeps) {}

  async submit(msg: PreparedMessage, ctx: SubmissionContext): Promise<Queued> {
    await this.#authorise(msg, ctx.key.account);
    await this.#charge(msg, ctx.key);
    const id = newQueueId(this.deps.clock.now());
    const now = this.deps.clock.now();
    const body = await msg.build(id, this.deps.hostname, now);
    if (body.length > this.deps.maxMessageSize) throw tooLarge(this.deps.maxMessageSize);
    const received = Buffer.from(receivedHeader({
      helo: null, ip: ctx.clientIp, hostname: this.deps.hostname, protocol: ctx.secure ? 'HTTPS' : 'HTTP', id, date: new Date(now), tls: ctx.tls,
    }), 'latin1');
    const message = Buffer.concat([received, body]);
    const signed = await this.#sign(message, msg, id);
    await this.#store(id, message, signed, msg, ctx, now);
    this.deps.logger.info({
      event: 'http.accepted', id, account: ctx.key.account, keyId: ctx.key.id, from: msg.mailFrom, rcpts: msg.recipients.length,
      size: message.length, notBefore: msg.notBefore,
    }, 'message accepted');
    try { this.deps.onQueued?.(id, { listener: 'http', account: ctx.key.account }); } catch (err) {
      this.deps.logger.error({ event: 'http.on_queued_failed', id, err: (err as Error)?.message }, 'onQueued callback failed');
    }
    return { id, recipients: msg.recipients.map((email, i) => ({ email, id: recipientId(id, i) })) };
  }

  /** The envelope sender and every From: domain must be a sending domain of the account (or a subdomain). */
  async #authorise(msg: PreparedMessage, account: string): Promise<void> {
    const owned = await this.#sendingDomains(account);
    const covered = (d: string | null) => d !== null && owned.some((o) => isWithinDomain(d, o));
    const senderDomain = normalizeDomain(msg.mailFrom.slice(msg.mailFrom.lastIndexOf('@') + 1));
    const howToAdd = (d: string | null) => (d === null ? 'the sender domain is not a sending domain of this account'
      : `${d} is not a sending domain of account ${account}; add it with: postlane domains add ${d}${account === DEFAULT_ACCOUNT ? '' : ` --account ${account}`}`);
    const uncovered = msg.fromDomains.find((d) => !covered(d));
    if (uncovered !== undefined) {
      throw invalidFields([{ path: 'from', message: howToAdd(uncovered) }], `The sender is not authorised: ${howToAdd(uncovered)}`);
    }
    if (!covered(senderDomain)) {
      throw invalidFields([{ path: 'envelope.from', message: howToAdd(senderDomain) }], `The sender is not authorised: ${howToAdd(senderDomain)}`);
    }
  }

  /** The account's sending domains, cached a few seconds (the CLI changes them from another process). */
  async #sendingDomains(account: string): Promise<string[]> {
    const now = this.deps.clock.now();
    const hit = this.#domains.get(account);
    if (hit && now - hit.at < DOMAIN_CACHE_MS) return hit.names;
    try {
      const names = (await this.deps.store.listDomains(account)).map((d) => d.name);
      this.#domains.set(account, { names, at: now });
      return names;
    } catch (err) {
      this.#storeFailed('listDomains', err);
    }
  }

  async #charge(msg: PreparedMessage, key: ApiKeyRecord): Promise<void> {
    let decision;
    try {
      decision = await this.deps.quota.charge({ account: key.account, principal: { kind: 'key', id: key.id, limits: key.limits } }, msg.recipients.length);
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

  async #store(id: string, message: Buffer, signed: SignOutcome | null, msg: PreparedMessage, ctx: SubmissionContext, now: number): Promise<void> {
    const { store } = this.deps;
    const headerPrefix = signed?.headers ?? '';
    const returnPath = alignedReturnPath(id, msg.mailFrom, signed, this.deps.bounceLabel);
    let writer;
    try {
      writer = store.createBody(id);
      await writer.write(message);
      await writer.finish();
      await store.put({
        id, mailFrom: msg.mailFrom, recipients: msg.recipients, size: writer.bytesWritten + Buffer.byteLength(headerPrefix),
        ...(headerPrefix ? { headerPrefix } : {}), ...(returnPath ? { returnPath } : {}),
        receivedAt: now, isBounce: false, route: 'relay',
        origin: { listener: 'http', clientIp: ctx.clientIp, user: ctx.key.id },
        meta: { account: ctx.key.account, ...msg.meta },
        ...(msg.notBefore !== null ? { notBefore: msg.notBefore } : {}),
      });
    } catch (err) {
      await writer?.abort().catch(() => undefined);
      this.#storeFailed('put', err, id);
    }
  }

  #storeFailed(op: string, err: unknown, id?: string): never {
    this.deps.logger.error({ event: 'http.queue_failed', op, id, err: (err as Error)?.message ?? String(err) }, 'could not queue a message');
    throw queueUnavailable();
  }
}
