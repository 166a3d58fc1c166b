// The main-thread end of delivery's SMTP transactions when they run in the database thread
// (delivery/thread-attempts.ts): an AttemptRunner whose run() is one `attempt` request through the
// store's WorkerClient, answered when the transaction has ended (the thread reads the body itself).
// The scheduler's signal becomes an `abortAttempt` request; close and drain at stop are requests
// too. The count of unused sessions per destination (the scheduler's slots) is mirrored from the
// answers and the thread's `sessionClosed` events (posted in order on the same port, so the last
// one received is the thread's latest state). A request the thread cannot answer because it died
// (its fail-stop) is a temporary failure with `queueUnavailable` set: nothing is recorded as
// delivered, the message stays queued, and the relay exits as it does for any dead thread.
import type { AttemptMessage, HostAttempt } from '../../delivery/attempt.js';
import type { AttemptRunner, AttemptRunnerOptions } from '../../delivery/attempt-runner.js';
import type { SessionTarget } from '../../delivery/connection-pool.js';
import type { AttemptAnswer, AttemptRequest, ThreadAttemptSetup } from '../../delivery/thread-attempts.js';
import { QueueUnavailableError } from '../../errors.js';
import type { WorkerClient } from './worker-client.js';

export class RemoteAttempts implements AttemptRunner {
  readonly #unused = new Map<string, number>();
  #nextToken = 1;

  constructor(private readonly client: WorkerClient, private readonly opts: AttemptRunnerOptions) {
    client.onEvent = (e) => {
      if (e.event !== 'sessionClosed') return;
      this.#mirror(e.destination, e.unused);
      opts.onSessionClosed(e.destination);
    };
    const d = opts.config.delivery;
    // only what the pool reads (plain data); the thread loads nothing until the first attempt
    const setup = {
      config: { hostname: opts.config.hostname, delivery: { connectTimeout: d.connectTimeout, commandTimeout: d.commandTimeout,
        idleConnectionTimeout: d.idleConnectionTimeout, maxMessagesPerConnection: d.maxMessagesPerConnection } },
      ...(opts.ca ? { ca: opts.ca } : {}),
    } as ThreadAttemptSetup;
    void client.call('attemptSetup', [setup]).catch(() => undefined);
  }

  async run(message: AttemptMessage, target: SessionTarget, signal?: AbortSignal): Promise<HostAttempt> {
    const token = this.#nextToken++;
    const destination = message.destination ?? '';
    const onAbort = () => void this.client.call('abortAttempt', [token]).catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const req: AttemptRequest = { token, message, target, maxMessages: this.opts.maxMessagesOf(destination), ...(signal?.aborted ? { aborted: true } : {}) };
      const { attempt, unused } = await this.client.call('attempt', [req]) as AttemptAnswer;
      this.#mirror(destination, unused);
      const { queueUnavailable, ...rest } = attempt;
      return queueUnavailable === undefined ? rest : { ...rest, queueUnavailable: new QueueUnavailableError(queueUnavailable) };
    } catch (err) {
      const f = err as { kind?: string; message?: string };
      const reason = String(f?.message ?? err);
      return {
        target, tls: null, recipients: [], hostFailure: { kind: 'temporary', status: '4.3.0', reason: `delivery thread: ${reason}` },
        // the thread died (fail-stop): as an unreadable queue, the job is given back and nothing is counted
        ...(f?.kind === 'dead' ? { queueUnavailable: new QueueUnavailableError(`delivery attempt lost: ${reason}`) } : {}),
      };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  unusedSessions(destination: string): number { return this.#unused.get(destination) ?? 0; }

  closeAll(): void { void this.client.call('closeAttempts', []).catch(() => undefined); }

  async drain(ms: number): Promise<void> { await this.client.call('drainAttempts', [ms]).catch(() => undefined); }

  #mirror(destination: string, unused: number): void {
    if (unused > 0) this.#unused.set(destination, unused);
    else this.#unused.delete(destination);
  }
}
