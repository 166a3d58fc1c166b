// Owns delivery of 'local' jobs: mail that arrived on the MX listener for the relay's own domains.
// The body is stored durably as dataDir/inbound/<queue id>.eml (written to a temporary name,
// fsynced, renamed, directory fsynced); every recipient is then delivered with response "local".
// Before it is stored, the message is checked for SPF, DKIM, DMARC and ARC (inbound-auth.ts) and
// an Authentication-Results header is prepended; the verdicts are logged (inbound.authenticated).
// Once stored, a report among them (a late bounce, a complaint) is turned into events by
// events/inbound-reports.ts; if that fails (the store is unreachable) the job fails and is retried.
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../events/log.js';
import type { DeliveryJob, QueueStore, RecipientOutcome } from '../store/store.js';
import { verifyInbound, type DnsResolveFn } from './inbound-auth.js';
import type { InboundReports } from '../events/inbound-reports.js';

type LocalStore = Pick<QueueStore, 'readBody' | 'getMessage'>;
export interface InboundAuthOptions { hostname: string; resolve: DnsResolveFn }

export class LocalDelivery {
  readonly #dir: string;
  readonly #store: LocalStore;
  readonly #logger: Logger;
  readonly #auth: InboundAuthOptions | null;
  readonly #reports: InboundReports | null;

  /** Without `auth` the message is stored as received (no SPF/DKIM/DMARC/ARC verdict); without `reports`, reports are not read. */
  constructor(opts: { dataDir: string; store: LocalStore; logger: Logger; auth?: InboundAuthOptions; reports?: InboundReports }) {
    this.#dir = path.join(opts.dataDir, 'inbound');
    this.#store = opts.store;
    this.#logger = opts.logger;
    this.#auth = opts.auth ?? null;
    this.#reports = opts.reports ?? null;
  }

  /** Path of the stored copy of a message. */
  pathOf(messageId: string): string { return path.join(this.#dir, `${messageId}.eml`); }

  async deliver(job: DeliveryJob): Promise<RecipientOutcome[]> {
    await fsp.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const final = this.pathOf(job.messageId);
    const tmp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
    let body: Buffer;
    try {
      body = await this.#copyBody(job, tmp);
      await fsp.rename(tmp, final);
      await syncDir(this.#dir);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    const rcpts = job.recipients.map((r) => r.address);
    this.#logger.info({ event: 'inbound.stored', id: job.messageId, rcpts }, 'inbound message stored');
    await this.#reports?.process(job.messageId, { mailFrom: job.mailFrom, recipients: rcpts }, body);
    return job.recipients.map((r) => ({ rcptId: r.id, status: 'delivered', response: 'local' }));
  }

  /** Writes the stored copy; returns the message as received. */
  async #copyBody(job: DeliveryJob, file: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.#store.readBody(job.messageId)) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const prefix = await this.#authenticate(job, body);
    const fh = await fsp.open(file, 'wx', 0o600);
    try {
      await fh.write(prefix);
      await fh.write(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return body;
  }

  /** The Authentication-Results block for this message; '' when verification is off or failed. */
  async #authenticate(job: DeliveryJob, body: Buffer): Promise<string> {
    if (!this.#auth) return '';
    const origin = (await this.#store.getMessage(job.messageId))?.origin;
    if (!origin) return '';
    try {
      const r = await verifyInbound(body, {
        ip: origin.clientIp, helo: origin.helo ?? '', sender: job.mailFrom, mta: this.#auth.hostname, resolve: this.#auth.resolve,
      });
      this.#logger.info({ event: 'inbound.authenticated', id: job.messageId, ip: origin.clientIp, ...r.summary }, 'inbound message verified');
      return r.headers;
    } catch (err) {
      this.#logger.warn({ event: 'inbound.auth_failed', id: job.messageId, err: (err as Error).message }, 'inbound verification failed; stored without it');
      return '';
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}
