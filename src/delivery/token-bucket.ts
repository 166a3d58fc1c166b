// A token bucket on an injected clock: `rate` tokens per `windowMs`, holding at most a tenth of
// the window's tokens (at least one), so a limit of 600 a minute sends 60 at once, then 10 a
// second, and never more than the limit plus that burst in any window. A factor (0, 1] scales
// rate and burst while a provider recovers from a throttle (shaper.ts).
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(readonly rate: number, readonly windowMs: number, now: number) {
    this.#tokens = this.#capacity(1);
    this.#at = now;
  }

  #capacity(factor: number): number { return Math.max(1, Math.ceil((this.rate * factor) / 10)); }

  #refill(now: number, factor: number): void {
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.#capacity(factor), this.#tokens + (elapsed * this.rate * factor) / this.windowMs);
    this.#at = now;
  }

  /** 0 if a token is available now (not taken), else the ms until one is. */
  waitMs(now: number, factor = 1): number {
    this.#refill(now, factor);
    if (this.#tokens >= 1) return 0;
    return Math.ceil(((1 - this.#tokens) * this.windowMs) / (this.rate * factor));
  }

  /** Take one token (call after waitMs returned 0). */
  take(now: number, factor = 1): void {
    this.#refill(now, factor);
    this.#tokens -= 1;
  }
}
