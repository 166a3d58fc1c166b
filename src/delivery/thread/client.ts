// The main-thread end of delivery's outbound side (serve.ts): an Outbound (../outbound.ts) whose
// attempts run off the main thread. The scheduler, claims, results, events, metrics and shaping
// stay here; the other side owns the ConnectionPool and its sockets, so the main thread no longer
// runs delivery's SMTP exchanges (reads, replies, TLS, timers) between the hops of ingress's sessions.
// - Where: hosted by the store's own thread when the store offers it (SQLite's database thread,
//   QueueStore.hostDeliveryThread: no second V8 isolate, ~10 MB less than a thread of its own,
//   and a message held in the database is read there, from SQLite, without crossing this thread;
//   the store then keeps no copy of large bodies for delivery); else a thread of its own
//   (worker.ts: PostgreSQL).
// - The message's bytes, on a thread of its own: read here before the run is posted
//   (store.readMessage, up to 256 KiB, as SmtpAttempt would read it) and transferred with it;
//   anything else the attempt reads (a retry on a fresh session, a spool file's stream) is pulled
//   from here, a request or a chunk at a time.
// - Session counts for the destination slots: each result carries its destination's unused
//   sessions, and the other side says when a session closed (ConnectionPool's onSessionClosed).
// - Messages either way are batched per event-loop turn (one postMessage per turn).
// - A thread that dies (an exception there, or terminated): every attempt in flight on it ends as a
//   temporary host failure (the message stays queued and is retried), its sessions count as
//   closed, the death is logged (delivery.thread_died), and the next attempt starts a new one
//   (hosted: the store's thread died, and with it the store: the relay stops, main.ts).
import { Worker, type MessagePort } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import { isQueueUnavailable, QueueUnavailableError } from '../../errors.js';
import type { AttemptMessage, HostAttempt } from '../attempt.js';
import type { Verdict } from '../classify.js';
import type { SessionTarget } from '../connection-pool.js';
import type { Outbound, OutboundFactory, OutboundHooks } from '../outbound.js';
import type { FromThread, ReadFailure, ThreadData, ToThread } from './protocol.js';

/** As attempt.ts WHOLE_READ_MAX: what SmtpAttempt reads whole (readMessage) before MAIL FROM. */
const WHOLE_READ_MAX = 256 * 1024;
const DIED: Verdict = { kind: 'temporary', status: '4.3.0', reason: 'the delivery thread stopped during the attempt' };

interface Run { resolve: (a: HostAttempt) => void; target: SessionTarget; destination: string; signal?: AbortSignal; onAbort?: () => void }

/** Bytes that can be transferred: the Uint8Array's own whole ArrayBuffer, else a copy (a slice of a shared pool). */
function transferable(buf: Uint8Array, transfer: ArrayBuffer[]): Uint8Array {
  const own = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer && !transfer.includes(buf.buffer);
  const out = own ? buf : new Uint8Array(buf);
  transfer.push(out.buffer as ArrayBuffer);
  return out;
}

const failure = (err: unknown): ReadFailure => ({
  message: String((err as Error)?.message ?? err), unavailable: isQueueUnavailable(err),
  ...(typeof (err as { code?: unknown })?.code === 'string' ? { code: (err as { code: string }).code } : {}),
});

export class DeliveryThread implements Outbound {
  readonly #h: OutboundHooks;
  /** May the store's thread host the outbound side (hostDeliveryThread)? Else a thread of its own. */
  readonly #mayHost: boolean;
  /** The thread of its own, or the port to the side the store's thread hosts. */
  #worker: Worker | MessagePort | null = null;
  /** #worker is the store's thread: it reads the messages itself (no read here before a run). */
  #hosted = false;
  readonly #runs = new Map<number, Run>();
  readonly #drains = new Map<number, () => void>();
  /** Streams this side reads for the thread, by id (> 0 made here, < 0 named by the thread). */
  readonly #streams = new Map<number, { readable: Readable; iter: AsyncIterator<Buffer> }>();
  readonly #unused = new Map<string, number>();
  #next = 1;
  #outbox: ToThread[] = [];
  #transfer: ArrayBuffer[] = [];
  #closing = false;
  readonly attempt = { run: (message: AttemptMessage, target: SessionTarget, signal?: AbortSignal) => this.#run(message, target, signal) };

  constructor(h: OutboundHooks, opts: { mayHost?: boolean } = {}) {
    this.#h = h;
    this.#mayHost = opts.mayHost ?? true;
  }

  /** An OutboundFactory for DeliveryScheduler's `outbound`: hosted by the store's thread when it can, else a thread of its own. */
  static readonly factory: OutboundFactory = (h) => new DeliveryThread(h);
  /** Always a thread of its own. */
  static readonly ownThread: OutboundFactory = (h) => new DeliveryThread(h, { mayHost: false });

  unusedSessions(destination: string): number { return this.#unused.get(destination) ?? 0; }

  closeAll(): void { if (this.#worker) this.#post({ t: 'closeAll' }); }

  drain(ms: number): Promise<void> {
    if (!this.#worker) return Promise.resolve();
    const req = this.#next++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms + 500); // the thread answers within ms; never wait on a stuck one
      function done() { clearTimeout(timer); resolve(); }
      this.#drains.set(req, () => { this.#drains.delete(req); done(); });
      this.#ref();
      this.#post({ t: 'drain', req, ms });
    }).finally(() => { this.#drains.delete(req); this.#unrefIfIdle(); });
  }

  async close(): Promise<void> {
    this.#closing = true;
    const w = this.#worker;
    if (w instanceof Worker) await w.terminate();
    else if (w) { w.close(); this.#died(w, 'closed'); }
  }

  /** The thread of its own (tests): terminate() it to see a thread die; null when none, or hosted by the store. */
  get worker(): Worker | null { return this.#worker instanceof Worker ? this.#worker : null; }
  /** The outbound side runs in the store's thread. */
  get hosted(): boolean { return this.#hosted; }

  async #run(message: AttemptMessage, target: SessionTarget, signal?: AbortSignal): Promise<HostAttempt> {
    const destination = message.destination ?? '';
    let body: Buffer | undefined;
    let stream: number | undefined;
    this.#thread();
    if (message.size <= WHOLE_READ_MAX && !this.#hosted) {
      try {
        const read = await this.#h.store.readMessage(message.messageId);
        if (Buffer.isBuffer(read)) body = read;
        else stream = this.#adopt(this.#next++, read);
      } catch {
        // the attempt reads it again in the thread and judges the failure there, as SmtpAttempt does
      }
    }
    const id = this.#next++;
    return new Promise<HostAttempt>((resolve) => {
      const run: Run = { resolve, target, destination, signal };
      this.#runs.set(id, run);
      this.#ref();
      const transfer = this.#transfer;
      this.#post({ t: 'run', id, message, target, maxMessages: this.#h.maxMessagesOf(destination),
        ...(body ? { body: transferable(body, transfer) } : {}), ...(stream !== undefined ? { stream } : {}) });
      if (signal) {
        run.onAbort = () => this.#post({ t: 'abort', id });
        if (signal.aborted) run.onAbort();
        else signal.addEventListener('abort', run.onAbort, { once: true });
      }
    });
  }

  #settle(id: number, a: HostAttempt): void {
    const run = this.#runs.get(id);
    if (!run) return;
    this.#runs.delete(id);
    if (run.onAbort) run.signal?.removeEventListener('abort', run.onAbort);
    this.#unrefIfIdle();
    run.resolve(a);
  }

  #ref(): void { this.#worker?.ref(); }
  #unrefIfIdle(): void { if (this.#runs.size === 0 && this.#drains.size === 0) this.#worker?.unref(); }

  #adopt(id: number, readable: Readable): number {
    this.#streams.set(id, { readable, iter: readable[Symbol.asyncIterator]() as AsyncIterator<Buffer> });
    return id;
  }

  #post(m: ToThread): void {
    if (this.#outbox.length === 0) setImmediate(this.#flush);
    this.#outbox.push(m);
  }

  readonly #flush = (): void => {
    const out = this.#outbox;
    const transfer = this.#transfer;
    this.#outbox = [];
    this.#transfer = [];
    if (out.length === 0) return;
    const w = this.#thread();
    w.postMessage(out, transfer);
  };

  /** The live thread (or hosted side), started if none is. */
  #thread(): Worker | MessagePort {
    if (this.#worker) return this.#worker;
    const { config, ca } = this.#h;
    const data: ThreadData = { config: { hostname: config.hostname, delivery: config.delivery }, ca };
    const port = this.#mayHost ? this.#h.store.hostDeliveryThread?.(data) ?? null : null;
    if (port) {
      this.#worker = port;
      this.#hosted = true;
      if (this.#runs.size === 0 && this.#drains.size === 0) port.unref();
      port.on('message', (batch: FromThread[]) => { for (const m of batch) this.#onMessage(m); });
      port.on('close', () => this.#died(port, 'the store\'s thread closed the delivery port'));
      return port;
    }
    this.#hosted = false;
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
    this.#worker = w;
    if (this.#runs.size === 0 && this.#drains.size === 0) w.unref();
    w.on('message', (batch: FromThread[]) => { for (const m of batch) this.#onMessage(m); });
    w.on('error', (err) => this.#died(w, `the delivery thread crashed: ${err.message}`));
    w.on('exit', (code) => this.#died(w, `the delivery thread exited (code ${code})`));
    return w;
  }

  #onMessage(m: FromThread): void {
    switch (m.t) {
      case 'done': {
        const run = this.#runs.get(m.id);
        if (!run) return;
        this.#unused.set(run.destination, m.unused);
        if (m.unused === 0) this.#unused.delete(run.destination);
        this.#settle(m.id, { target: run.target, tls: m.tls, hostFailure: m.hostFailure, recipients: m.recipients,
          ...(m.nextHopDsn !== undefined ? { nextHopDsn: m.nextHopDsn } : {}),
          ...(m.queueUnavailable !== undefined ? { queueUnavailable: new QueueUnavailableError(m.queueUnavailable) } : {}) });
        return;
      }
      case 'closed':
        if (m.unused > 0) this.#unused.set(m.destination, m.unused); else this.#unused.delete(m.destination);
        this.#h.onSessionClosed(m.destination);
        return;
      case 'readMessage':
        this.#h.store.readMessage(m.messageId).then((read) => {
          if (Buffer.isBuffer(read)) this.#post({ t: 'body', req: m.req, data: transferable(read, this.#transfer) });
          else this.#post({ t: 'body', req: m.req, stream: this.#adopt(this.#next++, read) });
        }, (err: unknown) => this.#post({ t: 'body', req: m.req, error: failure(err) }));
        return;
      case 'pull': {
        if (m.open !== undefined) {
          try { this.#adopt(m.stream, this.#h.store.readBody(m.open)); } catch (err) { this.#post({ t: 'chunk', stream: m.stream, error: failure(err) }); return; }
        }
        const s = this.#streams.get(m.stream);
        if (!s) return;
        s.iter.next().then((r) => {
          if (!this.#streams.has(m.stream)) return;
          if (r.done) { this.#streams.delete(m.stream); this.#post({ t: 'chunk', stream: m.stream, end: true }); }
          else this.#post({ t: 'chunk', stream: m.stream, data: transferable(r.value, this.#transfer) });
        }, (err: unknown) => {
          this.#streams.delete(m.stream);
          this.#post({ t: 'chunk', stream: m.stream, error: failure(err) });
        });
        return;
      }
      case 'destroy': {
        const s = this.#streams.get(m.stream);
        this.#streams.delete(m.stream);
        s?.readable.destroy();
        return;
      }
      case 'drained': this.#drains.get(m.req)?.(); return;
    }
  }

  /** The thread ended: its attempts fail as temporary, its sessions are gone; the next attempt starts another. */
  #died(w: Worker | MessagePort, reason: string): void {
    if (this.#worker !== w) return;
    this.#worker = null;
    this.#outbox = []; // for the dead thread: its runs end here
    this.#transfer = [];
    if (!this.#closing) this.#h.logger.error({ event: 'delivery.thread_died', reason, inFlight: this.#runs.size }, 'the delivery thread died; its attempts in flight are deferred and a new thread takes the next ones');
    for (const [id, run] of [...this.#runs]) this.#settle(id, { target: run.target, tls: null, hostFailure: DIED, recipients: [] });
    for (const drained of [...this.#drains.values()]) drained();
    for (const s of this.#streams.values()) s.readable.destroy();
    this.#streams.clear();
    const destinations = [...this.#unused.keys()];
    this.#unused.clear();
    for (const d of destinations) this.#h.onSessionClosed(d);
  }
}
