// The delivery thread: owns the outbound SMTP sessions (ConnectionPool) and runs each transaction
// (SmtpAttempt, unchanged) for the main thread's scheduler (client.ts). It loads only the SMTP
// side (nodemailer's SMTPConnection, the TLS judgement), no store and no logger: the message's
// bytes come from the main side (sent with the run, or pulled: the store is the main thread's),
// and what is worth logging goes back in the results. An exception here ends the thread; the main
// side fails its attempts in flight as temporary (the messages stay queued) and starts another.
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { QueueUnavailableError } from '../../errors.js';
import type { Config } from '../../config/schema.js';
import { SmtpAttempt } from '../attempt.js';
import { ConnectionPool, type SessionTarget } from '../connection-pool.js';
import type { FromThread, ReadFailure, ThreadData, ToThread } from './protocol.js';
import { releaseEveryMessage } from '../smtp-connection.js';

releaseEveryMessage();

const port = parentPort!;
const data = workerData as ThreadData;
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
      const req = nextReq++;
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

/**
 * The thread's heap, kept near what it holds. V8 lets an old generation grow by at least 8 MB
 * past what its last mark-compact kept (MinimumAllocationLimitGrowingStep), whatever
 * --heap-growing-percent says; here that is most of the heap (~6 MB live, peaks of 13-14 MB, all
 * promoted garbage of finished transactions). So the thread collects itself once its heap holds
 * GC_SLACK more than after its last collection, checked every second: a full collection of this
 * small heap takes a few ms of this thread, not the main thread's.
 */
const GC_SLACK = 3 * 1024 * 1024;
v8.setFlagsFromString('--expose-gc'); // makes `gc` in contexts made from now on: this one only
const collect = runInNewContext('gc') as () => void;
let floor = v8.getHeapStatistics().used_heap_size;
setInterval(() => {
  if (v8.getHeapStatistics().used_heap_size < floor + GC_SLACK) return;
  collect();
  floor = v8.getHeapStatistics().used_heap_size;
}, 1000).unref();
