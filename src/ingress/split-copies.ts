// Owns a message held at SMTP acceptance to be split into one copy per recipient
// (recipient-split.ts decides; accept.ts feeds it the body and asks for the copies at the end of
// DATA): for each recipient group in envelope order, a queue id (the first copy keeps the
// transaction's), the copy built by the caller (header fields, prologue, tracking), its DKIM
// signature and its body written; the copies' bytes together within the size limit; one
// store.putMany. On any failure or refusal every body it wrote is removed (the first copy's writer
// belongs to the caller, which aborts it), so nothing is half-queued.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { MessageSigner, SignOutcome } from '../domains/message-signer.js';
import { newQueueId } from '../message/ids.js';
import type { Reply } from '../message/reply.js';
import type { BodyWriter, NewMessage, QueueStore } from '../store/store.js';
import { recipientGroups, splitSizeRefusal, withoutBcc } from './recipient-split.js';

/** What only the caller knows how to build, per copy. */
export interface CopyParts {
  /** The whole copy `id` to `recipients` before signing, from its header block (no Bcc) and the body. */
  build(header: Buffer, body: Buffer, id: string, recipients: string[]): Promise<Buffer>;
  /** The rows of copy `id`, whose body has `bodyBytes`. */
  rows(id: string, recipients: string[], bodyBytes: number, signed: SignOutcome | null): NewMessage;
}

export interface SplitDeps { store: QueueStore; clock: Clock; logger: Logger; signer?: MessageSigner; maxMessageBytes?: number }

export class HeldForSplit {
  readonly #body: Buffer[] = [];
  #writers: BodyWriter[] = [];

  /** `header`: the client's header block (its control fields already taken out); `first`: the body bytes after it. */
  constructor(private readonly header: Buffer, first: Buffer, readonly fromDomain: string | null) {
    this.#body.push(first);
  }

  push(chunk: Buffer): void { this.#body.push(chunk); }

  /** The committed copies; a Reply when they are refused (too big); throws when the store or the signer fails. */
  async store(deps: SplitDeps, first: { id: string; writer: BodyWriter }, recipients: readonly string[], parts: CopyParts): Promise<NewMessage[] | Reply> {
    const groups = recipientGroups(recipients);
    const body = Buffer.concat(this.#body);
    this.#body.length = 0;
    const header = withoutBcc(this.header);
    const estimate = splitSizeRefusal((header.length + body.length) * groups.length, deps.maxMessageBytes);
    if (estimate) return estimate;
    const copies: NewMessage[] = [];
    try {
      for (const [i, group] of groups.entries()) {
        const id = i === 0 ? first.id : newQueueId(deps.clock.now());
        const message = await parts.build(header, body, id, group);
        const signed = await this.#sign(deps, message, id);
        const writer = i === 0 ? first.writer : this.#writer(deps.store, id);
        await writer.write(message);
        await writer.finish();
        copies.push(parts.rows(id, group, writer.bytesWritten, signed));
        const tooBig = splitSizeRefusal(copies.reduce((n, c) => n + c.size, 0), deps.maxMessageBytes);
        if (tooBig) { await this.abort(deps.logger); return tooBig; }
      }
      await deps.store.putMany(copies);
      return copies;
    } catch (err) {
      await this.abort(deps.logger);
      throw err;
    }
  }

  /** Removes the bodies of the copies after the first. Safe to call more than once. */
  async abort(logger: Logger): Promise<void> {
    const writers = this.#writers;
    this.#writers = [];
    for (const w of writers) {
      try { await w.abort(); } catch (err) {
        logger.warn({ event: 'smtp.body_abort_failed', err: (err as Error).message }, 'could not remove an aborted body');
      }
    }
  }

  #writer(store: QueueStore, id: string): BodyWriter {
    const w = store.createBody(id);
    this.#writers.push(w);
    return w;
  }

  async #sign(deps: SplitDeps, message: Buffer, id: string): Promise<SignOutcome | null> {
    if (!deps.signer) return null;
    try {
      return await deps.signer.sign(message, this.fromDomain, { id });
    } catch (err) {
      deps.logger.error({ event: 'dkim.sign_failed', id, err: (err as Error)?.message }, 'DKIM signing failed');
      throw err;
    }
  }
}
