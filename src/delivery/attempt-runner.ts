// What the scheduler needs from outbound SMTP: one transaction per call (SmtpAttempt.run: plain
// data in and out, never throws) and the few session-pool calls it makes (unused sessions of a
// destination for its slots, close and drain at stop). Two implementations:
//   - InProcessAttempts (in-process-attempts.ts, loaded at the first attempt: LazyInProcessAttempts): the pool and the attempts on the calling thread (PostgreSQL, tests
//     with a simulated clock, anything without the SQLite store's thread);
//   - RemoteAttempts (store/sqlite/remote-attempts.ts): the same pool and attempts run in the
//     SQLite store's database thread (thread-attempts.ts), which also reads the body there; the
//     main thread pays one request and one answer per transaction (docs/design/delivery.md,
//     "Where the SMTP transactions run").
import type { AttemptMessage, HostAttempt } from './attempt.js';
import type { PoolOptions, SessionTarget } from './connection-pool.js';
import type { QueueStore } from '../store/store.js';
import type { InProcessAttempts } from './in-process-attempts.js';

export interface AttemptRunner {
  run(message: AttemptMessage, target: SessionTarget, signal?: AbortSignal): Promise<HostAttempt>;
  /** Sessions of `destination` not handed out (idle, or closing until their socket closed). */
  unusedSessions(destination: string): number;
  /** Close every idle session; later releases close immediately. */
  closeAll(): void;
  /** Wait (at most ms) until every connection has closed. */
  drain(ms: number): Promise<void>;
}

/** What the scheduler gives a runner: the pool's settings and hooks. */
export interface AttemptRunnerOptions {
  config: PoolOptions['config'];
  /** delivery.tlsCaFile's PEM. */
  ca?: string;
  onSessionClosed: (destination: string) => void;
  maxMessagesOf: (destination: string) => number | null;
}

/** A store that can run the attempts itself, in its own thread (the SQLite store). */
export interface AttemptRunnerSource {
  /** A runner whose attempts run in the store's thread, or null when it cannot. */
  attemptRunner(opts: AttemptRunnerOptions): AttemptRunner | null;
}

export const canRunAttempts = (store: unknown): store is AttemptRunnerSource =>
  typeof (store as Partial<AttemptRunnerSource> | null)?.attemptRunner === 'function';

/**
 * InProcessAttempts, loaded at the first attempt: a relay whose transactions run in the database
 * thread, a CLI process or a relay that never delivers, never loads nodemailer's SMTP client on
 * the main thread.
 */
export class LazyInProcessAttempts implements AttemptRunner {
  #loaded: InProcessAttempts | null = null;
  #loading: Promise<InProcessAttempts> | null = null;
  #closed = false;
  constructor(private readonly opts: PoolOptions & { store: Pick<QueueStore, 'readMessage' | 'readBody'> }) {}

  async run(message: AttemptMessage, target: SessionTarget, signal?: AbortSignal): Promise<HostAttempt> {
    const runner = this.#loaded ?? await (this.#loading ??= import('./in-process-attempts.js').then(({ InProcessAttempts }) => {
      this.#loaded = new InProcessAttempts(this.opts);
      if (this.#closed) this.#loaded.closeAll();
      return this.#loaded;
    }));
    return runner.run(message, target, signal);
  }
  unusedSessions(destination: string): number { return this.#loaded?.unusedSessions(destination) ?? 0; }
  closeAll(): void { this.#closed = true; this.#loaded?.closeAll(); }
  async drain(ms: number): Promise<void> { await this.#loaded?.drain(ms); }
}
