// Owns the per-account budgets of units per minute kept in this process (per node): a fixed
// one-minute window per account. POST /v1/verify counts addresses with it (verify/verify-batch.ts),
// the heavy API routes count rows (http/heavy-work.ts).
import type { Clock } from '../clock.js';

export class MinuteBudget {
  readonly #windows = new Map<string, { start: number; used: number }>();
  constructor(readonly perMinute: number, private readonly clock: Clock) {}

  /** Charges n units or, over the budget, charges nothing and returns the seconds until the window ends. */
  take(account: string, n: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const w = this.#window(account);
    if (w.used + n > this.perMinute) return { ok: false, retryAfterSeconds: this.#retryAfter(w.start) };
    w.used += n;
    return { ok: true };
  }

  /** Charges n units already spent (a read whose size was known only after it), even beyond the budget. */
  charge(account: string, n: number): void {
    this.#window(account).used += n;
  }

  /** The seconds until the window ends when the account's budget is used up; null while some is left. */
  spent(account: string): number | null {
    const w = this.#window(account);
    return w.used >= this.perMinute ? this.#retryAfter(w.start) : null;
  }

  #window(account: string): { start: number; used: number } {
    const now = this.clock.now();
    const start = now - (now % 60_000);
    let w = this.#windows.get(account);
    if (!w || w.start !== start) {
      if (this.#windows.size > 10_000) this.#windows.clear();
      w = { start, used: 0 };
      this.#windows.set(account, w);
    }
    return w;
  }

  #retryAfter(start: number): number {
    return Math.max(1, Math.ceil((start + 60_000 - this.clock.now()) / 1000));
  }
}
