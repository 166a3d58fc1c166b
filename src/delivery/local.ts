// Owns delivery of 'local' jobs: mail that arrived on the MX listener for the relay's own domains.
// The body is stored durably as dataDir/inbound/<queue id>.eml (written to a temporary name,
// fsynced, renamed, directory fsynced); every recipient is then delivered with response "local".
// (Later: parse bounces and feedback reports found here.)
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../events/log.js';
import type { DeliveryJob, QueueStore, RecipientOutcome } from '../queue/store.js';

export class LocalDelivery {
  readonly #dir: string;
  readonly #store: Pick<QueueStore, 'readBody'>;
  readonly #logger: Logger;

  constructor(opts: { dataDir: string; store: Pick<QueueStore, 'readBody'>; logger: Logger }) {
    this.#dir = path.join(opts.dataDir, 'inbound');
    this.#store = opts.store;
    this.#logger = opts.logger;
  }

  /** Path of the stored copy of a message. */
  pathOf(messageId: string): string { return path.join(this.#dir, `${messageId}.eml`); }

  async deliver(job: DeliveryJob): Promise<RecipientOutcome[]> {
    await fsp.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const final = this.pathOf(job.messageId);
    const tmp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await this.#copyBody(job.messageId, tmp);
      await fsp.rename(tmp, final);
      await syncDir(this.#dir);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    const rcpts = job.recipients.map((r) => r.address);
    this.#logger.info({ event: 'inbound.stored', id: job.messageId, rcpts }, 'inbound message stored');
    return job.recipients.map((r) => ({ rcptId: r.id, status: 'delivered', response: 'local' }));
  }

  async #copyBody(messageId: string, file: string): Promise<void> {
    const fh = await fsp.open(file, 'wx', 0o600);
    try {
      for await (const chunk of this.#store.readBody(messageId)) await fh.write(chunk as Buffer);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}
