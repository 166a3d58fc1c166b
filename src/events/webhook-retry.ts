// The webhook retry policy, pure: after a failed POST, when to try the same events again, when to
// give up on them (webhooks.retryFor after the oldest event), and when a webhook that keeps
// failing is disabled (webhooks.disableAfter of continuous failure). The dispatcher
// (webhooks.ts) owns the timers and the store calls; this owns only the arithmetic.

/** Delays after the 1st, 2nd, … failure; the last one repeats (the cap). */
export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [
  5_000, 15_000, 60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000,
];
/** Each delay is multiplied by a value in [1 - JITTER, 1 + JITTER] so failing receivers are not hit in lockstep. */
export const WEBHOOK_RETRY_JITTER = 0.2;

/** Delay before the next try after `failures` failed attempts (1-based; below 1 counts as 1). `random` in [0,1): 0.5 = no jitter. */
export function webhookRetryDelayMs(failures: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(failures) || 1);
  const base = WEBHOOK_RETRY_DELAYS_MS[Math.min(n, WEBHOOK_RETRY_DELAYS_MS.length) - 1]!;
  return Math.max(0, Math.round(base * (1 + WEBHOOK_RETRY_JITTER * (2 * random() - 1))));
}

export interface RetryInput {
  /** Attempts made before the one that just failed (WebhookBatch.attempts). */
  attempts: number;
  /** When the oldest event of the batch became due (WebhookBatch.firstDueAt). */
  firstDueAt: number;
  now: number;
  /** webhooks.retryFor, ms. */
  retryForMs: number;
  random?: () => number;
}

/**
 * When to retry the batch that just failed, or null to give up on its events: the retry horizon
 * (firstDueAt + retryFor) has passed. The last retry is moved to the horizon itself, so events are
 * tried for the whole of retryFor and never dropped early.
 */
export function nextWebhookRetryAt(i: RetryInput): number | null {
  const horizon = i.firstDueAt + i.retryForMs;
  if (i.now >= horizon) return null;
  return Math.min(i.now + webhookRetryDelayMs(i.attempts + 1, i.random), horizon);
}

/** True when a webhook failing continuously since `failingSince` must be disabled at `now`. */
export function isDueForDisable(failingSince: number, now: number, disableAfterMs: number): boolean {
  return now - failingSince >= disableAfterMs;
}

/**
 * Failures further apart than this are not one continuous run (the webhook had nothing to send in
 * between): twice the longest retry delay with its jitter.
 */
export const MAX_FAILURE_GAP_MS = 2 * WEBHOOK_RETRY_DELAYS_MS.at(-1)! * (1 + WEBHOOK_RETRY_JITTER);

/**
 * The start of the current run of failures, from a webhook's attempt log (any order): the oldest
 * failed attempt after the newest successful one, going back only while failures follow each
 * other within MAX_FAILURE_GAP_MS; `now` when the log shows no recent failure.
 */
export function failingSinceFrom(attempts: readonly { at: number; ok: boolean }[], now: number): number {
  let since = now;
  for (const a of [...attempts].sort((x, y) => y.at - x.at)) {
    if (a.ok || since - a.at > MAX_FAILURE_GAP_MS) break;
    since = Math.min(since, a.at);
  }
  return since;
}
