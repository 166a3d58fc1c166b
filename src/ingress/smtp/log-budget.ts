// Owns the per-session budget of repetitive log lines. A client can make one session produce
// thousands of identical refusals (a list of 10,000 recipients against a quota, a script looping
// on a bad command); each used to be a log line. The first LINES_PER_EVENT lines of each event
// are written as before; later ones are only counted, and the session's end writes one
// `smtp.log_suppressed` line with the counts. Pure bookkeeping: the caller still builds and
// writes the lines it is allowed.
import type { Logger } from 'pino';

/** Lines of one event written per session before the rest are only counted. */
export const LINES_PER_EVENT = 10;

export class SessionLogBudget {
  readonly #written = new Map<string, number>();
  readonly #suppressed = new Map<string, number>();

  constructor(private readonly perEvent = LINES_PER_EVENT) {}

  /** True if a line of `event` may be written now; false: it was counted instead. */
  allow(event: string): boolean {
    const n = this.#written.get(event) ?? 0;
    if (n < this.perEvent) {
      this.#written.set(event, n + 1);
      return true;
    }
    this.#suppressed.set(event, (this.#suppressed.get(event) ?? 0) + 1);
    return false;
  }

  /** Lines counted but not written so far, by event. */
  get suppressed(): Readonly<Record<string, number>> { return Object.fromEntries(this.#suppressed); }

  /** At the session's end: one `smtp.log_suppressed` line if anything was suppressed, then the counts restart. */
  report(logger: Logger, fields: Record<string, unknown>): void {
    if (this.#suppressed.size === 0) return;
    const suppressed = this.suppressed;
    const total = Object.values(suppressed).reduce((a, b) => a + b, 0);
    logger.info({ event: 'smtp.log_suppressed', ...fields, suppressed, total, perEvent: this.perEvent },
      'repetitive log lines of this session were counted, not written');
    this.#suppressed.clear();
  }
}
