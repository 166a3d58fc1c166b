// The outbound SMTP transactions on the calling thread (attempt-runner.ts): PostgreSQL, tests with
// a simulated clock, anything without the SQLite store's database thread.
import type { AttemptMessage, HostAttempt } from './attempt.js';
import { SmtpAttempt } from './attempt.js';
import type { AttemptRunner } from './attempt-runner.js';
import { ConnectionPool, type PoolOptions, type SessionTarget } from './connection-pool.js';
import type { QueueStore } from '../store/store.js';

export class InProcessAttempts implements AttemptRunner {
  readonly pool: ConnectionPool;
  readonly #attempt: SmtpAttempt;
  constructor(opts: PoolOptions & { store: Pick<QueueStore, 'readMessage' | 'readBody'> }) {
    this.pool = new ConnectionPool(opts);
    this.#attempt = new SmtpAttempt({ pool: this.pool, store: opts.store });
  }
  run(message: AttemptMessage, target: SessionTarget, signal?: AbortSignal): Promise<HostAttempt> { return this.#attempt.run(message, target, signal); }
  unusedSessions(destination: string): number { return this.pool.unusedSessions(destination); }
  closeAll(): void { this.pool.closeAll(); }
  drain(ms: number): Promise<void> { return this.pool.drain(ms); }
}
