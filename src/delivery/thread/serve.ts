// The delivery side of the delivery thread: owns the outbound SMTP sessions (ConnectionPool) and
// runs each transaction (SmtpAttempt, unchanged) for the main thread's scheduler (client.ts), over
// one port. It runs in a thread of its own (worker.ts) or in the SQLite store's thread (its
// worker.ts hosts it: no second isolate, and the message is read there, from SQLite, without
// crossing the main thread). It loads only the SMTP side (nodemailer's SMTPConnection, the TLS
// judgement), no logger: the message's bytes come from the main side (sent with the run, or
// pulled), or from `readLocal` when hosted by the store, and what is worth logging goes back in the
// results. An exception here ends the thread; the main side fails its attempts in flight as
// temporary (the messages stay queued) and starts another.
import { Readable } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';
import { NotFoundError, QueueUnavailableError } from '../../errors.js';
import { joinMessage } from '../../store/whole-body.js';
import type { Config } from '../../config/schema.js';
import { SmtpAttempt } from '../attempt.js';
import { ConnectionPool, type SessionTarget } from '../connection-pool.js';
import type { FromThread, ReadFailure, ThreadData, ToThread } from './protocol.js';
import { releaseEveryMessage } from '../smtp-connection.js';

/** The store's own read of a message (SQLite's bodySource, in the store's thread): the bytes, 'file'/'inline' (read through the main side), null (finished or unknown). */
export type LocalReader = (id: string) => { prefix: string | null; body: Uint8Array | 'file' | 'inline' | null };

/** Serves the main side's DeliveryThread on `port` until the port closes. */
export function serveDelivery(port: Pick<MessagePort, 'postMessage' | 'on'>, data: ThreadData, readLocal?: LocalReader): void {
  releaseEveryMessage();

  /** Messages per session of each destination, as the main side's last run for it said (null: the default). */
  const maxMessages = new Map<string, number | null>();

  let outbox: FromThread[] = [];
  let transfer: ArrayBuffer[] = [];
  const flush = () => {
    const out = outbox;
    const t = transfer;
    outbox = [];
    transfer = [];
    port.postMessage(out, t);
  };
  function post(m: FromThread): void {
    if (outbox.length === 0) setImmediate(flush);
    outbox.push(m);
  }

  const pool = new ConnectionPool({
    config: data.config as Pick<Config, 'hostname' | 'delivery'>,
    ca: data.ca,
    onSessionClosed: (destination) => post({ t: 'closed', destination, unused: pool.unusedSessions(destination) }),
    maxMessagesOf: (destination) => maxMessages.get(destination) ?? null,
  });

  const runs = new Map<number, AbortController>();
  /** readMessage requests waiting for the main side. */
  const reads = new Map<number, { resolve: (b: Buffer | Readable) => void; reject: (e: Error) => void }>();
  let nextReq = 1;
  /** Streams pulled from the main side: ids > 0 opened there (a readMessage's stream), < 0 here (readBody). */
  const streams = new Map<number, PulledBody>();
  let nextOwnStream = -1;

  const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  const asError = (f: ReadFailure): Error => (f.unavailable ? new QueueUnavailableError(f.message) : Object.assign(new Error(f.message), f.code ? { code: f.code } : {}));

  /** A body read chunk by chunk from the main side: one pull outstanding at a time (the socket's pace). */
  class PulledBody extends Readable {
    #open: string | undefined;
    constructor(readonly id: number, open?: string) {
      super();
      this.#open = open;
      streams.set(id, this);
    }
    override _read(): void {
      const open = this.#open;
      this.#open = undefined;
      post({ t: 'pull', stream: this.id, ...(open !== undefined ? { open } : {}) });
    }
    override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
      if (streams.delete(this.id)) post({ t: 'destroy', stream: this.id });
      cb(err);
    }
    answer(m: Extract<ToThread, { t: 'chunk' }>): void {
      if (m.error) { streams.delete(this.id); this.destroy(asError(m.error)); return; }
      if (m.end) { streams.delete(this.id); this.push(null); return; }
      this.push(asBuffer(m.data!));
    }
  }

  /** The store as one run's SmtpAttempt sees it: the body sent with the run first, then pulls. */
  function storeFor(run: Extract<ToThread, { t: 'run' }>) {
    let body: Buffer | Readable | undefined = run.body ? asBuffer(run.body) : run.stream !== undefined ? new PulledBody(run.stream) : undefined;
    return {
      readMessage(messageId: string): Promise<Buffer | Readable> {
        if (body) { const b = body; body = undefined; return Promise.resolve(b); }
        if (readLocal) {
          try {
            const local = readLocal(messageId);
            if (local.body === null) return Promise.reject(new NotFoundError(`body of message ${messageId}`));
            if (local.body instanceof Uint8Array) return Promise.resolve(joinMessage(local.prefix, asBuffer(local.body)));
          } catch (err) {
            return Promise.reject(err as Error);
          }
        }
        const req = nextReq++; // a spool file (or no local store): the main side's store streams it
        return new Promise((resolve, reject) => { reads.set(req, { resolve, reject }); post({ t: 'readMessage', req, messageId }); });
      },
      readBody(messageId: string): Readable {
        if (body instanceof Readable) { const b = body; body = undefined; return b; }
        return new PulledBody(nextOwnStream--, messageId);
      },
      /** A stream sent with the run and never read: given back. */
      done(): void { if (body instanceof Readable) body.destroy(); body = undefined; },
    };
  }

  async function run(m: Extract<ToThread, { t: 'run' }>): Promise<void> {
    const controller = new AbortController();
    runs.set(m.id, controller);
    const destination = m.message.destination ?? '';
    maxMessages.set(destination, m.maxMessages);
    // DANE's TLSA data arrive as Uint8Arrays: Buffers again, as dane.ts compares them.
    const target: SessionTarget = { ...m.target, security: { ...m.target.security, tlsa: m.target.security.tlsa.map((r) => ({ ...r, data: asBuffer(r.data) })) } };
    const store = storeFor(m);
    try {
      const a = await new SmtpAttempt({ pool, store }).run(m.message, target, controller.signal);
      post({ t: 'done', id: m.id, tls: a.tls, hostFailure: a.hostFailure, recipients: a.recipients, ...(a.nextHopDsn !== undefined ? { nextHopDsn: a.nextHopDsn } : {}),
        ...(a.queueUnavailable ? { queueUnavailable: (a.queueUnavailable as Error).message ?? String(a.queueUnavailable) } : {}), unused: pool.unusedSessions(destination) });
    } finally {
      runs.delete(m.id);
      store.done();
    }
  }

  function onMessage(m: ToThread): void {
    switch (m.t) {
      case 'run': void run(m); break;
      case 'abort': runs.get(m.id)?.abort(); break;
      case 'body': {
        const w = reads.get(m.req);
        if (!w) break;
        reads.delete(m.req);
        if (m.error) w.reject(asError(m.error));
        else if (m.stream !== undefined) w.resolve(new PulledBody(m.stream));
        else w.resolve(asBuffer(m.data!));
        break;
      }
      case 'chunk': streams.get(m.stream)?.answer(m); break;
      case 'closeAll': pool.closeAll(); break;
      case 'drain': void pool.drain(m.ms).then(() => post({ t: 'drained', req: m.req })); break;
    }
  }

  port.on('message', (batch: ToThread[]) => { for (const m of batch) onMessage(m); });
  port.on('close', () => pool.closeAll()); // the main side is gone: no session is kept for it
}
