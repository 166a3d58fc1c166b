// The registry of Postlane's typed errors. Each has a stable code (listed in docs/errors.md)
// and, where it reaches an SMTP client, the reply it maps to.
import type { Reply } from './message/reply.js';

export class RelayError extends Error {
  constructor(readonly code: string, message: string, readonly reply?: Reply, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid configuration; `key` names the (first) offending key path, `problems` every one found. */
export class ConfigError extends RelayError {
  readonly problems: { key: string; message: string }[];
  constructor(message: string, readonly key: string, problems?: { key: string; message: string }[]) {
    super('ERR_CONFIG_INVALID', message);
    this.problems = problems ?? [{ key, message }];
  }
}

/** The queue could not store a message: answered 451 4.3.0, never 250. */
export class QueueWriteError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QUEUE_WRITE', message, { code: 451, enhanced: '4.3.0', text: 'Temporary local problem, try again later' }, options);
  }
}

/**
 * The queue database cannot be reached right now (connection refused or lost, connect or statement
 * timeout): nothing was committed, and the same call may succeed later. SMTP answers 451 4.3.0;
 * delivery pauses and retries (docs/operations.md).
 */
export class QueueUnavailableError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QUEUE_UNAVAILABLE', message, { code: 451, enhanced: '4.3.0', text: 'Temporary local problem, try again later' }, options);
  }
}

/** True for a QueueUnavailableError (by class: a library may rewrite `code` on an error it passes on, as nodemailer does with stream errors). */
export const isQueueUnavailable = (err: unknown): boolean =>
  err instanceof QueueUnavailableError || (err as { code?: unknown } | null)?.code === 'ERR_QUEUE_UNAVAILABLE';

/** An unknown queue id was named by an admin command. */
export class NotFoundError extends RelayError {
  constructor(what: string) { super('ERR_NOT_FOUND', `${what} not found`); }
}

/** A delivery attempt failed; unknown causes count as temporary. */
export class DeliveryError extends RelayError {
  constructor(readonly kind: 'temporary' | 'permanent', message: string, readonly remote?: { code: number; enhanced?: string; text: string; host?: string }, options?: { cause?: unknown }) {
    super(kind === 'temporary' ? 'ERR_DELIVERY_TEMPORARY' : 'ERR_DELIVERY_PERMANENT', message, undefined, options);
  }
}
