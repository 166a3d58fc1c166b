// The outbound SMTP transactions run in the SQLite store's database thread (store/sqlite/worker.ts
// loads this module on the first `attempt` request, so a CLI process or a relay that never
// delivers pays nothing for nodemailer there). The same ConnectionPool and SmtpAttempt as on the
// main thread (attempt-runner.ts InProcessAttempts), with the thread's own reads of the body (the
// reader connection or the spool file: no body crosses threads) and its own wall clock for the
// TLS judgement. Each request carries what the scheduler decides per attempt (the destination's
// messages-per-session cap); each answer, and an unsolicited `sessionClosed` event, carries the
// destination's count of unused sessions, which the main thread mirrors (remote-attempts.ts).
import type { AttemptMessage, HostAttempt } from './attempt.js';
import { SmtpAttempt } from './attempt.js';
import { ConnectionPool, type PoolOptions, type SessionTarget } from './connection-pool.js';
import type { QueueStore } from '../store/store.js';

/** Sent once, before the first attempt: the pool's settings. */
export interface ThreadAttemptSetup { config: PoolOptions['config']; ca?: string }

export interface AttemptRequest {
  /** The main thread's number for this attempt (abortAttempt names it). */
  token: number;
  message: AttemptMessage;
  target: SessionTarget;
  /** Messages per session for the message's destination (the shaper's), null: delivery.maxMessagesPerConnection. */
  maxMessages: number | null;
  /** The scheduler's signal had already aborted when the request was made. */
  aborted?: boolean;
}

/** HostAttempt as it crosses threads: queueUnavailable is the error's message (remade as a QueueUnavailableError). */
export type WireHostAttempt = Omit<HostAttempt, 'queueUnavailable'> & { queueUnavailable?: string };
export interface AttemptAnswer { attempt: WireHostAttempt; unused: number }
/** Posted by the thread, unasked: a session of `destination` has closed; `unused` is the destination's count now. */
export interface SessionClosedEvent { event: 'sessionClosed'; destination: string; unused: number }

export class ThreadAttempts {
  readonly #pool: ConnectionPool;
  readonly #attempt: SmtpAttempt;
  readonly #running = new Map<number, AbortController>();
  readonly #maxMessages = new Map<string, number>();

  constructor(setup: ThreadAttemptSetup, store: Pick<QueueStore, 'readMessage' | 'readBody'>, post: (e: SessionClosedEvent) => void) {
    this.#pool = new ConnectionPool({
      config: setup.config, ca: setup.ca,
      onSessionClosed: (destination) => post({ event: 'sessionClosed', destination, unused: this.#pool.unusedSessions(destination) }),
      maxMessagesOf: (destination) => this.#maxMessages.get(destination) ?? null,
    });
    this.#attempt = new SmtpAttempt({ pool: this.#pool, store });
  }

  async run(req: AttemptRequest): Promise<AttemptAnswer> {
    const destination = req.message.destination ?? '';
    // only shaped providers have their own cap (a bounded set); a domain's is the configured one
    if (req.maxMessages === null) this.#maxMessages.delete(destination); else this.#maxMessages.set(destination, req.maxMessages);
    const controller = new AbortController();
    if (req.aborted) controller.abort();
    this.#running.set(req.token, controller);
    try {
      const a = await this.#attempt.run(req.message, req.target, controller.signal);
      const { queueUnavailable, ...rest } = a;
      const attempt: WireHostAttempt = queueUnavailable ? { ...rest, queueUnavailable: String((queueUnavailable as Error)?.message ?? queueUnavailable) } : rest;
      return { attempt, unused: this.#pool.unusedSessions(destination) };
    } finally {
      this.#running.delete(req.token);
    }
  }

  abort(token: number): void { this.#running.get(token)?.abort(); }
  closeAll(): void { this.#pool.closeAll(); }
  drain(ms: number): Promise<void> { return this.#pool.drain(ms); }
}
